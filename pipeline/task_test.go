package pipeline

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/metrics"
	"github.com/cspulse/cspulse/schemas"
)

// recordingEngine keeps a copy of every event it is given.
type recordingEngine struct {
	applied []schemas.Event
	marks   []int64
}

func (e *recordingEngine) Apply(ev *schemas.Event) (schemas.Reason, bool) {
	e.applied = append(e.applied, ev.Clone())
	return "", true
}
func (e *recordingEngine) Advance(wm int64) { e.marks = append(e.marks, wm) }
func (e *recordingEngine) Checkpoint(uint64, RowSink, metrics.StateSink) []schemas.Alert {
	return nil
}
func (e *recordingEngine) Load(key, _ []byte) error { return fmt.Errorf("unexpected entry %q", key) }
func (e *recordingEngine) LoadDone() error          { return nil }
func (e *recordingEngine) Stats() metrics.Stats     { return metrics.Stats{} }
func (e *recordingEngine) agents() (ids []string) {
	for _, ev := range e.applied {
		ids = append(ids, string(ev.AgentID))
	}
	return ids
}

type recordingDeadLetters struct{ offsets []int64 }

func (d *recordingDeadLetters) Send(r *kgo.Record, _ DeadLetter) {
	d.offsets = append(d.offsets, r.Offset)
}

func (d *recordingDeadLetters) Take() []*kgo.Record { return nil }

// agentMessage is a cs.messages record whose agent_id is written raw, so
// that a test can put JSON escapes in it.
func agentMessage(n int, rawAgent string) *kgo.Record {
	v := fmt.Sprintf(`{"event_id":"e%d","shop_id":"s1","ts":%d,"session_id":"x%d","sender":"agent","agent_id":"%s","content_type":"text","text":"hi"}`,
		n, schemas.DefaultMinTS+int64(n), n, rawAgent)
	return &kgo.Record{Key: []byte("s1"), Value: []byte(v), Offset: int64(n)}
}

// TestTaskProcessKeepsOrderAndValues: the task decodes records ahead of
// applying them, in runs; the engine must still see every valid record,
// in order, with the values of its own record, also when the decoder
// unescaped them into scratch space that the next decode reuses, and
// the broken ones must go to the dead letters.
func TestTaskProcessKeepsOrderAndValues(t *testing.T) {
	type rec struct {
		raw string // agent_id as written in the JSON; "BROKEN" for a non-JSON record
	}
	plain := func(n int) []rec {
		var rs []rec
		for i := range n {
			rs = append(rs, rec{fmt.Sprintf("agent_%d", i)})
		}
		return rs
	}
	tests := []struct {
		name string
		recs []rec
	}{
		{"one record", []rec{{"a"}}},
		{"exactly one run", plain(aheadRecords)},
		{"runs and a remainder", plain(3*aheadRecords + 5)},
		{"escaped values in a row", []rec{{`\u0061gent_1`}, {`\u0061gent_2`}, {"agent_3"}, {`agent\u005f4`}}},
		{"broken records between", []rec{{"a1"}, {"BROKEN"}, {`\u0061 2`}, {"BROKEN"}, {"a3"}}},
		{"escaped at a run's end", append(plain(aheadRecords-1), rec{`\u0062`}, rec{"c"})},
	}
	cfg := config.Defaults()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				in           taskInput
				wantAgents   []string
				wantRejected []int64
				newest       int64
			)
			in.topic, in.input = schemas.TopicMessages, inputOf(t, schemas.TopicMessages)
			for n, r := range tt.recs {
				if r.raw == "BROKEN" {
					in.records = append(in.records, &kgo.Record{Key: []byte("s1"), Value: []byte("{"), Offset: int64(n)})
					wantRejected = append(wantRejected, int64(n))
					continue
				}
				in.records = append(in.records, agentMessage(n, r.raw))
				var ev schemas.Event
				if err := schemas.NewDecoder().Decode(in.topic, []byte("s1"), in.records[n].Value, &ev); err != nil {
					t.Fatalf("record %d: %v", n, err)
				}
				wantAgents = append(wantAgents, string(ev.AgentID))
				newest = max(newest, ev.TS)
			}
			eng, dead := &recordingEngine{}, &recordingDeadLetters{}
			tk := newTask(0, eng, InputChecks{}, newMarks(&cfg), dead, newTaskStats())
			for i := range schemas.Topics {
				if i != in.input {
					tk.marks.MarkIdle(i) // this input alone sets the watermark
				}
			}
			tk.process(in)

			if got := eng.agents(); fmt.Sprint(got) != fmt.Sprint(wantAgents) {
				t.Errorf("agent ids applied:\n got %q\nwant %q", got, wantAgents)
			}
			if fmt.Sprint(dead.offsets) != fmt.Sprint(wantRejected) {
				t.Errorf("dead-lettered offsets = %v, want %v", dead.offsets, wantRejected)
			}
			if got, want := tk.next[in.input], int64(len(tt.recs)); got != want {
				t.Errorf("next offset = %d, want %d", got, want)
			}
			if got, want := tk.stats.events[in.input].Load(), int64(len(wantAgents)); got != want {
				t.Errorf("events counted = %d, want %d", got, want)
			}
			if want := newest - cfg.Time.MaxOutOfOrder.Milliseconds(); len(eng.marks) != 1 || eng.marks[0] != want {
				t.Errorf("Advance calls = %v, want one to the newest valid ts − max_out_of_order, %d", eng.marks, want)
			}
		})
	}
}

// inputOf is topic's index among a task's inputs.
func inputOf(t *testing.T, topic schemas.Topic) int {
	for i, tp := range schemas.Topics {
		if tp == topic {
			return i
		}
	}
	t.Fatalf("topic %v is not an input", topic)
	return -1
}

// TestTaskInputBehindHoldsTheWatermark: an input whose fetch stopped short
// of the partition's end (a backlog on a busy machine) keeps holding the
// watermark after idle_input of silence, so that the records it has still
// to deliver are not late; one that is caught up does not.
func TestTaskInputBehindHoldsTheWatermark(t *testing.T) {
	for _, tc := range []struct {
		name   string
		behind bool
	}{{"behind", true}, {"caught up", false}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Defaults()
			clock := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
			eng := &recordingEngine{}
			tk := newTask(0, eng, InputChecks{}, newMarks(&cfg), &recordingDeadLetters{}, newTaskStats())
			tk.now = func() time.Time { return clock }
			msgs, evals := inputOf(t, schemas.TopicMessages), inputOf(t, schemas.TopicEvaluations)
			for i := range schemas.Topics {
				if i != msgs && i != evals {
					tk.marks.MarkIdle(i)
				}
			}
			slow := taskInput{topic: schemas.TopicMessages, input: msgs, records: []*kgo.Record{agentMessage(0, "a1")}, highWatermark: 1}
			if tc.behind {
				slow.highWatermark = 1000 // 999 more records in the broker
			}
			tk.process(slow)
			clock = clock.Add(cfg.Time.IdleInput + time.Second)
			ahead := agentMessage(500_000, "a1") // 500 s later in event time, on the other input
			tk.process(taskInput{topic: schemas.TopicEvaluations, input: evals, records: []*kgo.Record{evaluation(ahead)}, highWatermark: 1})
			held := schemas.DefaultMinTS - cfg.Time.MaxOutOfOrder.Milliseconds()
			if got := tk.watermark; (got == held) != tc.behind {
				t.Errorf("watermark %d after the messages input was silent for idle_input; held at %d: %v, want %v", got, held, got == held, tc.behind)
			}
		})
	}
}

// evaluation turns an agent message record into an evaluation at its ts.
func evaluation(msg *kgo.Record) *kgo.Record {
	var ev struct {
		TS int64 `json:"ts"`
	}
	_ = json.Unmarshal(msg.Value, &ev)
	v := fmt.Sprintf(`{"event_id":"ev%d","shop_id":"s1","ts":%d,"session_id":"x","score":5}`, ev.TS, ev.TS)
	return &kgo.Record{Key: []byte("s1"), Value: []byte(v)}
}
