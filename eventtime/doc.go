// Package eventtime is the event-time machinery of the pipeline:
// watermarks and local-time buckets (hours, days, weeks, months of a
// shop's zone). It knows nothing of what the events
// mean. Every time is an int64 count of milliseconds since the Unix epoch
// (UTC); durations come from configuration as time.Duration and are used
// at millisecond resolution.
//
// # Watermark
//
// A task reads several inputs (partition p of each topic). Records of one
// input arrive roughly in event-time order; across inputs and producers
// they are shuffled, but by at most max_out_of_order. The task's watermark
// is
//
//	min over active inputs of (max ts seen on the input − max_out_of_order)
//
// the claim that every record still to come on time has ts >= watermark.
// An input stops holding the watermark back when it is idle: marked caught
// up (Watermarks.MarkIdle), or silent for idleAfter of wall time. Wall time
// decides nothing else. The watermark only moves forward; AdvanceTo forces
// it, at end of input (math.MaxInt64) or to restore a checkpointed value.
//
// # Lateness and order
//
// A record with ts < watermark is behind: it missed the order; the metric
// core decides what that means for the state it holds (it keeps each
// session's events in a sorted log and holds those ahead of the watermark
// there, so it needs no reorder buffer of its own here).
//
// # Local time
//
// Zone maps instants to local hours, days, weeks and months of one IANA
// zone, and keys each period by the UTC instant it starts at. Hour keys
// are the UTC instants of local hour starts, so they are unique even when
// DST repeats an hour, order like time, and need no zone to compare. Date
// is a local calendar date as days since 1970-01-01. ZoneSet resolves keys
// to zones with a default.
//
// # Cost
//
// Everything called per record (Watermarks.Observe, Zone lookups that hit
// the cache) allocates nothing, and takes no locks: each value belongs to
// one goroutine.
package eventtime
