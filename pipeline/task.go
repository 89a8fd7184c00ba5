package pipeline

import (
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/pipeline/operators"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
	"github.com/cspulse/cspulse/windowing"
)

// Engine is the seam between the task and the metric operators: pure
// event-time logic that knows nothing of Kafka or ClickHouse.
type Engine interface {
	// Apply takes one valid event; its []byte fields are only valid during
	// the call. ok=false means the event was rejected (e.g. late with its
	// state gone) and must be dead-lettered with the reason.
	Apply(ev *schemas.Event) (reason schemas.Reason, ok bool)
	// Advance moves event time: timeouts fire, state is finalized.
	Advance(watermark int64)
	// Flush appends every row changed since the last Flush, as full rows.
	Flush(version uint64, out RowSink)
}

// checkpointable is an engine whose state survives restarts. The runner
// requires it when run.state_checkpoints is on.
type checkpointable interface {
	Engine
	operators.Checkpointer
}

// RowSink receives output rows; sinks.Buffer is one.
type RowSink = operators.RowSink

// taskInput is one polled slice of a partition's records.
type taskInput struct {
	topic   schemas.Topic
	input   int // index into the task's inputs, one per topic
	records []*kgo.Record
}

// taskRequest is a control message to a task, answered on done.
type taskRequest struct {
	finish bool        // end of input: advance event time to the end first
	rows   RowSink     // flush changed rows into this
	state  *stateBatch // then, when set, the changed state entries
	// finished is the answer: the task's state is closed (event time
	// advanced to the end, now or before a restore). Valid after done.
	finished *bool
	done     chan struct{}
}

// aheadRecords is how many records a task decodes before applying them.
const aheadRecords = 32

// task owns partition p of every input topic: its decoder, its engine state
// and its watermark. It runs on one goroutine and shares nothing, so the hot
// path takes no locks.
type task struct {
	partition int32
	dec       *schemas.Decoder
	evs       [aheadRecords]schemas.Event // decoded, not yet applied
	errs      [aheadRecords]error
	engine    Engine
	marks     *windowing.Watermarks
	dead      deadLetterSink
	stats     *taskStats

	// next[i] is the offset after the last record of input i; their sum is
	// the row version: it grows with input position and a replay of the
	// same input reproduces it.
	next      [len(schemas.Topics)]int64
	watermark int64 // the last one given to the engine

	inputs   chan taskInput
	requests chan taskRequest
	now      func() time.Time // the clock input idleness is measured on
}

// deadLetterSink is where rejected records go.
type deadLetterSink interface {
	Send(orig *kgo.Record, dl sinks.DeadLetter)
}

func newTask(partition int32, engine Engine, marks *windowing.Watermarks, dead deadLetterSink, stats *taskStats) *task {
	return &task{
		partition: partition,
		dec:       schemas.NewDecoder(),
		engine:    engine,
		marks:     marks,
		dead:      dead,
		stats:     stats,
		watermark: math.MinInt64,
		inputs:    make(chan taskInput, 16),
		requests:  make(chan taskRequest),
		now:       time.Now,
	}
}

// run processes inputs and requests until inputs is closed. Inputs queued
// before a request are processed before it: the runner relies on this to
// know that a flush covers everything it polled.
func (t *task) run() {
	for {
		select {
		case in, ok := <-t.inputs:
			if !ok {
				return
			}
			t.process(in)
		case req := <-t.requests:
			t.drainInputs()
			t.serve(req)
		}
	}
}

func (t *task) drainInputs() {
	for {
		select {
		case in, ok := <-t.inputs:
			if !ok {
				return
			}
			t.process(in)
		default:
			return
		}
	}
}

func (t *task) process(in taskInput) {
	now := t.now()
	var accepted int64
	newest, valid := int64(math.MinInt64), false // the input's watermark needs only the newest ts
	for recs := in.records; len(recs) > 0; {
		n := t.decodeAhead(in.topic, recs)
		for k, rec := range recs[:n] {
			if t.errs[k] == nil {
				newest, valid = max(newest, t.evs[k].TS), true
			}
			if t.applyDecoded(rec, k) {
				accepted++
			}
		}
		t.next[in.input] = recs[n-1].Offset + 1
		recs = recs[n:]
	}
	if valid {
		t.marks.Observe(in.input, newest, now)
	}
	t.stats.events[in.input].Add(accepted)
	t.watermark = t.marks.Current(now)
	t.engine.Advance(t.watermark)
	t.stats.lastProcessed.Store(time.Now().UnixNano())
}

// decodeAhead decodes up to len(t.evs) records into t.evs and returns how
// many. Decoding a run of records before applying them keeps the
// decoder's code, then the engine's, in the instruction cache, instead of
// alternating between the two for every record. It stops after an event
// whose strings were unescaped into the decoder's scratch space, which the
// next decode reuses: that event is applied first.
func (t *task) decodeAhead(topic schemas.Topic, recs []*kgo.Record) int {
	n := min(len(recs), len(t.evs))
	for k, rec := range recs[:n] {
		t.errs[k] = t.dec.Decode(topic, rec.Key, rec.Value, &t.evs[k])
		if t.dec.HoldsScratch() {
			return k + 1
		}
	}
	return n
}

// applyDecoded applies the k-th decoded event; false means dead-lettered.
func (t *task) applyDecoded(rec *kgo.Record, k int) bool {
	if err := t.errs[k]; err != nil {
		t.errs[k] = nil
		t.reject(rec, err)
		return false
	}
	if reason, ok := t.engine.Apply(&t.evs[k]); !ok {
		t.dead.Send(rec, sinks.DeadLetter{Reason: string(reason), Detail: "event is behind the watermark by more than allowed_lateness and its state is gone, or an evaluation more than rating_window after its session's close"})
		t.stats.deadLetter(reason)
		return false
	}
	return true
}

func (t *task) reject(rec *kgo.Record, err error) {
	dl := sinks.DeadLetter{Reason: string(schemas.ReasonNotJSON), Detail: err.Error()}
	if de, ok := err.(*schemas.DecodeError); ok {
		dl = sinks.DeadLetter{Reason: string(de.Reason), Field: de.Field, Detail: de.Detail}
	}
	t.dead.Send(rec, dl)
	t.stats.deadLetter(schemas.Reason(dl.Reason))
}

func (t *task) serve(req taskRequest) {
	if req.finish {
		t.watermark = math.MaxInt64 // saved below: a restored task knows it is finished
		t.marks.AdvanceTo(math.MaxInt64)
		t.engine.Advance(math.MaxInt64)
	}
	if req.rows != nil {
		t.engine.Flush(t.version(), req.rows)
	}
	if req.state != nil {
		// After Flush: the engine's contract is that no row is pending
		// when its state is saved.
		t.engine.(checkpointable).SaveChanged(req.state)
		req.state.Put([]byte(taskKey), taskState{next: t.next, watermark: t.watermark}.encode())
	}
	if st, ok := t.engine.(interface{ Stats() operators.Stats }); ok {
		t.stats.setEngine(t.partition, st.Stats())
	}
	if req.finished != nil {
		*req.finished = t.watermark == math.MaxInt64
	}
	close(req.done)
}

// resume continues from restored state: input positions and watermark.
func (t *task) resume(st taskState) {
	t.next = st.next
	t.watermark = st.watermark
	t.marks.AdvanceTo(st.watermark)
}

func (t *task) version() uint64 {
	var v uint64
	for _, n := range t.next {
		v += uint64(n)
	}
	return v
}
