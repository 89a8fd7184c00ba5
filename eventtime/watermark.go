package eventtime

import (
	"fmt"
	"math"
	"time"
)

// Watermarks tracks the event-time watermark of a task that reads several
// inputs (for example partition p of each of five topics), numbered 0..n-1.
//
// The watermark is min over active inputs of (max ts seen − maxOutOfOrder).
// An input is idle, and so does not hold the watermark back, when it was
// marked idle with MarkIdle, or when no record came from it for idleAfter of
// wall time. An input that has seen no record at all counts from the first
// wall time the Watermarks was given (the first Observe or Current): right
// after a start or a restore, the fetch of one topic often returns before
// another's, and letting the first answer advance the watermark alone would
// fire timers before the slower topic's records of the same period arrive,
// so that a replay would not reproduce a clean run. Call MarkIdle for an
// input known to be caught up (empty, or at its end offset) to release it at
// once.
//
// When every input is idle the watermark is the max over inputs that have
// seen data, minus maxOutOfOrder; with no data at all it is math.MinInt64.
// The watermark never goes backwards, even when an idle input wakes up with
// old records.
//
// Wall time only decides idleness: event-time results do not depend on it
// except through that. now may be read once per poll rather than per record.
//
// A Watermarks is not safe for concurrent use: it belongs to one task.
type Watermarks struct {
	inputs    []inputMark
	lag       int64         // maxOutOfOrder in ms
	idleAfter time.Duration // <= 0: wall-clock idleness is off
	start     time.Time     // first wall time seen; counts for silent inputs
	started   bool
	current   int64 // last watermark handed out; only grows
}

// inputMark is what Watermarks knows of one input.
type inputMark struct {
	maxTs  int64     // largest ts observed; valid when seen
	last   time.Time // wall time of the last record
	seen   bool
	marked bool // MarkIdle was called after the last record
	behind bool // the broker held more records than delivered (SetBehind)
}

// NewWatermarks returns the watermark tracker of n inputs. maxOutOfOrder is
// how far behind the largest ts seen a record may still arrive on time
// (millisecond resolution). idleAfter <= 0 disables wall-clock idle
// detection, leaving only MarkIdle. It panics if n < 1 or maxOutOfOrder < 0:
// those are configuration errors that validation should have caught.
func NewWatermarks(n int, maxOutOfOrder, idleAfter time.Duration) *Watermarks {
	if n < 1 {
		panic(fmt.Sprintf("eventtime: NewWatermarks with %d inputs", n))
	}
	if maxOutOfOrder < 0 {
		panic(fmt.Sprintf("eventtime: NewWatermarks with negative maxOutOfOrder %v", maxOutOfOrder))
	}
	return &Watermarks{
		inputs:    make([]inputMark, n),
		lag:       millis(maxOutOfOrder),
		idleAfter: idleAfter,
		current:   math.MinInt64,
	}
}

// Observe records a record with event time ts read from input at wall time
// now. It does not compute the watermark, and only the newest ts counts:
// a caller may observe a batch once, with its newest ts.
func (w *Watermarks) Observe(input int, ts int64, now time.Time) {
	in := &w.inputs[input]
	if !in.seen || ts > in.maxTs {
		in.maxTs = ts
	}
	in.seen = true
	in.last = now
	in.marked = false
	if !w.started {
		w.start, w.started = now, true
	}
}

// MarkIdle declares input caught up: it stops holding the watermark back
// until its next record.
func (w *Watermarks) MarkIdle(input int) {
	w.inputs[input].marked = true
}

// SetBehind tells whether input has records not delivered yet: the
// broker's end offset is past the last record read. An input that is
// behind is not idle after idleAfter of silence but after
// behindIdleFactor times that: in a backlog read on a busy machine one
// topic's fetch can lag seconds behind another's, and calling it idle
// then would let the watermark run past the records still to come and
// make them late. A bound remains, so that an offset the consumer can
// never read (a transaction marker at a partition's end) cannot hold the
// watermark forever.
func (w *Watermarks) SetBehind(input int, behind bool) {
	w.inputs[input].behind = behind
}

// behindIdleFactor: how much longer an input that is behind must be
// silent to count as idle.
const behindIdleFactor = 12

// AdvanceTo moves the watermark forward to at least ts; it never moves it
// back. AdvanceTo(math.MaxInt64) at end of input fires every timer and
// releases everything held; AdvanceTo(saved) restores a checkpointed
// watermark after a restart.
func (w *Watermarks) AdvanceTo(ts int64) {
	if ts > w.current {
		w.current = ts
	}
}

// Current returns the watermark at wall time now. It costs one pass over
// the inputs, so callers typically call it once per polled batch.
func (w *Watermarks) Current(now time.Time) int64 {
	if !w.started {
		w.start, w.started = now, true
	}
	low, anyActive := int64(math.MaxInt64), false
	high, anySeen := int64(math.MinInt64), false
	for i := range w.inputs {
		in := &w.inputs[i]
		if in.seen && (!anySeen || in.maxTs > high) {
			high, anySeen = in.maxTs, true
		}
		if w.idle(in, now) {
			continue
		}
		if !in.seen {
			// A silent input not yet idle: nothing is known about
			// what it may still deliver.
			return w.current
		}
		anyActive = true
		if in.maxTs < low {
			low = in.maxTs
		}
	}
	switch {
	case anyActive:
		w.AdvanceTo(subSat(low, w.lag))
	case anySeen:
		w.AdvanceTo(subSat(high, w.lag))
	}
	return w.current
}

// idle reports whether in may be ignored by the watermark at wall time now.
func (w *Watermarks) idle(in *inputMark, now time.Time) bool {
	if in.marked {
		return true
	}
	if w.idleAfter <= 0 {
		return false
	}
	since := w.start
	if in.seen {
		since = in.last
	}
	if in.behind {
		return now.Sub(since) >= behindIdleFactor*w.idleAfter
	}
	return now.Sub(since) >= w.idleAfter
}
