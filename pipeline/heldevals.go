package pipeline

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/schemas"
)

// An evaluation read more than rating_window ahead of the task's watermark
// waits here, raw, until the watermark is within rating_window of it. Only
// then is its session's close known for certain (a close more than
// rating_window before the evaluation lies behind the watermark), so the
// engine decides "late" (SPEC §3.3: more than rating_window after the
// close) the same way whatever the arrival order, and a late one is
// dead-lettered with its original bytes. Without this, an evaluation
// fetched ahead of its session (a backlog) was held by the engine and later
// ignored without a dead letter. Held evaluations are task state: each
// checkpoint saves the new ones (heldEvalPrefix + offset) and deletes the
// released ones.

const heldEvalPrefix = "heval/"

type heldEval struct {
	ts  int64
	rec *kgo.Record
}

// heldEvals is a min-heap by (ts, offset) with the changes since the last
// checkpoint.
type heldEvals struct {
	items    []heldEval
	unsaved  map[int64]bool // held since the last checkpoint
	released []int64        // saved ones released since the last checkpoint
}

func (h *heldEvals) Len() int { return len(h.items) }
func (h *heldEvals) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	return a.ts < b.ts || a.ts == b.ts && a.rec.Offset < b.rec.Offset
}
func (h *heldEvals) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *heldEvals) Push(x any)    { h.items = append(h.items, x.(heldEval)) }
func (h *heldEvals) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}

// evalInput is the index of cs.evaluations among the task's inputs.
var evalInput = func() int {
	for i, tp := range schemas.Topics {
		if tp == schemas.TopicEvaluations {
			return i
		}
	}
	panic("no evaluations topic")
}()

// holdsEval reports whether the k-th decoded record is an evaluation too
// far ahead to apply yet, and holds it if so.
func (t *task) holdsEval(in taskInput, rec *kgo.Record, k int) bool {
	if t.evalHorizon <= 0 || in.input != evalInput || t.errs[k] != nil {
		return false
	}
	ts := t.evs[k].TS
	if !t.beyondHorizon(ts) {
		return false
	}
	held := &kgo.Record{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset,
		Key: append([]byte(nil), rec.Key...), Value: append([]byte(nil), rec.Value...)}
	t.hold(heldEval{ts: ts, rec: held}, false)
	return true
}

func (t *task) hold(e heldEval, saved bool) {
	if t.held.unsaved == nil {
		t.held.unsaved = map[int64]bool{}
	}
	heap.Push(&t.held, e)
	if !saved {
		t.held.unsaved[e.rec.Offset] = true
	}
}

// advance moves the engine to the task's watermark, applying on the way
// the held evaluations the watermark has come within rating_window of
// (all of them at the end of input): the engine first advances to
// rating_window before each, so that a session closed more than
// rating_window before it is closed in the engine when it is applied.
func (t *task) advance() {
	var accepted int64
	for t.held.Len() > 0 {
		e := t.held.items[0]
		if t.beyondHorizon(e.ts) {
			break
		}
		heap.Pop(&t.held)
		if t.held.unsaved[e.rec.Offset] {
			delete(t.held.unsaved, e.rec.Offset)
		} else {
			t.held.released = append(t.held.released, e.rec.Offset)
		}
		if e.ts-t.evalHorizon < e.ts { // no wrap near math.MinInt64
			t.engine.Advance(e.ts - t.evalHorizon)
		}
		t.errs[0] = t.dec.Decode(schemas.TopicEvaluations, e.rec.Key, e.rec.Value, &t.evs[0])
		if t.applyDecoded(e.rec, 0) {
			accepted++
		}
	}
	t.stats.events[evalInput].Add(accepted)
	t.engine.Advance(t.watermark)
}

// beyondHorizon: an evaluation at ts is more than rating_window ahead of
// the watermark (every one is, before the first watermark).
func (t *task) beyondHorizon(ts int64) bool {
	switch t.watermark {
	case math.MinInt64:
		return true
	case math.MaxInt64:
		return false
	}
	return ts > t.watermark+t.evalHorizon
}

// saveHeldEvals adds the held evaluations' changes to the state batch.
func (t *task) saveHeldEvals(b *stateBatch) {
	for _, e := range t.held.items {
		if t.held.unsaved[e.rec.Offset] {
			b.Put([]byte(heldEvalKey(e.rec.Offset)), encodeHeldEval(e))
		}
	}
	for _, off := range t.held.released {
		b.Delete([]byte(heldEvalKey(off)))
	}
	clear(t.held.unsaved)
	t.held.released = t.held.released[:0]
}

func heldEvalKey(offset int64) string { return heldEvalPrefix + strconv.FormatInt(offset, 10) }

func encodeHeldEval(e heldEval) []byte {
	b := binary.AppendVarint(nil, e.ts)
	b = appendString(b, e.rec.Topic)
	b = binary.AppendVarint(b, int64(e.rec.Partition))
	b = appendString(b, string(e.rec.Key))
	return append(b, e.rec.Value...)
}

func decodeHeldEval(key string, b []byte) (heldEval, error) {
	off, err := strconv.ParseInt(strings.TrimPrefix(key, heldEvalPrefix), 10, 64)
	if err != nil {
		return heldEval{}, fmt.Errorf("changelog entry %q: %w", key, err)
	}
	d := rowDecoder{b: b}
	e := heldEval{ts: d.varint(), rec: &kgo.Record{Offset: off}}
	e.rec.Topic = d.string()
	e.rec.Partition = int32(d.varint())
	e.rec.Key = []byte(d.string())
	if d.err != nil {
		return heldEval{}, fmt.Errorf("changelog entry %q: %w", key, d.err)
	}
	e.rec.Value = append([]byte(nil), d.b...)
	return e, nil
}
