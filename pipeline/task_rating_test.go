package pipeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
)

// TestTaskDeadLettersLateRating: SPEC §3.3 through a task and the real
// engine. An evaluation more than rating_window (24 h) after its
// session's close is not ignored silently: the task dead-letters it with
// reason late and counts it. One within the window is applied.
func TestTaskDeadLettersLateRating(t *testing.T) {
	tk, dead := newSessionsDrivenTask(t, false)
	base := schemas.DefaultMinTS + int64(100*24*time.Hour/time.Millisecond)
	ms := func(d time.Duration) int64 { return base + d.Milliseconds() }
	rec := func(off int, v string) *kgo.Record {
		return &kgo.Record{Key: []byte("s1"), Value: []byte(v), Offset: int64(off)}
	}
	sessions := taskInput{topic: schemas.TopicSessions, input: inputOf(t, schemas.TopicSessions), records: []*kgo.Record{
		rec(0, fmt.Sprintf(`{"event_id":"a","shop_id":"s1","ts":%d,"type":"started","session_id":"x1","buyer_id":"b","origin":"buyer"}`, ms(0))),
		rec(1, fmt.Sprintf(`{"event_id":"b","shop_id":"s1","ts":%d,"type":"ended","session_id":"x1"}`, ms(5*time.Minute))),
		// Another session, a day later, moves the watermark past x1's
		// close + allowed_lateness: x1 is a summary, kept for ratings.
		rec(2, fmt.Sprintf(`{"event_id":"c","shop_id":"s1","ts":%d,"type":"started","session_id":"x2","buyer_id":"b","origin":"buyer"}`, ms(24*time.Hour+20*time.Minute))),
	}}
	tk.process(sessions)
	evals := taskInput{topic: schemas.TopicEvaluations, input: inputOf(t, schemas.TopicEvaluations), records: []*kgo.Record{
		// 24 h + 1 ms after the close: late.
		rec(0, fmt.Sprintf(`{"event_id":"e1","shop_id":"s1","ts":%d,"session_id":"x1","score":1}`, ms(24*time.Hour+5*time.Minute)+1)),
		// Exactly 24 h after the close: within the window.
		rec(1, fmt.Sprintf(`{"event_id":"e2","shop_id":"s1","ts":%d,"session_id":"x1","score":5}`, ms(24*time.Hour+5*time.Minute))),
	}}
	tk.process(evals)
	if fmt.Sprint(dead.offsets) != "[0]" {
		t.Errorf("dead-lettered offsets = %v, want [0] (the evaluation beyond the rating window)", dead.offsets)
	}
	if n := tk.stats.events[evals.input].Load(); n != 1 {
		t.Errorf("evaluations applied = %d, want 1", n)
	}
}

// TestTaskDeadLettersLateRatingReadFirst: the same evaluations, read
// before their session (a backlog whose evaluations are fetched ahead of
// its sessions). The one beyond the window must still be dead-lettered,
// not held and then ignored: which dead letters exist must not depend on
// arrival order.
func TestTaskDeadLettersLateRatingReadFirst(t *testing.T) {
	tk, dead := newSessionsDrivenTask(t, true)
	base := schemas.DefaultMinTS + int64(100*24*time.Hour/time.Millisecond)
	ms := func(d time.Duration) int64 { return base + d.Milliseconds() }
	rec := func(off int, v string) *kgo.Record {
		return &kgo.Record{Key: []byte("s1"), Value: []byte(v), Offset: int64(off)}
	}
	evals := taskInput{topic: schemas.TopicEvaluations, input: inputOf(t, schemas.TopicEvaluations), records: []*kgo.Record{
		rec(0, fmt.Sprintf(`{"event_id":"e1","shop_id":"s1","ts":%d,"session_id":"x1","score":1}`, ms(24*time.Hour+5*time.Minute)+1)),
		rec(1, fmt.Sprintf(`{"event_id":"e2","shop_id":"s1","ts":%d,"session_id":"x1","score":5}`, ms(24*time.Hour+5*time.Minute))),
	}}
	tk.process(evals)
	sessions := taskInput{topic: schemas.TopicSessions, input: inputOf(t, schemas.TopicSessions), records: []*kgo.Record{
		rec(0, fmt.Sprintf(`{"event_id":"a","shop_id":"s1","ts":%d,"type":"started","session_id":"x1","buyer_id":"b","origin":"buyer"}`, ms(0))),
		rec(1, fmt.Sprintf(`{"event_id":"b","shop_id":"s1","ts":%d,"type":"ended","session_id":"x1"}`, ms(5*time.Minute))),
		rec(2, fmt.Sprintf(`{"event_id":"c","shop_id":"s1","ts":%d,"type":"started","session_id":"x2","buyer_id":"b","origin":"buyer"}`, ms(24*time.Hour+20*time.Minute))),
	}}
	tk.process(sessions)
	tk.serve(taskRequest{finish: true, out: &taskCheckpoint{rows: sinks.NewBuffer(nil)}, done: make(chan struct{})})
	if fmt.Sprint(dead.offsets) != "[0]" {
		t.Errorf("dead-lettered offsets = %v, want [0] (the evaluation beyond the rating window)", dead.offsets)
	}
}

// newSessionsDrivenTask is a task with the real engine and the default
// config whose watermark only cs.sessions moves (the other inputs are
// idle); with holdEvals it holds evaluations rating_window ahead, as the
// runner's tasks do.
func newSessionsDrivenTask(t *testing.T, holdEvals bool) (*task, *recordingDeadLetters) {
	t.Helper()
	cfg := config.Defaults()
	engines, err := NewEngines(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	dead := &recordingDeadLetters{}
	tk := newTask(0, engines.New(0), engines.Checks, newMarks(&cfg), dead, newTaskStats())
	if holdEvals {
		tk.evalHorizon = cfg.Time.RatingWindow.Milliseconds()
	}
	for i, tp := range schemas.Topics {
		if tp != schemas.TopicSessions {
			tk.marks.MarkIdle(i)
		}
	}
	return tk, dead
}
