package pipeline

import (
	"testing"

	"github.com/cspulse/cspulse/metrics"
)

// TestPeakStateSumsTasks: the peak is the largest sum over the tasks as
// of their latest checkpoints, not the largest single report.
func TestPeakStateSumsTasks(t *testing.T) {
	s := newTaskStats()
	steps := []struct {
		p    int32
		st   metrics.Stats
		want StateSize
	}{
		{0, metrics.Stats{ApproxBytes: 100, OpenSessions: 2, ClosedSessions: 1}, StateSize{100, 3, 2}},
		{1, metrics.Stats{ApproxBytes: 50, OpenSessions: 1, Summaries: 4}, StateSize{150, 8, 3}},
		{0, metrics.Stats{ApproxBytes: 10}, StateSize{150, 8, 3}}, // smaller now: the peak stays
		{1, metrics.Stats{ApproxBytes: 200, OpenSessions: 5}, StateSize{210, 5, 5}},
	}
	for i, st := range steps {
		s.setEngine(st.p, st.st)
		if got := s.peak(); got != st.want {
			t.Fatalf("after step %d: peak %+v, want %+v", i, got, st.want)
		}
	}
}
