package metrics

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/generator"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/tables"
)

// A week of generated traffic, decoded and fed to one engine as a task
// would (watermark = largest ts − 10 s, advanced and flushed in batches),
// must run in flat memory: what the attribution operator holds after day
// 3 stays at the level of days 2–3 instead of growing with the days. The
// test runs a small week (20 shops); BenchmarkGeneratedWeek the 200-shop
// one.

// daySample is the state at the end of one UTC day of event time.
type daySample struct {
	day   int
	attr  AttributionStats
	eng   Stats
	heap  uint64 // live heap after a GC (0 when not measured)
	final bool
}

type weekRun struct {
	events  int64
	samples []daySample
	late    int64
	// lateRatings of late: evaluations more than rating_window after
	// their session's close, which SPEC §3.3 makes late (the generator
	// sends a few).
	lateRatings int64
}

// runGeneratedWeek feeds cfg's records through schemas.Decoder and an
// engine with the generator's zones, sampling at each UTC midnight.
func runGeneratedWeek(tb testing.TB, cfg generator.Config, measureHeap bool) weekRun {
	tb.Helper()
	zones, err := eventtime.NewZoneSet(cfg.DefaultZone, cfg.ShopZones())
	if err != nil {
		tb.Fatal(err)
	}
	settings := DefaultSettings(zones)
	settings.Filters.AgentSingleSentence, settings.Filters.Monologue = true, true
	e := NewEngine(settings)
	dec := schemas.NewDecoder()
	var (
		ev      schemas.Event
		run     weekRun
		maxTS   = int64(math.MinInt64)
		day     = int64(-1)
		pending int
		sink    discardRows
	)
	sample := func(d int64) {
		s := daySample{day: int(d), attr: e.AttributionStats(), eng: e.Stats()}
		if measureHeap {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			s.heap = ms.HeapAlloc
		}
		run.samples = append(run.samples, s)
	}
	_, err = generator.Generate(context.Background(), cfg, func(r *generator.Record) error {
		if err := dec.Decode(r.Kind, r.Key, r.Value, &ev); err != nil {
			return fmt.Errorf("generated record does not decode: %w", err)
		}
		if _, ok := e.Apply(&ev); !ok {
			run.late++
		}
		run.events++
		maxTS = max(maxTS, ev.TS)
		if pending++; pending == 512 {
			pending = 0
			e.Advance(maxTS - 10_000)
			e.flush(uint64(run.events), &sink)
			if d := floorDiv(maxTS, 24*hourMs); d != day {
				if day >= 0 {
					sample(d)
				}
				day = d
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	e.Advance(math.MaxInt64)
	e.flush(uint64(run.events+1), &sink)
	run.lateRatings = int64(e.Stats().LateRatings)
	sample(day + 1)
	run.samples[len(run.samples)-1].final = true
	return run
}

type discardRows struct{ n int }

func (d *discardRows) Rows(t tables.Table) *tables.Rows {
	return oneRow(t, func(tables.Table, []any) { d.n++ })
}

func TestGeneratedWeekRunsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("a generated week")
	}
	cfg := generator.DefaultConfig()
	cfg.Shops, cfg.Days, cfg.SessionsPerShopDay = 20, 7, 150
	run := runGeneratedWeek(t, cfg, false)
	for _, s := range run.samples {
		t.Logf("day %d: buyers %d inquiries %d orders %d (unpaid %d) inquiry cells %d robot cells %d held hours %d; sessions %d+%d+%d, cells %d+%d",
			s.day, s.attr.Buyers, s.attr.Inquiries, s.attr.Orders, s.attr.UnpaidOrders, s.attr.InquiryCells, s.attr.RobotCells,
			s.attr.HeldHours, s.eng.OpenSessions, s.eng.ClosedSessions, s.eng.Summaries, s.eng.AgentCells, s.eng.ShopCells)
	}
	if run.late != run.lateRatings {
		t.Errorf("%d events refused as late, %d of them ratings beyond the rating window", run.late, run.lateRatings)
	}
	t.Logf("%d ratings beyond the rating window dead-lettered", run.lateRatings)
	checkFlat(t, run.samples)
	last := run.samples[len(run.samples)-1]
	if st := last.attr; st.Buyers+st.Orders+st.InquiryCells+st.RobotCells != 0 || st.FinalCellWrites != 0 {
		t.Errorf("at the end: %+v", st)
	}
	if last.attr.Recredits == 0 || last.attr.InquiryViews == 0 || last.attr.RobotViews == 0 {
		t.Errorf("the traffic did not exercise attribution: %+v", last.attr)
	}
}

// checkFlat: the state builds up for a pay window (72 h: unpaid orders,
// and their buyers, are held that long), then stays level. Days 3–4 after
// the first full day are the reference; later days may hold at most 1.3×
// as much (the generator's weekends are busier), not more.
func checkFlat(tb testing.TB, samples []daySample) {
	tb.Helper()
	const first, refDays = 1, 2 // samples[0] is a partial UTC day
	warm := first + int(DefaultSettings(nil).Attribution.PayWindow/(24*time.Hour))
	if len(samples) < warm+refDays+2 {
		tb.Fatalf("%d days sampled: too few to tell flat from growing", len(samples))
	}
	var ref AttributionStats
	for _, s := range samples[warm : warm+refDays] {
		a := s.attr
		ref.Buyers, ref.Orders = max(ref.Buyers, a.Buyers), max(ref.Orders, a.Orders)
		ref.InquiryCells, ref.RobotCells = max(ref.InquiryCells, a.InquiryCells), max(ref.RobotCells, a.RobotCells)
	}
	for _, s := range samples[warm+refDays:] {
		a := s.attr
		for _, c := range []struct {
			what     string
			got, ref int
		}{{"buyers", a.Buyers, ref.Buyers}, {"orders", a.Orders, ref.Orders},
			{"inquiry cells", a.InquiryCells, ref.InquiryCells}, {"robot cells", a.RobotCells, ref.RobotCells}} {
			if float64(c.got) > 1.3*float64(c.ref) {
				tb.Errorf("day %d: %d %s held, at most %d on days %d–%d: state grows with time",
					s.day, c.got, c.what, c.ref, warm, warm+refDays-1)
			}
		}
	}
}

// BenchmarkGeneratedWeek is the 200-shop week of the issue (with fewer
// sessions per shop-day than the generator's default, to stay within
// minutes): it reports the attribution state and the live heap at the end
// of the busiest day and of the last one.
//
//	go test -run '^$' -bench GeneratedWeek -benchtime 1x ./metrics/
func BenchmarkGeneratedWeek(b *testing.B) {
	cfg := generator.DefaultConfig()
	cfg.Shops, cfg.Days, cfg.SessionsPerShopDay = 200, 7, 300
	for range b.N {
		start := time.Now()
		run := runGeneratedWeek(b, cfg, true)
		elapsed := time.Since(start)
		var peak daySample
		for _, s := range run.samples {
			b.Logf("day %d: heap %d MiB; buyers %d, inquiries %d, orders %d (unpaid %d), inquiry cells %d, robot cells %d, attribution ≈ %d MiB; sessions %d+%d+%d",
				s.day, s.heap>>20, s.attr.Buyers, s.attr.Inquiries, s.attr.Orders, s.attr.UnpaidOrders,
				s.attr.InquiryCells, s.attr.RobotCells, s.attr.ApproxBytes>>20,
				s.eng.OpenSessions, s.eng.ClosedSessions, s.eng.Summaries)
			if !s.final && s.heap > peak.heap {
				peak = s
			}
		}
		checkFlat(b, run.samples)
		b.ReportMetric(float64(run.events)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(peak.heap>>20), "peak-heap-MiB")
		b.ReportMetric(float64(peak.attr.Buyers), "peak-buyers")
		if peak.attr.Buyers > 0 {
			b.ReportMetric(float64(peak.attr.ApproxBytes)/float64(peak.attr.Buyers), "attr-bytes/buyer")
		}
	}
}
