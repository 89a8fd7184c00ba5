package metrics

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
)

// conversation returns the events of one buyer session: started,
// assigned to agent in group, one buyer message, the agent's reply after
// replyDelay, ended 10 minutes after the start.
func conversation(shop, id, agent, group string, start int64, replyDelay time.Duration) []schemas.Event {
	ev := func(topic schemas.Topic, typ schemas.EventType, n int, ts int64) schemas.Event {
		return schemas.Event{Topic: topic, Type: typ, EventID: []byte(fmt.Sprintf("%s-%s-%d", shop, id, n)),
			ShopID: []byte(shop), SessionID: []byte(id), TS: ts}
	}
	started := ev(schemas.TopicSessions, schemas.TypeStarted, 0, start)
	started.BuyerID, started.Origin = []byte("b-"+id), schemas.OriginBuyer
	assigned := ev(schemas.TopicTransfers, schemas.TypeAssigned, 1, start+1000)
	assigned.AgentID, assigned.GroupID = []byte(agent), []byte(group)
	buyer := ev(schemas.TopicMessages, schemas.TypeNone, 2, start+2000)
	buyer.Sender = schemas.SenderBuyer
	reply := ev(schemas.TopicMessages, schemas.TypeNone, 3, start+2000+replyDelay.Milliseconds())
	reply.Sender, reply.AgentID = schemas.SenderAgent, []byte(agent)
	ended := ev(schemas.TopicSessions, schemas.TypeEnded, 5, start+10*60*1000)
	return []schemas.Event{started, assigned, buyer, reply, ended}
}

// hourOf returns n conversations of shop's agent spread over the local
// hour starting at from (RFC 3339), replied after delay.
func hourOf(shop, agent, group, from string, n int, delay time.Duration) []schemas.Event {
	start := at(from)
	var evs []schemas.Event
	for i := range n {
		evs = append(evs, conversation(shop, fmt.Sprintf("%s-%d-%d", agent, start, i), agent, group,
			start+int64(i)*(3_000_000/int64(n)), delay)...)
	}
	return evs
}

// alertRun feeds events in ts order with a watermark 10 s behind the
// newest, flushing every flushEvery events, and returns the alerts.
type alertRun struct {
	settings   Settings
	flushEvery int
	restoreAt  int // > 0: save and restore into a new engine after this many events
}

func (r alertRun) run(t *testing.T, evs []schemas.Event) ([]schemas.Alert, *rowSet) {
	t.Helper()
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b schemas.Event) int { return int(a.TS - b.TS) })
	e := NewEngine(r.settings)
	rows := newRowSet(r.settings.Zones)
	var got []schemas.Alert
	version := uint64(0)
	flush := func() {
		version++
		e.flush(version, rows)
		got = append(got, e.takeAlerts()...)
	}
	maxTS := int64(math.MinInt64)
	for i := range evs {
		if _, ok := e.Apply(&evs[i]); !ok {
			t.Fatalf("event %d refused", i)
		}
		maxTS = max(maxTS, evs[i].TS)
		e.Advance(maxTS - 10_000)
		if r.flushEvery > 0 && i%r.flushEvery == 0 {
			flush()
		}
		if r.restoreAt > 0 && i == r.restoreAt {
			flush()
			e = restored(t, e, r.settings)
		}
	}
	e.Advance(math.MaxInt64)
	flush()
	return got, rows
}

// restored saves e's state and loads it into a new engine.
func restored(t *testing.T, e *Engine, s Settings) *Engine {
	t.Helper()
	st := changelog{}
	e.saveChanged(st)
	s.Zones = s.Zones.Clone()
	fresh := NewEngine(s)
	for k, v := range st {
		if err := fresh.Load([]byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := fresh.LoadDone(); err != nil {
		t.Fatal(err)
	}
	return fresh
}

func alertSettings(t testing.TB, zone string, rules ...AlertRule) Settings {
	t.Helper()
	zones, err := eventtime.NewZoneSet(zone, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings(zones)
	s.Alerts = rules
	return s
}

func replyRule(window int, week bool, minSample int64) AlertRule {
	return AlertRule{Name: "reply", Metric: "reply_3min_rate", Scope: ScopeShop, WindowDays: window, Week: week,
		Threshold: 0.9, Direction: ">=", MinSample: minSample}
}

// brief is an alert reduced to what the scenarios check.
func brief(a schemas.Alert) string {
	return fmt.Sprintf("%s %s %s/%s %s %d/%d %s..%s", a.EvaluatedAt.Format(time.RFC3339), a.Rule, a.Scope, a.ScopeID,
		a.State, a.Numerator, a.Denominator, a.WindowStart.Format(time.RFC3339), a.WindowEnd.Format(time.RFC3339))
}

func briefs(as []schemas.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, brief(a))
	}
	return out
}

// TestAlertBreachAndRecovery: a shop's reply rate over the last day falls
// below 90 % in one hour and comes back when enough good hours follow; a
// shop below the minimum sample never changes state.
func TestAlertBreachAndRecovery(t *testing.T) {
	var evs []schemas.Event
	evs = append(evs, hourOf("s1", "a1", "g1", "2026-03-02T09:00:00+08:00", 10, 30*time.Second)...)
	evs = append(evs, hourOf("s1", "a1", "g1", "2026-03-02T10:00:00+08:00", 10, 5*time.Minute)...)
	evs = append(evs, hourOf("s1", "a1", "g1", "2026-03-02T11:00:00+08:00", 80, 30*time.Second)...)
	evs = append(evs, hourOf("s2", "a9", "", "2026-03-02T10:00:00+08:00", 4, 5*time.Minute)...)
	got, _ := alertRun{settings: alertSettings(t, "Asia/Shanghai", replyRule(1, false, 5)), flushEvery: 7}.run(t, evs)
	// Saved for the first time mid-stream and restored: the same alerts.
	again, _ := alertRun{settings: alertSettings(t, "Asia/Shanghai", replyRule(1, false, 5)), flushEvery: 7, restoreAt: len(evs) / 2}.run(t, evs)
	if !slices.Equal(briefs(again), briefs(got)) || again[0].AlertID != got[0].AlertID {
		t.Errorf("restored mid-stream: %q, want %q", briefs(again), briefs(got))
	}
	want := []string{
		// 09:00 ok (10/10); by 11:00 10 slow of 20: breach.
		"2026-03-02T03:00:00Z reply shop/s1 breach 10/20 2026-03-01T03:00:00Z..2026-03-02T03:00:00Z",
		// by 12:00: 90 of 100 within 3 minutes.
		"2026-03-02T04:00:00Z reply shop/s1 recovered 90/100 2026-03-01T04:00:00Z..2026-03-02T04:00:00Z",
	}
	if g := briefs(got); !slices.Equal(g, want) {
		t.Errorf("alerts:\n got %q\nwant %q", g, want)
	}
	id := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, a := range got {
		if !id.MatchString(a.AlertID) || a.Value != float64(a.Numerator)/float64(a.Denominator) ||
			a.Window != "rolling_1d" || a.Threshold != 0.9 || a.Direction != ">=" || a.Metric != "reply_3min_rate" {
			t.Errorf("alert %+v", a)
		}
	}
	if got[0].AlertID == got[1].AlertID {
		t.Error("breach and recovery share an id")
	}
}

// TestAlertsRollingAndWeek: the same slow Sunday keeps a rolling window in
// breach on Monday, while the calendar week starts over at Monday 00:00
// local; in New York the week after the DST change starts at 04:00 UTC.
func TestAlertsRollingAndWeek(t *testing.T) {
	var evs []schemas.Event
	evs = append(evs, hourOf("s1", "a1", "g1", "2026-03-01T10:00:00-05:00", 10, 5*time.Minute)...)  // Sunday
	evs = append(evs, hourOf("s1", "a1", "g1", "2026-03-02T10:00:00-05:00", 10, 30*time.Second)...) // Monday
	evs = append(evs, hourOf("s1", "a1", "g1", "2026-03-08T10:00:00-04:00", 10, 5*time.Minute)...)  // Sunday after DST
	evs = append(evs, hourOf("s1", "a1", "g1", "2026-03-09T10:00:00-04:00", 10, 30*time.Second)...)
	rolling := replyRule(2, false, 5)
	rolling.Name = "reply_2d"
	week := replyRule(0, true, 5)
	week.Name = "reply_week"
	got, _ := alertRun{settings: alertSettings(t, "America/New_York", rolling, week), flushEvery: 50}.run(t, evs)
	want := []string{
		"2026-03-01T16:00:00Z reply_2d shop/s1 breach 0/10 2026-02-27T16:00:00Z..2026-03-01T16:00:00Z",
		"2026-03-01T16:00:00Z reply_week shop/s1 breach 0/10 2026-02-23T05:00:00Z..2026-03-01T16:00:00Z",
		// Monday 11:00: the week holds Monday only; the 2 days hold 10 of 20.
		"2026-03-02T16:00:00Z reply_week shop/s1 recovered 10/10 2026-03-02T05:00:00Z..2026-03-02T16:00:00Z",
		// Tuesday 11:00 local: Sunday left the 2-day window.
		"2026-03-03T16:00:00Z reply_2d shop/s1 recovered 10/10 2026-03-01T16:00:00Z..2026-03-03T16:00:00Z",
		"2026-03-08T15:00:00Z reply_2d shop/s1 breach 0/10 2026-03-06T15:00:00Z..2026-03-08T15:00:00Z",
		"2026-03-08T15:00:00Z reply_week shop/s1 breach 10/20 2026-03-02T05:00:00Z..2026-03-08T15:00:00Z",
		"2026-03-09T15:00:00Z reply_week shop/s1 recovered 10/10 2026-03-09T04:00:00Z..2026-03-09T15:00:00Z",
	}
	if g := briefs(got); !slices.Equal(g, want) {
		t.Errorf("alerts:\n got %s\nwant %s", strings.Join(g, "\n     "), strings.Join(want, "\n     "))
	}
}

// TestAlertScopesAndOverrides: group and agent scopes are judged on their
// own figures, an agent's alert names the group of its latest figures,
// and per-shop overrides switch a rule off or move its threshold.
func TestAlertScopesAndOverrides(t *testing.T) {
	var evs []schemas.Event
	// s1: a1 fast in g1, then slow in g2; a2 fast in g2.
	evs = append(evs, hourOf("s1", "a1", "g1", "2026-03-02T09:00:00+08:00", 10, 30*time.Second)...)
	evs = append(evs, hourOf("s1", "a1", "g2", "2026-03-02T10:00:00+08:00", 10, 5*time.Minute)...)
	evs = append(evs, hourOf("s1", "a2", "g2", "2026-03-02T10:00:00+08:00", 30, 30*time.Second)...)
	// s2 and s3: the same slow hour; s2 has the rule off, s3 a threshold of 0.
	evs = append(evs, hourOf("s2", "a1", "g1", "2026-03-02T10:00:00+08:00", 10, 5*time.Minute)...)
	evs = append(evs, hourOf("s3", "a1", "g1", "2026-03-02T10:00:00+08:00", 10, 5*time.Minute)...)
	zero := 0.0
	agent := AlertRule{Name: "agent", Metric: "reply_3min_rate", Scope: ScopeAgent, WindowDays: 1, Threshold: 0.9, Direction: ">=", MinSample: 5,
		Shops: map[string]AlertOverride{"s2": {Off: true}, "s3": {Threshold: &zero}}}
	group := AlertRule{Name: "group", Metric: "reply_3min_rate", Scope: ScopeGroup, WindowDays: 1, Threshold: 0.9, Direction: ">=", MinSample: 5}
	got, _ := alertRun{settings: alertSettings(t, "Asia/Shanghai", agent, group), flushEvery: 5}.run(t, evs)
	var lines []string
	for _, a := range got {
		lines = append(lines, fmt.Sprintf("%s %s %s/%s group=%s %s %d/%d", a.EvaluatedAt.Format("15:04"), a.ShopID, a.Scope, a.ScopeID, a.GroupID, a.State, a.Numerator, a.Denominator))
	}
	want := []string{
		// 11:00 local: a1 10 of 20 (latest figures in g2); g2 30 of 40 = 0.75;
		// g1 10 of 10 is fine; a2 30 of 30 is fine. s2's rule is off; s3's
		// threshold 0 is always met.
		"03:00 s1 agent/a1 group=g2 breach 10/20",
		"03:00 s1 group/g2 group=g2 breach 30/40",
		"03:00 s2 group/g1 group=g1 breach 0/10",
		"03:00 s3 group/g1 group=g1 breach 0/10",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("alerts:\n got %s\nwant %s", strings.Join(lines, "\n     "), strings.Join(want, "\n     "))
	}
}
