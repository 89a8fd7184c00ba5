package metrics

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/cspulse/cspulse/schemas"
)

// viewLog sums SessionClosed calls by sign, per session.
type viewLog struct {
	net     map[string]int
	last    map[string]SessionView
	retract int
}

func (l *viewLog) SessionClosed(v *SessionView, sign int) {
	key := v.ShopID + "|" + v.SessionID
	l.net[key] += sign
	if sign > 0 {
		l.last[key] = *v
	} else {
		l.retract++
	}
}

func runWithListener(t *testing.T, scenarioName string) *viewLog {
	t.Helper()
	sc := loadScenario(t, filepath.Join("testdata", "scenarios", scenarioName))
	log := &viewLog{net: map[string]int{}, last: map[string]SessionView{}}
	s := sc.engineSettings(t)
	s.Sessions = log
	e := NewEngine(s)
	maxTS := int64(math.MinInt64)
	for i := range sc.steps {
		ev := &sc.steps[i].event
		if ev.Topic == schemas.TopicInvalid {
			e.Advance(sc.steps[i].advance)
			continue
		}
		e.Apply(ev)
		maxTS = max(maxTS, ev.TS)
		e.Advance(maxTS - sc.lag)
	}
	e.Advance(math.MaxInt64)
	return log
}

func at(s string) int64 {
	ms, err := parseInstant(s)
	if err != nil {
		panic(err)
	}
	return ms
}

// TestSessionListenerSeesFinalSessions: reopened sessions are taken back
// and shown again, so the signed sum is one view per closed session, the
// final one.
func TestSessionListenerSeesFinalSessions(t *testing.T) {
	log := runWithListener(t, "reopen_after_timeout")
	for key, n := range log.net {
		if n != 1 {
			t.Errorf("%s: net %d views", key, n)
		}
	}
	if log.retract == 0 {
		t.Error("no close was taken back, though z1 and z2 reopen")
	}
	z1 := log.last["shop1|z1"]
	want := SessionView{
		ShopID: "shop1", SessionID: "z1", BuyerID: "b1", Origin: schemas.OriginBuyer,
		StartedAt: at("2026-03-02T10:00:00.000+08:00"), EndedAt: at("2026-03-02T10:56:00.000+08:00"),
		BuyerMsgs: 2, AgentMsgs: 2, HumanBuyerMsgs: 2, HumanAgentMsgs: 2, Picked: true, Received: true,
		Inquiry: true, InquiryAt: at("2026-03-02T10:00:20.000+08:00"), InquiryAgentID: "a1",
	}
	if z1 != want {
		t.Errorf("z1:\n got %+v\nwant %+v", z1, want)
	}
}

// TestSessionListenerOrigins: proactive sessions are no inquiries; robot
// sessions carry task, robot and intent.
func TestSessionListenerOrigins(t *testing.T) {
	log := runWithListener(t, "origins")
	if v := log.last["shop1|o1"]; v.Origin != schemas.OriginProactive || v.Inquiry {
		t.Errorf("o1: %+v", v)
	}
	o2 := log.last["shop1|o2"]
	if o2.Origin != schemas.OriginRobotOutbound || o2.TaskID != "t1" || o2.RobotID != "rb1" || o2.Intent != "A" ||
		o2.BuyerMsgs != 1 || o2.RobotMsgs != 2 || !o2.ClosedByEnded {
		t.Errorf("o2: %+v", o2)
	}
}

// TestSessionListenerSkipsDroppedSessions: a listed buyer's session is
// never shown.
func TestSessionListenerSkipsDroppedSessions(t *testing.T) {
	log := runWithListener(t, "account_advert_filters_on")
	if _, shown := log.net["shop1|f2"]; shown {
		t.Error("f2, of a listed buyer, was shown")
	}
	if log.net["shop1|f1"] != 1 {
		t.Errorf("f1: %d", log.net["shop1|f1"])
	}
}

// TestAddSale credits sales to the hour of payment, agent or silent, and
// takes them back; a final hour refuses them unless held.
func TestAddSale(t *testing.T) {
	sc := loadScenario(t, filepath.Join("testdata", "scenarios", "reply_3min_boundary"))
	e := NewEngine(sc.engineSettings(t))
	paid := at("2026-03-02T10:30:00.000+08:00")
	shop, group, agent := []byte("shop1"), []byte("g1"), []byte("a1")
	for _, sale := range []struct {
		agent          []byte
		amount, orders int64
	}{{agent, 1000, 1}, {agent, 250, 1}, {nil, 70, 1}, {agent, -250, -1}} {
		if !e.AddSale(shop, group, sale.agent, paid, sale.amount, sale.orders) {
			t.Fatal("AddSale refused an open hour")
		}
	}
	rows := newRowSet(sc.zones)
	e.flush(1, rows)
	final := normalizeRows(rows.final())
	hour := "2026-03-02T10:00+08:00"
	agentRow := final[AgentHourlyTable.Name]["shop1|g1|a1|"+hour]
	shopRow := final[ShopHourlyTable.Name]["shop1|"+hour]
	for _, c := range []struct {
		row  map[string]any
		col  string
		want string
	}{
		{agentRow, "paid_amount", "1000"}, {agentRow, "paid_orders", "1"},
		{shopRow, "paid_amount_total", "1070"}, {shopRow, "paid_amount_agents", "1000"},
		{shopRow, "paid_amount_silent", "70"}, {shopRow, "paid_orders", "2"},
	} {
		if c.row[c.col] != c.want {
			t.Errorf("%s = %v, want %s", c.col, c.row[c.col], c.want)
		}
	}

	if !e.HoldHour(paid) {
		t.Fatal("HoldHour refused an open hour")
	}
	e.Advance(paid + 3*hourMs)
	if !e.AddSale(shop, group, agent, paid, 5, 1) {
		t.Error("AddSale refused a held hour")
	}
	e.ReleaseHour(paid)
	e.Advance(paid + 4*hourMs)
	if e.AddSale(shop, group, agent, paid, 5, 1) {
		t.Error("AddSale took a sale into a final hour")
	}
	if st := e.Stats(); st.FinalCellWrites != 0 {
		t.Errorf("%+v", st)
	}
}

// TestStatsPhases follows one session through its phases.
func TestStatsPhases(t *testing.T) {
	sc := loadScenario(t, filepath.Join("testdata", "scenarios", "reply_3min_boundary"))
	e := NewEngine(sc.engineSettings(t))
	ended := at("2026-03-02T10:09:00.000+08:00")
	for i := range sc.steps[:len(sc.steps)-1] { // all but `ended`
		e.Apply(&sc.steps[i].event)
	}
	phase := func() [4]int {
		st := e.Stats()
		return [4]int{st.OpenSessions, st.ClosedSessions, st.Summaries, st.PendingRatings}
	}
	if got := phase(); got != [4]int{1, 0, 0, 0} {
		t.Fatalf("before ended: %v", got)
	}
	e.Apply(&sc.steps[len(sc.steps)-1].event)
	if got := phase(); got != [4]int{1, 0, 0, 0} {
		t.Fatalf("after ended, ahead of the watermark: %v", got)
	}
	e.Advance(ended) // on time still: an event at the watermark may come
	if got := phase(); got != [4]int{1, 0, 0, 0} {
		t.Fatalf("watermark at ended: %v", got)
	}
	e.Advance(ended + 1)
	if got := phase(); got != [4]int{0, 1, 0, 0} {
		t.Fatalf("after ended: %v", got)
	}
	e.Advance(ended + time.Hour.Milliseconds() + 1)
	if got := phase(); got != [4]int{0, 0, 1, 0} {
		t.Fatalf("after compaction: %v", got)
	}
	e.Advance(ended + 25*time.Hour.Milliseconds() + 1)
	if got := phase(); got != [4]int{0, 0, 0, 0} {
		t.Fatalf("after the rating window: %v", got)
	}
	if st := e.Stats(); st.ApproxBytes <= 0 || st.Watermark != ended+25*hourMs+1 {
		t.Errorf("%+v", st)
	}
}
