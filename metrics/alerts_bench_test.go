package metrics

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cspulse/cspulse/schemas"
)

// BenchmarkAlertEvaluation measures one evaluation of one shop at the end
// of an hour (alerts.go): the windows move by an hour (one hour's figures
// added, one subtracted, from the running sums), every rule is judged in
// every scope, and figures no window needs are forgotten. Only the
// evaluation is timed (ns/evaluation), not the engine's step to the hour
// end (ns/op includes it). 10 shops of 20 agents in 2 groups hold 7 days of
// figures; the benchmark evaluates the 7 days after them, so the windows
// slide over full hours. ns/evaluation is per shop and hour end.
func BenchmarkAlertEvaluation(b *testing.B) {
	for _, tc := range []struct {
		name  string
		rules []AlertRule
	}{
		{"default-rules", DefaultAlertRules()},
		{"42-rules", stressAlertRules()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const shops, days = 10, 7
			evs := weekOfTraffic(shops, 20, days)
			s := alertSettings(b, "Asia/Shanghai", tc.rules...)
			var e *Engine
			var wm, end int64
			fresh := func() {
				e = NewEngine(s)
				for i := range evs {
					e.Apply(&evs[i])
				}
				wm = evs[len(evs)-1].TS + hourMs
				e.Advance(wm)
				wm = (wm/hourMs + 1) * hourMs
				end = wm + days*24*hourMs
			}
			fresh()
			var spent time.Duration
			b.ResetTimer()
			for range b.N {
				if wm >= end {
					fresh()
				}
				// The engine's own step to the hour end is not the
				// evaluation's cost: only evaluateAt is timed.
				wm, _ = e.alerts.nextDue(math.MaxInt64 - 1)
				e.advance(wm)
				e.drainFigures()
				t0 := time.Now()
				e.alerts.evaluateAt(wm)
				spent += time.Since(t0)
			}
			b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N*shops), "ns/evaluation")
		})
	}
}

// weekOfTraffic is days of conversations for shops of agents (two
// groups), 30 an hour from 08:00 to 23:00 local, in ts order.
func weekOfTraffic(shops, agents, days int) []schemas.Event {
	start := at("2026-03-02T00:00:00+08:00")
	var evs []schemas.Event
	for s := range shops {
		shop := fmt.Sprintf("s%02d", s)
		for d := range days {
			for h := 8; h < 23; h++ {
				for i := range 30 {
					agent := (i + h + d) % agents
					group := fmt.Sprintf("g%d", agent%2)
					ts := start + int64(d)*24*hourMs + int64(h)*hourMs + int64(i)*110_000
					delay := time.Duration(20+(i*37+h)%200) * time.Second
					evs = append(evs, conversation(shop, fmt.Sprintf("%d-%d-%d", d, h, i), fmt.Sprintf("a%02d", agent), group, ts, delay)...)
				}
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b schemas.Event) int { return int(a.TS - b.TS) })
	return evs
}

// BenchmarkApplyWithAlerts is the engine's cost per event with alerts and
// rankings on and off, over the same week of traffic (Apply and a
// watermark 10 s behind, every hour's evaluations included).
func BenchmarkApplyWithAlerts(b *testing.B) {
	evs := weekOfTraffic(10, 20, 2)
	for _, tc := range []struct {
		name     string
		rules    []AlertRule
		rankings bool
	}{
		{"off", nil, false},
		{"default-rules+rankings", DefaultAlertRules(), true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := alertSettings(b, "Asia/Shanghai", tc.rules...)
			s.Rankings = tc.rankings
			b.ResetTimer()
			for range b.N {
				e := NewEngine(s)
				maxTS := int64(math.MinInt64)
				for i := range evs {
					e.Apply(&evs[i])
					maxTS = max(maxTS, evs[i].TS)
					if i%64 == 0 {
						e.Advance(maxTS - 10_000)
					}
				}
				e.Advance(math.MaxInt64)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
		})
	}
}

// BenchmarkAlertsNextDue measures what alerts cost an Advance between two
// hour ends (the usual case: a watermark step of a polled slice) with
// 5 000 shops in the task: nextDue answers from the earliest hour end it
// knows instead of walking the shops.
func BenchmarkAlertsNextDue(b *testing.B) {
	const shops = 5_000
	e := NewEngine(alertSettings(b, "Asia/Shanghai", DefaultAlertRules()...))
	start := at("2026-03-02T08:00:00+08:00")
	for s := range shops {
		for _, ev := range conversation(fmt.Sprintf("s%04d", s), "x", "a1", "g1", start+int64(s), 30*time.Second) {
			e.Apply(&ev)
		}
	}
	wm := start + 10*time.Minute.Milliseconds()
	e.Advance(wm)
	b.ResetTimer()
	for i := range b.N {
		if _, due := e.alerts.nextDue(wm + int64(i%1000)); due {
			b.Fatal("an hour end became due inside the hour")
		}
	}
}
