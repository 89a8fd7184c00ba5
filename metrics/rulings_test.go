package metrics

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/cspulse/cspulse/schemas"
)

// TestRatingWaitsForHeldAssigned pins the bug of issue 17.4: an
// evaluation that arrives while its session's `assigned` is still held
// for the watermark was credited at once to group "" of the rated agent;
// a replay in which the `assigned` came first never wrote that row again,
// so a stale non-zero row stayed in cs_agent_hourly. The evaluation must
// wait until the session's earlier events are applied: no row of group
// "" is ever written, whatever the flushes.
func TestRatingWaitsForHeldAssigned(t *testing.T) {
	sc := &scenario{name: "held-assigned", lag: 10_000}
	sc.zones = loadScenario(t, filepath.Join("testdata", "scenarios", "ratings")).zones
	ev := func(topic schemas.Topic, id string, ts int64, f func(*schemas.Event)) step {
		e := schemas.Event{Topic: topic, EventID: []byte(id), ShopID: []byte("shop1"), SessionID: []byte("s1"), TS: ts}
		f(&e)
		return step{event: e}
	}
	const t0 = int64(1772416800000) // 2026-03-02 10:00 +08:00
	steps := []step{
		ev(schemas.TopicSessions, "1", t0, func(e *schemas.Event) {
			e.Type, e.BuyerID, e.Origin = schemas.TypeStarted, []byte("b1"), schemas.OriginBuyer
		}),
		ev(schemas.TopicMessages, "2", t0+20_000, func(e *schemas.Event) { e.Sender = schemas.SenderBuyer }),
		// The evaluation overtakes the `assigned` (another topic's fetch).
		ev(schemas.TopicEvaluations, "5", t0+25_000, func(e *schemas.Event) { e.Score, e.AgentID = 5, []byte("a02") }),
		ev(schemas.TopicTransfers, "3", t0+21_000, func(e *schemas.Event) {
			e.Type, e.AgentID, e.GroupID = schemas.TypeAssigned, []byte("a02"), []byte("g1")
		}),
		ev(schemas.TopicMessages, "4", t0+22_000, func(e *schemas.Event) { e.Sender, e.AgentID = schemas.SenderAgent, []byte("a02") }),
		ev(schemas.TopicMessages, "6", t0+60_000, func(e *schemas.Event) { e.Sender = schemas.SenderSystem }),
	}
	e := NewEngine(sc.engineSettings(t))
	rows := newRowSet(sc.zones)
	maxTS := int64(math.MinInt64)
	for i := range steps {
		if _, ok := e.Apply(&steps[i].event); !ok {
			t.Fatalf("event %s late", steps[i].event.EventID)
		}
		maxTS = max(maxTS, steps[i].event.TS)
		e.Advance(maxTS - sc.lag)
		e.flush(uint64(i+1), rows)
	}
	e.Advance(math.MaxInt64)
	e.flush(uint64(len(steps)+1), rows)
	for key, r := range rows.rows[AgentHourlyTable.Name] {
		if r.cols["group_id"] == "" {
			t.Errorf("row %s written: %v", key, r.cols)
		}
	}
	r, ok := rows.rows[AgentHourlyTable.Name]["shop1|g1|a02|2026-03-02T10:00+08:00"]
	if !ok || r.cols["ratings"] != uint64(1) || r.cols["satisfied"] != uint64(1) {
		t.Errorf("a02/g1 row: %v, %v; want ratings 1, satisfied 1", ok, r.cols)
	}
}

// TestLateRatingIsDeadLettered pins SPEC §3.3: an evaluation more than
// rating_window after its (closed) session's close is late, not ignored
// silently: Apply returns ReasonLate and Stats counts it.
func TestLateRatingIsDeadLettered(t *testing.T) {
	sc := loadScenario(t, filepath.Join("testdata", "scenarios", "ratings"))
	_, e := sc.run(t, sc.steps, true) // r4-ev1 is marked "expect": "late"
	if st := e.Stats(); st.LateRatings != 1 {
		t.Errorf("LateRatings = %d, want 1 (r4-ev1)", st.LateRatings)
	}
}

// TestEqualToWatermarkIsOnTime: the watermark promises that every event
// still to come on time has ts ≥ watermark (a reorder buffer would release
// ts < watermark only). An `assigned` with ts equal to the watermark may
// therefore still come after a buyer message of the same instant; the
// engine must not have stepped that message yet, or the message lands for
// a while on the previous agent (a row in an hour that agent never had
// anything in) on one path and not on another.
func TestEqualToWatermarkIsOnTime(t *testing.T) {
	sc := &scenario{name: "equal-wm", lag: 10_000}
	sc.zones = loadScenario(t, filepath.Join("testdata", "scenarios", "ratings")).zones
	ev := func(topic schemas.Topic, id string, ts int64, f func(*schemas.Event)) step {
		e := schemas.Event{Topic: topic, EventID: []byte(id), ShopID: []byte("shop1"), SessionID: []byte("s1"), TS: ts}
		f(&e)
		return step{event: e}
	}
	const t10 = int64(1772416800000) // 2026-03-02 10:00 +08:00
	started := ev(schemas.TopicSessions, "1", t10-60_000, func(e *schemas.Event) {
		e.Type, e.BuyerID, e.Origin = schemas.TypeStarted, []byte("b1"), schemas.OriginBuyer
	})
	a1 := ev(schemas.TopicTransfers, "2", t10-10_000, func(e *schemas.Event) {
		e.Type, e.AgentID, e.GroupID = schemas.TypeAssigned, []byte("a1"), []byte("g1")
	})
	buyer := ev(schemas.TopicMessages, "3", t10, func(e *schemas.Event) { e.Sender = schemas.SenderBuyer })
	a2 := ev(schemas.TopicTransfers, "4", t10, func(e *schemas.Event) {
		e.Type, e.AgentID, e.GroupID = schemas.TypeAssigned, []byte("a2"), []byte("g1")
	})
	// Moves the watermark to exactly t10 (ts − max_out_of_order).
	later := ev(schemas.TopicMessages, "5", t10+10_000, func(e *schemas.Event) { e.Sender = schemas.SenderSystem })
	reply := ev(schemas.TopicMessages, "6", t10+20_000, func(e *schemas.Event) { e.Sender, e.AgentID = schemas.SenderAgent, []byte("a2") })
	run := func(steps ...step) allRows {
		return stepDriver{advanceEvery: 1, flushEvery: 1}.run(t, sc, steps)
	}
	want := run(started, a1, buyer, a2, later, reply)
	got := run(started, a1, buyer, later, a2, reply) // a2 arrives at ts = watermark
	if !equalTables(want, got) {
		t.Errorf("an event at ts = watermark changed the rows:\n%s", tableDiff(want, got))
	}
}
