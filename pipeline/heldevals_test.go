package pipeline

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
)

// TestHeldEvaluationsAreState: an evaluation held for the watermark is in
// the checkpoint's state (so a restore has it), and its release deletes it
// there; a restored task applies it like the one that held it.
func TestHeldEvaluationsAreState(t *testing.T) {
	newT := func() *task {
		tk, _ := newSessionsDrivenTask(t, true)
		return tk
	}
	checkpoint := func(tk *task) *stateBatch {
		b := &stateBatch{topic: "cl", partition: 0}
		tk.serve(taskRequest{out: &taskCheckpoint{rows: sinks.NewBuffer(nil), state: b}, done: make(chan struct{})})
		return b
	}
	base := schemas.DefaultMinTS + int64(100*24*time.Hour/time.Millisecond)
	eval := &kgo.Record{Topic: "cs.evaluations", Partition: 0, Offset: 7, Key: []byte("s1"),
		Value: []byte(fmt.Sprintf(`{"event_id":"e1","shop_id":"s1","ts":%d,"session_id":"x1","score":4}`, base+int64(3*24*time.Hour/time.Millisecond)))}
	tk := newT()
	tk.process(taskInput{topic: schemas.TopicEvaluations, input: evalInput, records: []*kgo.Record{eval}})
	if tk.held.Len() != 1 {
		t.Fatalf("held %d evaluations, want 1", tk.held.Len())
	}
	b := checkpoint(tk)
	var saved []byte
	for _, r := range b.recs {
		if string(r.Key) == heldEvalKey(7) {
			saved = r.Value
		}
	}
	if saved == nil {
		t.Fatal("the checkpoint does not save the held evaluation")
	}
	e, err := decodeHeldEval(heldEvalKey(7), saved)
	if err != nil {
		t.Fatal(err)
	}
	if e.rec.Offset != 7 || e.rec.Topic != eval.Topic || !reflect.DeepEqual(e.rec.Key, eval.Key) || !reflect.DeepEqual(e.rec.Value, eval.Value) {
		t.Fatalf("restored %+v, want the held record", e.rec)
	}

	// A restored task holds it, and releases it at the end of input.
	restoredT := newT()
	restoredT.resume(restored{state: taskState{watermark: restoredT.watermark}, heldEvals: []heldEval{e}})
	if restoredT.held.Len() != 1 || len(restoredT.held.unsaved) != 0 {
		t.Fatalf("restored task holds %d (%d unsaved), want 1 (0)", restoredT.held.Len(), len(restoredT.held.unsaved))
	}
	restoredT.serve(taskRequest{finish: true, out: &taskCheckpoint{rows: sinks.NewBuffer(nil)}, done: make(chan struct{})})
	if restoredT.held.Len() != 0 || restoredT.stats.events[evalInput].Load() != 1 {
		t.Fatalf("after the end of input: %d held, %d applied; want 0 and 1", restoredT.held.Len(), restoredT.stats.events[evalInput].Load())
	}
	b = checkpoint(restoredT)
	deleted := false
	for _, r := range b.recs {
		deleted = deleted || string(r.Key) == heldEvalKey(7) && r.Value == nil
	}
	if !deleted {
		t.Error("the released evaluation is not deleted from the changelog")
	}
}
