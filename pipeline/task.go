package pipeline

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/metrics"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
)

// Engine is the seam between the task and the metric operators: pure
// event-time logic that knows nothing of Kafka or ClickHouse
// (metrics.Engine is the one the pipeline runs).
type Engine interface {
	// Apply takes one valid event; its []byte fields are only valid during
	// the call. ok=false means the event was rejected (e.g. late with its
	// state gone) and must be dead-lettered with the reason.
	Apply(ev *schemas.Event) (reason schemas.Reason, ok bool)
	// Advance moves event time: timeouts fire, state is finalized.
	Advance(watermark int64)
	// Checkpoint appends every row changed since the last checkpoint, as
	// full rows carrying version, saves the changed state entries when
	// state is not nil, and returns the alerts raised since the last one.
	Checkpoint(version uint64, rows RowSink, state metrics.StateSink) []schemas.Alert
	// Load and LoadDone restore a fresh engine from a changelog's live
	// entries (any order), before any other call.
	Load(key, value []byte) error
	LoadDone() error
	// Stats are the engine's gauges for /metrics.
	Stats() metrics.Stats
}

// RowSink receives output rows; sinks.Buffer is one.
type RowSink = metrics.RowSink

// taskInput is one polled slice of a partition's records.
type taskInput struct {
	topic   schemas.Topic
	input   int // index into the task's inputs, one per topic
	records []*kgo.Record
	// highWatermark is the partition's end offset as the fetch saw it:
	// past the last record, the input is behind (Watermarks.SetBehind).
	highWatermark int64
}

// taskRequest is a control message to a task: cut a checkpoint into
// out, then close done.
type taskRequest struct {
	finish bool // end of input: advance event time to the end first
	out    *taskCheckpoint
	done   chan struct{}
}

// taskCheckpoint is one task's part of a checkpoint, filled by the task.
type taskCheckpoint struct {
	rows *sinks.Buffer // the changed rows, the restored checkpoint's first
	// state collects the changed state entries, the rows' chunks and the
	// task entry; nil without state checkpoints.
	state *stateBatch
	// dead are the dead letters since the last checkpoint, alerts the
	// alerts (SPEC §4.2). Both go out in the checkpoint's transaction,
	// before its state: a read_committed consumer sees each once.
	dead   []*kgo.Record
	alerts []*kgo.Record
	// finished: the task's state is closed (event time advanced to the
	// end, now or before a restore).
	finished bool
	// empty: nothing changed since the last checkpoint; nothing to write.
	empty bool
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
	marks     *eventtime.Watermarks
	dead      deadLetterSink
	stats     *taskStats

	// next[i] is the offset after the last record of input i.
	next      [len(schemas.Topics)]int64
	watermark int64 // the last one given to the engine
	// saved is the task entry of the last checkpoint: its offsets,
	// watermark, row version and row chunks.
	saved taskState
	// carry holds the rows of the restored checkpoint until the next
	// checkpoint inserts them again (they may not have reached
	// ClickHouse before the crash).
	carry *sinks.Buffer
	// held are evaluations read more than evalHorizon (rating_window, ms)
	// ahead of the watermark, not applied yet (heldevals.go); 0 disables.
	held        heldEvals
	evalHorizon int64

	inputs   chan taskInput
	requests chan taskRequest
	now      func() time.Time // the clock input idleness is measured on
	// wall is the wall clock a record's ts is compared with (SPEC §2
	// max_future); now stands still during pauses, so it cannot be used.
	wall   func() time.Time
	checks InputChecks

	// alertsTopic is where the engine's alerts go; "" drops them.
	alertsTopic string

	// Owned by the runner: the task's checkpoint writer, and alive, which
	// stop ends when the task is stopped.
	writer *checkpointWriter
	alive  context.Context
	stop   context.CancelFunc
}

// deadLetterSink is where rejected records go until a checkpoint takes
// them.
type deadLetterSink interface {
	Send(orig *kgo.Record, dl DeadLetter)
	Take() []*kgo.Record
}

// deadLetterBuffer keeps a task's dead letters for its next checkpoint.
type deadLetterBuffer struct {
	topic string
	recs  []*kgo.Record
}

func (b *deadLetterBuffer) Send(orig *kgo.Record, dl DeadLetter) {
	b.recs = append(b.recs, deadLetterRecord(b.topic, orig, dl))
}

func (b *deadLetterBuffer) Take() []*kgo.Record {
	recs := b.recs
	b.recs = nil
	return recs
}

func newTask(partition int32, engine Engine, checks InputChecks, marks *eventtime.Watermarks, dead deadLetterSink, stats *taskStats) *task {
	if checks.Partitioner == PartitionerNone {
		checks.Partitions = 0
	}
	return &task{
		checks:    checks,
		wall:      time.Now,
		partition: partition,
		dec:       schemas.NewDecoder(),
		engine:    engine,
		marks:     marks,
		dead:      dead,
		stats:     stats,
		watermark: math.MinInt64,
		saved:     taskState{watermark: math.MinInt64},
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
	limit := t.checks.futureLimit(t.wall())
	var accepted int64
	newest, valid := int64(math.MinInt64), false // the input's watermark needs only the newest ts
	for recs := in.records; len(recs) > 0; {
		n := t.decodeAhead(in.topic, recs)
		for k, rec := range recs[:n] {
			if t.errs[k] == nil {
				// SPEC §2: a ts from the future and a record on the wrong
				// partition are out of range; neither moves the watermark.
				if ts := t.evs[k].TS; ts > limit {
					t.errs[k] = futureError(ts, limit, t.checks.MaxFuture)
				} else if t.checks.Partitions > 0 {
					if p := t.checks.Partitioner.Partition(rec.Key, t.checks.Partitions); p != rec.Partition {
						t.errs[k] = wrongPartitionError(rec, p, &t.checks)
					}
				}
			}
			if t.errs[k] == nil {
				newest, valid = max(newest, t.evs[k].TS), true
			}
			if t.holdsEval(in, rec, k) {
				continue
			}
			if t.applyDecoded(rec, k) {
				accepted++
			}
		}
		t.next[in.input] = recs[n-1].Offset + 1
		recs = recs[n:]
	}
	if valid {
		t.marks.Observe(in.input, t.checks.watermarkTS(newest, limit), now)
	}
	t.marks.SetBehind(in.input, in.highWatermark > t.next[in.input])
	t.stats.events[in.input].Add(accepted)
	t.watermark = t.marks.Current(now)
	t.advance()
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
		t.dead.Send(rec, DeadLetter{Reason: string(reason), Detail: "event is behind the watermark by more than allowed_lateness and its state is gone, or an evaluation more than rating_window after its session's close"})
		t.stats.deadLetter(reason)
		return false
	}
	return true
}

func (t *task) reject(rec *kgo.Record, err error) {
	dl := DeadLetter{Reason: string(schemas.ReasonNotJSON), Detail: err.Error()}
	if de, ok := err.(*schemas.DecodeError); ok {
		dl = DeadLetter{Reason: string(de.Reason), Field: de.Field, Detail: de.Detail}
		if de.Reason == schemas.ReasonWrongPartition {
			t.stats.wrongPartition.Store(&de.Detail)
		}
	}
	t.dead.Send(rec, dl)
	t.stats.deadLetter(schemas.Reason(dl.Reason))
}

func (t *task) serve(req taskRequest) {
	if req.finish {
		t.watermark = math.MaxInt64 // saved below: a restored task knows it is finished
		t.marks.AdvanceTo(math.MaxInt64)
		t.advance()
	}
	out := req.out
	if t.carry != nil {
		out.rows.Append(t.carry)
		t.carry = nil
	}
	next := t.saved
	next.version = nextVersion(t.saved.version, time.Now())
	var state metrics.StateSink // nil without state checkpoints
	if out.state != nil {
		state = out.state
	}
	out.alerts = t.alertRecords(t.engine.Checkpoint(next.version, out.rows, state))
	out.dead = t.dead.Take()
	if out.state != nil {
		t.saveHeldEvals(out.state)
	}
	out.empty = out.rows.Len() == 0 && len(out.dead) == 0 && len(out.alerts) == 0 && (out.state == nil || len(out.state.recs) == 0) &&
		t.next == t.saved.next && t.watermark == t.saved.watermark
	if !out.empty {
		next.next, next.watermark = t.next, t.watermark
		if out.state != nil {
			t.saveRows(out, &next)
		}
		t.saved = next
	}
	t.stats.setEngine(t.partition, t.engine.Stats())
	t.stats.setWatermark(t.partition, t.watermark)
	out.finished = t.watermark == math.MaxInt64
	close(req.done)
}

// alertRecords turns the alerts of a checkpoint into records of the
// alerts topic, keyed by shop like the input.
func (t *task) alertRecords(alerts []schemas.Alert) []*kgo.Record {
	if t.alertsTopic == "" || len(alerts) == 0 {
		return nil
	}
	recs := make([]*kgo.Record, len(alerts))
	for i := range alerts {
		recs[i] = &kgo.Record{Topic: t.alertsTopic, Key: []byte(alerts[i].ShopID), Value: schemas.MarshalAlert(&alerts[i])}
	}
	t.stats.alerts.Add(int64(len(recs)))
	return recs
}

// saveRows adds the checkpoint's rows and its task entry to the state
// batch: the rows go to ClickHouse only once they are durable here with the
// state that produced them, so a crash in between leaves rows that a
// restore inserts again. A chunk left by a larger earlier checkpoint is
// deleted.
func (t *task) saveRows(out *taskCheckpoint, next *taskState) {
	chunks, err := encodeRows(out.rows)
	if err != nil {
		// Only a value type the codec lacks; the engine's row types are
		// covered by tests, so this is a programming error.
		panic(fmt.Sprintf("task %d: %v", t.partition, err))
	}
	for i, c := range chunks {
		out.state.Put([]byte(rowsChunkKey(i)), c)
	}
	for i := len(chunks); i < t.saved.rowChunks; i++ {
		out.state.Delete([]byte(rowsChunkKey(i)))
	}
	next.rowChunks = len(chunks)
	out.state.Put([]byte(taskKey), next.encode())
	out.state.setSeq(next.version)
}

// resume continues from restored state: input positions, watermark, the
// last row version, and the rows the restored checkpoint may not have
// inserted. (A changelog from before row versions were kept restores with
// version 0: its rows' versions were offset sums, far below any clock.)
func (t *task) resume(r restored) {
	st := r.state
	t.next = st.next
	t.watermark = st.watermark
	t.marks.AdvanceTo(st.watermark)
	t.saved = st
	if r.pending != nil && r.pending.Len() > 0 {
		t.carry = r.pending
	}
	for _, e := range r.heldEvals {
		t.hold(e, true)
	}
}
