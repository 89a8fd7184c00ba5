package pipeline

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/schemas"
)

func TestStartPosition(t *testing.T) {
	for _, tc := range []struct {
		name                string
		restored, committed int64
		hasCommitted        bool
		logStart, logEnd    int64
		latest              bool
		want                int64
	}{
		{"restored state wins", 40, 30, true, 0, 50, false, 40},
		{"else the group's commit", 0, 30, true, 0, 50, false, 30},
		{"else earliest: the log's start", 0, 0, false, 5, 50, false, 5},
		{"else latest: the log's end", 0, 0, false, 5, 50, true, 50},
	} {
		if got := startPosition(tc.restored, tc.committed, tc.hasCommitted, tc.logStart, tc.logEnd, tc.latest); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestInputWithRecordsAheadHoldsTheWatermark: at assignment an input
// whose partition holds records past the task's start is behind, so while
// its first fetch is slow the watermark does not run past it after
// time.idle_input (it waits twelve times that); an empty input is idle
// after idle_input as before.
func TestInputWithRecordsAheadHoldsTheWatermark(t *testing.T) {
	cfg := config.Defaults()
	inputs := cfg.Topics.Inputs()
	messages, sessions := inputOf(t, schemas.TopicMessages), inputOf(t, schemas.TopicSessions)
	for _, tc := range []struct {
		name          string
		sessionsEnd   int64 // the sessions partition's end offset; its start is 0
		wantHeldAfter bool  // the watermark still held after 2 × idle_input
	}{
		{"sessions has records to come", 100, true},
		{"sessions is empty", 0, false},
	} {
		tk := newTask(0, &recordingEngine{}, InputChecks{}, newMarks(&cfg), &recordingDeadLetters{}, newTaskStats())
		o := &inputOffsets{ends: kadm.ListedOffsets{}, starts: kadm.ListedOffsets{}, committed: kadm.OffsetResponses{}}
		for i, topic := range inputs {
			end := int64(0)
			if i == sessions {
				end = tc.sessionsEnd
			}
			o.ends[topic] = map[int32]kadm.ListedOffset{0: {Topic: topic, Partition: 0, Offset: end}}
			o.starts[topic] = map[int32]kadm.ListedOffset{0: {Topic: topic, Partition: 0}}
		}
		o.markBehind(tk, inputs, restored{})
		start := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
		tk.marks.Observe(messages, start.UnixMilli(), start)
		wm := tk.marks.Current(start.Add(2 * cfg.Time.IdleInput))
		held := wm < start.UnixMilli()-cfg.Time.MaxOutOfOrder.Milliseconds()
		if held != tc.wantHeldAfter {
			t.Errorf("%s: watermark %d held %v, want %v", tc.name, wm, held, tc.wantHeldAfter)
		}
	}
}
