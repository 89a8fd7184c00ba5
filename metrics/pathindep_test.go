package metrics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/generator"
	"github.com/cspulse/cspulse/schemas"
)

// TestRowsIndependentOfSteps (issues 17.4, 16.10): with input disordered
// within max_out_of_order, the final rows — every key ever written, its
// last version, all-zero rows included — must not depend on where the
// watermark steps or where the flushes fall. Each source runs under
// several drivers: the watermark advanced after every event or every few
// hundred, exactly or rounded down to the minute or the hour, and Flush
// after every k events for several k. What differed before: a rating
// credited to group "" of the rated agent while the session's `assigned`
// was still held (written on some paths only, never taken back there),
// and all-zero rows of cells whose contributions were taken back before a
// flush on some paths only.
func TestRowsIndependentOfSteps(t *testing.T) {
	type source struct {
		name  string
		sc    *scenario
		steps []step
	}
	var sources []source
	add := func(name string, sc *scenario, steps []step) {
		sorted := slices.Clone(steps)
		slices.SortStableFunc(sorted, func(a, b step) int { return cmp.Compare(a.event.TS, b.event.TS) })
		rng := rand.New(rand.NewPCG(uint64(len(steps)), 17))
		// Up to max_out_of_order inclusive: an event may arrive with ts equal
		// to the watermark, which is still on time.
		sources = append(sources, source{name, sc, displace(rng, sorted, time.Duration(sc.lag+1)*time.Millisecond)})
	}
	for _, dir := range scenarioDirs(t) {
		for _, sc := range scenarioVariants(t, dir) {
			if sc.permutable() {
				add(sc.name, sc, sc.steps)
			}
		}
	}
	sessions := 300
	if testing.Short() {
		sessions = 80
	}
	for seed := range uint64(3) {
		for _, filtersOn := range []bool{true, false} {
			sc := randomScenario(seed, sessions, filtersOn)
			add(sc.name+fmt.Sprintf("/filters=%v", filtersOn), sc, sc.steps)
		}
	}
	gen := generatedScenario(t, 3, 200)
	add("generated", gen, gen.steps)

	drivers := []stepDriver{
		{advanceEvery: 1, flushEvery: 1},
		{advanceEvery: 1, flushEvery: 7},
		{advanceEvery: 3, flushEvery: 2},
		{advanceEvery: 1, flushEvery: 50},
		{advanceEvery: 64, flushEvery: 64},
		{advanceEvery: 1, quantum: time.Minute, flushEvery: 13},
		{advanceEvery: 5, quantum: time.Hour, flushEvery: 1},
		{advanceEvery: 1000, flushEvery: 333},
		{advanceEvery: 1, flushEvery: math.MaxInt},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			want := drivers[0].run(t, src.sc, src.steps)
			for _, d := range drivers[1:] {
				if got := d.run(t, src.sc, src.steps); !equalTables(want, got) {
					t.Fatalf("%+v differs from %+v:\n%s", d, drivers[0], tableDiff(want, got))
				}
			}
		})
	}
}

// stepDriver feeds events to an engine the way a task might: the watermark
// (largest ts − max_out_of_order, rounded down to quantum) every
// advanceEvery events, a Flush every flushEvery events.
type stepDriver struct {
	advanceEvery int
	quantum      time.Duration
	flushEvery   int
}

// allRows are the final rows by table and key, every column normalized,
// all-zero rows included.
type allRows map[string]map[string]string

func (d stepDriver) run(t *testing.T, sc *scenario, steps []step) allRows {
	t.Helper()
	e := NewEngine(sc.engineSettings(t))
	rows := newRowSet(sc.zones)
	maxTS := int64(math.MinInt64)
	version := uint64(0)
	q := d.quantum.Milliseconds()
	for i := range steps {
		st := &steps[i]
		if _, ok := e.Apply(&st.event); !ok && !st.mayLate {
			t.Fatalf("%s: event %s late", sc.name, st.event.EventID)
		}
		maxTS = max(maxTS, st.event.TS)
		if (i+1)%d.advanceEvery == 0 {
			wm := maxTS - sc.lag
			if q > 0 {
				wm -= ((wm % q) + q) % q
			}
			e.Advance(wm)
		}
		if (i+1)%d.flushEvery == 0 {
			version++
			e.flush(version, rows)
		}
	}
	e.Advance(math.MaxInt64)
	version++
	e.flush(version, rows)
	assertClean(t, e)
	out := allRows{}
	for table, byKey := range rows.rows {
		out[table] = map[string]string{}
		for key, row := range byKey {
			var cols []string
			for c, v := range row.cols {
				if c != "version" {
					cols = append(cols, fmt.Sprintf("%s=%v", c, normalize(c, v)))
				}
			}
			sort.Strings(cols)
			out[table][key] = strings.Join(cols, " ")
		}
	}
	return out
}

func equalTables(a, b allRows) bool { return tableDiff(a, b) == "" }

func tableDiff(want, got allRows) string {
	var b strings.Builder
	tables := map[string]bool{}
	for t := range want {
		tables[t] = true
	}
	for t := range got {
		tables[t] = true
	}
	for _, table := range slices.Sorted(func(yield func(string) bool) {
		for t := range tables {
			if !yield(t) {
				return
			}
		}
	}) {
		keys := map[string]bool{}
		for k := range want[table] {
			keys[k] = true
		}
		for k := range got[table] {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			w, inW := want[table][k]
			g, inG := got[table][k]
			switch {
			case !inW:
				fmt.Fprintf(&b, "%s %s: extra row %s\n", table, k, g)
			case !inG:
				fmt.Fprintf(&b, "%s %s: missing row %s\n", table, k, w)
			case w != g:
				fmt.Fprintf(&b, "%s %s:\n  want %s\n  got  %s\n", table, k, w, g)
			}
		}
	}
	return b.String()
}

// generatedScenario is a day of the generator's traffic for shops shops
// (the cs.outreach topic aside), as scenario steps.
func generatedScenario(t *testing.T, shops, sessionsPerDay int) *scenario {
	t.Helper()
	cfg := generator.DefaultConfig()
	cfg.Shops, cfg.Days, cfg.SessionsPerShopDay = shops, 1, sessionsPerDay
	zones, err := eventtime.NewZoneSet(cfg.DefaultZone, cfg.ShopZones())
	if err != nil {
		t.Fatal(err)
	}
	sc := &scenario{name: "generated", zones: zones, lag: 10_000}
	sc.settings.DefaultZone = cfg.DefaultZone
	sc.settings.Filters.AgentSingleSentence, sc.settings.Filters.Monologue = true, true
	dec := schemas.NewDecoder(schemas.WithKeyCheck(false))
	var ev schemas.Event
	_, err = generator.Generate(context.Background(), cfg, func(r *generator.Record) error {
		if dec.Decode(r.Kind, r.Key, r.Value, &ev) != nil {
			return nil // the generator's deliberately malformed records
		}
		switch ev.Topic {
		case schemas.TopicSessions, schemas.TopicTransfers, schemas.TopicMessages,
			schemas.TopicEvaluations, schemas.TopicOrders:
			sc.steps = append(sc.steps, step{event: ev.Clone(), line: len(sc.steps) + 1,
				mayLate: ev.Topic == schemas.TopicEvaluations})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
