package operators

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

type dbgSink struct{ rs *rowSet; key string; i *int }

func (d dbgSink) Add(t interface{ }, row []any) {}

func TestDbg(t *testing.T) {
	sc := randomScenario(1, 80, true)
	sorted := slices.Clone(sc.steps)
	slices.SortStableFunc(sorted, func(a, b step) int { return cmp64(a.event.TS, b.event.TS) })
	rng := rand.New(rand.NewPCG(uint64(len(sc.steps)), 17))
	steps := displace(rng, sorted, time.Duration(sc.lag)*time.Millisecond)
	e := NewEngine(sc.engineSettings(t))
	rows := newRowSet(sc.zones)
	maxTS := int64(math.MinInt64)
	for i := range steps {
		st := &steps[i]
		e.Apply(&st.event)
		maxTS = max(maxTS, st.event.TS)
		e.Advance(maxTS - sc.lag)
		e.Flush(uint64(i+1), rows)
		if r, ok := rows.rows["cs_agent_hourly"]["sh|g2|a2|2026-03-08T02:00+08:00"]; ok && r.version == uint64(i+1) || i < 0 {
			fmt.Printf("after %s %v %s: %v\n", st.event.EventID, st.event.Topic, st.event.SessionID, r.cols)
		}
	}
}
