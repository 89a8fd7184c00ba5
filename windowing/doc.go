// Package windowing is the event-time machinery of the pipeline:
// watermarks, lateness, event-time timers, a reorder buffer, inactivity
// timeouts and local-time buckets. It knows nothing of what the events
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
// # Lateness
//
// A record with ts < watermark is behind: it missed the order. It is late
// (IsLate) only when ts < watermark − allowed_lateness; between the two it
// still updates whatever state is still held.
//
// # Order
//
// Reorder holds records and releases them when ts < watermark, strictly,
// in (ts, caller's tie-break) order. Strictly, because a record with ts ==
// watermark may still arrive and may sort before one already held: with
// the strict rule the release sequence is the sorted sequence, whatever
// the arrival order, as long as arrivals stay within max_out_of_order.
//
// Timers fire when at <= watermark, in (at, set order). The two rules meet
// exactly: a timer at T fires after every record with ts < T and before
// every record with ts >= T. Advance interleaves a Reorder and a Timers in
// that order; use it rather than Release followed by PopDue.
//
// Inactivity turns a timeout into a timer time: expired when now > last +
// timeout, first at Deadline = last + timeout + 1.
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
// Everything called per record (Watermarks.Observe, IsLate, Timers.Set,
// Reorder.Push and Release, Zone lookups that hit the cache) allocates
// nothing once buffers have grown, and takes no locks: each value belongs
// to one goroutine.
package windowing
