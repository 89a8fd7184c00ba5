package metrics

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
)

// The property behind SPEC §5 "results do not depend on arrival order
// within the out-of-order bound": whatever order events arrive in, as long
// as none is late, the final rows equal those of the sorted stream.
// Two kinds of disorder are tested:
//
//   - bounded: each event is delayed by a random amount below a bound
//     (10 s, the default max_out_of_order; 5 min; 50 min, just under the
//     allowed lateness), and the watermark follows the arrivals, so that
//     sessions time out, close, compact and reopen while events trickle
//     in;
//   - arbitrary: any permutation, with the watermark held back until the
//     end, so that nothing is ever late.

var displacementBounds = []time.Duration{10 * time.Second, 5 * time.Minute, 50 * time.Minute}

// TestScenarioOrderIndependence permutes the scenarios that have no
// deliberately late events.
func TestScenarioOrderIndependence(t *testing.T) {
	for _, dir := range scenarioDirs(t) {
		for _, sc := range scenarioVariants(t, dir) {
			if !sc.permutable() {
				continue
			}
			t.Run(sc.name, func(t *testing.T) {
				checkOrderIndependence(t, sc, 8)
			})
		}
	}
}

// TestRandomStreamOrderIndependence does the same for seeded random
// streams of many interleaved sessions in two zones, with every feature:
// transfers, queues, abandonment, timeouts and exact-timeout gaps, equal
// timestamps, adverts, listed accounts, evaluations and re-ratings,
// duplicates and missing `started`.
func TestRandomStreamOrderIndependence(t *testing.T) {
	sessions := 400
	if testing.Short() {
		sessions = 60
	}
	for seed := range uint64(3) {
		for _, filtersOn := range []bool{true, false} {
			t.Run(fmt.Sprintf("seed%d/filters=%v", seed, filtersOn), func(t *testing.T) {
				sc := randomScenario(seed, sessions, filtersOn)
				checkOrderIndependence(t, sc, 4)
			})
		}
	}
}

// permutable reports whether the scenario's outcome is meant to be the
// same in any order: no late events and no watermark jumps.
func (sc *scenario) permutable() bool {
	for _, st := range sc.steps {
		if st.late || st.event.Topic == schemas.TopicInvalid {
			return false
		}
	}
	return true
}

func checkOrderIndependence(t *testing.T, sc *scenario, rounds int) {
	t.Helper()
	sorted := slices.Clone(sc.steps)
	slices.SortStableFunc(sorted, func(a, b step) int { return cmp.Compare(a.event.TS, b.event.TS) })
	want := sc.runFinal(t, sorted, true)
	if fileOrder := sc.runFinal(t, sc.steps, true); !reflect.DeepEqual(fileOrder, want) {
		t.Fatalf("file order differs from sorted order:\n%s", rowDiff(want, fileOrder))
	}
	rng := rand.New(rand.NewPCG(uint64(len(sc.steps)), 7))
	for round := range rounds {
		for _, bound := range displacementBounds {
			got := sc.runFinal(t, displace(rng, sorted, bound), true)
			want := want
			if bound > time.Duration(sc.lag)*time.Millisecond {
				// Beyond max_out_of_order events are late: they change the
				// rows they belong to, and an alert only from the next
				// evaluation on (SPEC §4.2), so alerts depend on arrival.
				got, want = withoutTable(got, AlertsTable.Name), withoutTable(want, AlertsTable.Name)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, displacement < %v:\n%s", round, bound, rowDiff(want, got))
			}
		}
		shuffled := slices.Clone(sorted)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := sc.runFinal(t, shuffled, false); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d, arbitrary permutation, watermark held back:\n%s", round, rowDiff(want, got))
		}
	}
}

func withoutTable(rows map[string]map[string]map[string]any, table string) map[string]map[string]map[string]any {
	out := maps.Clone(rows)
	delete(out, table)
	return out
}

// runFinal runs steps and returns the final rows, and under the key
// "listener" the sessions as a SessionListener saw them in the end; every
// event must be accepted and the engine must end clean.
func (sc *scenario) runFinal(t *testing.T, steps []step, autoWatermark bool) map[string]map[string]map[string]any {
	t.Helper()
	views := &viewLog{net: map[string]int{}, last: map[string]SessionView{}}
	rows, e := sc.runWith(t, steps, autoWatermark, views)
	assertClean(t, e)
	final := rows.final()
	final["listener"] = map[string]map[string]any{}
	for key, n := range views.net {
		if n != 1 {
			t.Errorf("listener: %s has net %d views", key, n)
		}
		final["listener"][key] = map[string]any{"view": fmt.Sprintf("%+v", views.last[key])}
	}
	return final
}

// displace delays each event by a random amount in [0, bound) and orders
// them by arrival. With bound ≤ allowed_lateness no event is late: the
// watermark at an arrival trails an arrival time below ts + bound.
func displace(rng *rand.Rand, steps []step, bound time.Duration) []step {
	type arrival struct {
		at int64
		st step
	}
	arrivals := make([]arrival, len(steps))
	for i, st := range steps {
		arrivals[i] = arrival{at: st.event.TS + rng.Int64N(bound.Milliseconds()), st: st}
	}
	slices.SortStableFunc(arrivals, func(a, b arrival) int { return cmp.Compare(a.at, b.at) })
	out := make([]step, len(steps))
	for i, a := range arrivals {
		out[i] = a.st
	}
	return out
}

// rowDiff describes how got differs from want, briefly.
func rowDiff(want, got map[string]map[string]map[string]any) string {
	var out []string
	for _, table := range append(slices.Clone(Tables), sinks.Table{Name: "listener"}) {
		w, g := want[table.Name], got[table.Name]
		for _, key := range sortedKeys(w) {
			if !reflect.DeepEqual(w[key], g[key]) {
				out = append(out, fmt.Sprintf("%s %s:\n  want %v\n  got  %v", table.Name, key, nonDefault(w[key]), nonDefault(g[key])))
			}
		}
		for _, key := range sortedKeys(g) {
			if _, ok := w[key]; !ok {
				out = append(out, fmt.Sprintf("%s %s: unexpected %v", table.Name, key, nonDefault(g[key])))
			}
		}
		if len(out) > 10 {
			break
		}
	}
	return fmt.Sprint(out)
}

// randomScenario builds a seeded stream of interleaved sessions.
func randomScenario(seed uint64, sessions int, filtersOn bool) *scenario {
	zones, err := eventtime.NewZoneSet("Asia/Shanghai", map[string]string{"ny": "America/New_York"})
	if err != nil {
		panic(err)
	}
	g := &streamGen{rng: rand.New(rand.NewPCG(seed, 99))}
	// Two days across the US spring-forward, 2026-03-08.
	start := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC).UnixMilli()
	for n := range sessions {
		g.session(n, start+g.rng.Int64N(36*hourMs))
	}
	g.orders(seed, sessions/3, start) // after the sessions: their stream stays as it was
	slices.SortStableFunc(g.steps, func(a, b step) int { return cmp.Compare(a.event.TS, b.event.TS) })
	sc := &scenario{name: fmt.Sprintf("random-%d", seed), zones: zones, lag: 10000, steps: g.steps, alerts: stressAlertRules(), rankings: true}
	sc.settings.AttributionRule, sc.settings.ShopAttributionRules = randomRules(seed)
	if filtersOn {
		sc.settings.Filters = Filters{
			Adverts: true, BuyerIDs: []string{"b-listed"}, AgentIDs: []string{"boss"},
			AgentSingleSentence: true, Monologue: true,
		}
	}
	return sc
}

// streamGen produces the events of random sessions.
type streamGen struct {
	rng   *rand.Rand
	steps []step
	seq   int
	shop  string
	sid   string
	t     int64
}

func (g *streamGen) chance(p float64) bool { return g.rng.Float64() < p }

// gap advances the session clock: mostly seconds, sometimes minutes,
// rarely exactly the timeout or beyond it, sometimes not at all (equal
// timestamps).
func (g *streamGen) gap() {
	switch r := g.rng.Float64(); {
	case r < 0.08:
	case r < 0.75:
		g.t += 1000 + g.rng.Int64N(60000)
	case r < 0.95:
		g.t += 60000 + g.rng.Int64N(5*60000)
	case r < 0.97:
		g.t += 30 * 60000 // exactly the timeout: still open
	default:
		g.t += 30*60000 + 1 + g.rng.Int64N(10*60000) // times out
	}
}

func (g *streamGen) emit(ev schemas.Event) {
	g.seq++
	ev.EventID = fmt.Appendf(nil, "e%06d", g.seq)
	ev.ShopID = []byte(g.shop)
	ev.SessionID = []byte(g.sid)
	if ev.TS == 0 {
		ev.TS = g.t
	}
	g.steps = append(g.steps, step{event: ev, line: len(g.steps) + 1})
	if g.chance(0.04) { // a re-delivery, later in the stream
		g.steps = append(g.steps, step{event: ev, line: len(g.steps) + 1})
	}
}

func (g *streamGen) agent() string { return fmt.Sprintf("a%d", 1+g.rng.IntN(4)) }

func (g *streamGen) session(n int, at int64) {
	g.shop = "sh"
	if n%3 == 0 {
		g.shop = "ny"
	}
	g.sid, g.t = fmt.Sprintf("s%04d", n), at
	g.started(n)
	if g.chance(0.4) {
		g.chat(schemas.SenderRobot, "", 1+g.rng.IntN(3))
	}
	agents := g.humanPhase()
	if g.chance(0.85) {
		g.gap()
		g.emit(schemas.Event{Topic: schemas.TopicSessions, Type: schemas.TypeEnded})
		if g.chance(0.1) { // an event after the close
			g.gap()
			g.emit(schemas.Event{Topic: schemas.TopicMessages, Sender: schemas.SenderSystem})
		}
	}
	g.evaluations(agents)
}

func (g *streamGen) started(n int) {
	if g.chance(0.05) {
		return // never arrives
	}
	origins := []schemas.Origin{schemas.OriginBuyer, schemas.OriginBuyer, schemas.OriginBuyer, schemas.OriginProactive, schemas.OriginRobotOutbound}
	buyer := fmt.Sprintf("b%d", n%50)
	if g.chance(0.05) {
		buyer = "b-listed"
	}
	g.emit(schemas.Event{Topic: schemas.TopicSessions, Type: schemas.TypeStarted,
		BuyerID: []byte(buyer), Origin: origins[g.rng.IntN(len(origins))], Channel: []byte("app")})
}

// humanPhase emits queue episodes, assignments and the conversation, and
// returns the agents assigned.
func (g *streamGen) humanPhase() []string {
	var agents []string
	for episode := 0; episode < 3 && g.chance(0.7-0.3*float64(episode)); episode++ {
		group := []byte(fmt.Sprintf("g%d", 1+g.rng.IntN(2)))
		if g.chance(0.6) {
			g.gap()
			g.emit(schemas.Event{Topic: schemas.TopicTransfers, Type: schemas.TypeQueued, GroupID: group})
			if g.chance(0.15) {
				g.gap()
				g.emit(schemas.Event{Topic: schemas.TopicTransfers, Type: schemas.TypeAbandoned, GroupID: group})
				continue
			}
		}
		if g.chance(0.1) {
			group = nil
		}
		agent := g.agent()
		g.gap()
		g.emit(schemas.Event{Topic: schemas.TopicTransfers, Type: schemas.TypeAssigned, GroupID: group, AgentID: []byte(agent)})
		if g.chance(0.05) { // a second assignment in the same millisecond
			agent = g.agent()
			g.emit(schemas.Event{Topic: schemas.TopicTransfers, Type: schemas.TypeAssigned, GroupID: group, AgentID: []byte(agent)})
		}
		agents = append(agents, agent)
		g.conversation(agent)
	}
	return agents
}

func (g *streamGen) conversation(agent string) {
	for range g.rng.IntN(12) {
		switch r := g.rng.Float64(); {
		case r < 0.45:
			g.chat(schemas.SenderBuyer, "", 1)
		case r < 0.85:
			g.chat(schemas.SenderAgent, agent, 1)
		case r < 0.9:
			g.chat(schemas.SenderAgent, "boss", 1)
		case r < 0.95:
			g.gap()
			g.emit(schemas.Event{Topic: schemas.TopicMessages, Sender: schemas.SenderAgent, AgentID: []byte(agent), IsAd: true})
		default:
			g.chat(schemas.SenderSystem, "", 1)
		}
	}
}

func (g *streamGen) chat(sender schemas.Sender, agent string, n int) {
	for range n {
		g.gap()
		ev := schemas.Event{Topic: schemas.TopicMessages, Sender: sender}
		if agent != "" {
			ev.AgentID = []byte(agent)
		}
		g.emit(ev)
	}
}

// evaluations rate the session after its end, sometimes twice (in another
// hour), sometimes naming an agent, rarely beyond the rating window.
func (g *streamGen) evaluations(agents []string) {
	if !g.chance(0.4) {
		return
	}
	at := g.t
	for range 1 + g.rng.IntN(2) {
		switch r := g.rng.Float64(); {
		case r < 0.7:
			at += g.rng.Int64N(2 * hourMs)
		case r < 0.95:
			at += g.rng.Int64N(20 * hourMs)
		default:
			at += 25 * hourMs
		}
		beyond := at > g.t+24*hourMs // the session closed at g.t or later
		ev := schemas.Event{Topic: schemas.TopicEvaluations, Score: int8(1 + g.rng.IntN(5)), TS: at}
		if len(agents) > 0 && g.chance(0.3) {
			ev.AgentID = []byte(agents[g.rng.IntN(len(agents))])
		}
		n := len(g.steps)
		g.emit(ev)
		for i := n; i < len(g.steps); i++ {
			// Beyond the rating window: late (a dead letter) when the
			// session's close is known on arrival, else held and ignored;
			// the rows are the same either way.
			g.steps[i].mayLate = beyond
		}
	}
}

// TestRandomStreamIsExercised guards the generator: the property test is
// only as good as the situations the stream creates.
func TestRandomStreamIsExercised(t *testing.T) {
	sc := randomScenario(0, 400, true)
	sorted := slices.Clone(sc.steps)
	slices.SortStableFunc(sorted, func(a, b step) int { return cmp.Compare(a.event.TS, b.event.TS) })
	_, e := sc.run(t, displace(rand.New(rand.NewPCG(1, 2)), sorted, 50*time.Minute), true)
	st := e.Stats()
	t.Logf("%d events: %+v", len(sc.steps), st)
	if st.Duplicates == 0 || st.Filtered == 0 || st.AfterClose == 0 || st.Replays == 0 {
		t.Errorf("the stream misses a situation: %+v", st)
	}
	if st.Watermark != math.MaxInt64 {
		t.Errorf("watermark %d", st.Watermark)
	}
}
