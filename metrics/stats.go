package metrics

import (
	"iter"
	"maps"
	"unsafe"
)

// Stats describes an engine's state and counts what it did, for the
// pipeline's own metrics. The gauges are computed by walking the state:
// call it at the progress interval, not per event.
type Stats struct {
	OpenSessions   int // log held, not closed
	ClosedSessions int // closed, log held for late events
	Summaries      int // compacted, held for evaluations
	PendingRatings int // evaluations waiting for their session's activity
	AgentCells     int
	ShopCells      int
	ApproxBytes    int64 // sessions, cells, interned names, timers

	Watermark   int64
	FinalBefore int64 // every hour ending at or before this is final

	// Counters since the engine was created.
	Duplicates        uint64 // re-delivered events, ignored
	Filtered          uint64 // removed by §3.6 filters (adverts, listed agents and buyers)
	AfterClose        uint64 // events of a session after its close, ignored
	Late              uint64 // returned as ReasonLate
	Replays           uint64 // out-of-order events that made a session replay its log
	LogArrays         uint64 // log arrays allocated (the rest were recycled)
	OrphanEvaluations uint64 // evaluations whose session never showed up
	LateRatings       uint64 // evaluations beyond rating_window after the close: late (also in Late)
	// Invariant breaches; both must stay 0 (see cells.go).
	FinalCellWrites uint64 // contributions to a final hour, discarded
	NegativeValues  uint64 // negative counts at flush, written as 0
}

// Approximate per-object overheads of Go maps and heap items.
const (
	mapEntryOverhead = 24 // slot slack, control bytes
	timerItemBytes   = int64(unsafe.Sizeof(timerItem{}))
)

// Stats returns the engine's current figures.
func (e *Engine) Stats() Stats {
	st := e.stats
	st.Watermark, st.FinalBefore = e.wm, e.finalBefore
	st.LogArrays = e.logs.allocated
	st.AgentCells, st.ShopCells = len(e.agents), len(e.shops)
	for s := range e.allSessions() {
		switch {
		case s.stub():
			st.PendingRatings++
		case s.compacted:
			st.Summaries++
		case s.d.closed:
			st.ClosedSessions++
		default:
			st.OpenSessions++
		}
		st.ApproxBytes += s.approxBytes()
	}
	st.ApproxBytes += int64(len(e.agents)) * (int64(unsafe.Sizeof(agentCell{})) + int64(unsafe.Sizeof(agentKey{})) + 8 + mapEntryOverhead)
	st.ApproxBytes += int64(len(e.shops)) * (int64(unsafe.Sizeof(shopCell{})) + int64(unsafe.Sizeof(shopKey{})) + 8 + mapEntryOverhead)
	st.ApproxBytes += int64(cap(e.timers.near)+cap(e.timers.far)) * timerItemBytes
	st.ApproxBytes += e.shopIDs.approxBytes() + e.names.approxBytes() + e.logs.idleBytes()
	var facts int
	st.ApproxBytes += e.excl.approxBytes(&facts) // SPEC §3.7 (exclusive_stats.go)
	return st
}

// approxBytes estimates the memory s holds, map entry included.
func (s *session) approxBytes() int64 {
	n := int64(unsafe.Sizeof(*s)) + int64(len(s.key)) + int64(len(s.hdr.buyer)) + 16 + 8 + mapEntryOverhead
	n += int64(cap(s.log)) * int64(unsafe.Sizeof(entry{}))
	if cap(s.assigns) > len(s.assignBuf) {
		n += int64(cap(s.assigns)) * int64(unsafe.Sizeof(assignment{}))
	}
	for i := range s.assigns {
		n += int64(len(s.assigns[i].id))
	}
	if cap(s.pairs) > len(s.pairBuf) {
		n += int64(cap(s.pairs)) * int64(unsafe.Sizeof(pair{}))
	}
	n += int64(cap(s.evals)) * int64(unsafe.Sizeof(evaluation{}))
	for i := range s.evals {
		n += int64(len(s.evals[i].id))
	}
	return n
}

// allSessions iterates over every session held, summaries included.
func (e *Engine) allSessions() iter.Seq[*session] {
	return maps.Values(e.sessions)
}
