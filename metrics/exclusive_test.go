package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/tables"
)

// Hand-computed cases for each rule of SPEC §3.7, one (shop, agent, day)
// figure set each. The shop is in Asia/Shanghai; "D1 10:00" is Monday
// 2026-03-02 10:00 local, D0 the day before. In every case b1 accepted a1
// on D0 unless the case says otherwise.

// xev is one event of a case: "topic type at k=v ...", e.g.
// "out accepted D0 09:00 buyer=b1 agent=a1" or "msg agent D1 10:00 s=p1 agent=a1".
type xcase struct {
	name   string
	events []string
	want   map[string]xvalues // "agent|D<n>" → figures; other cells must be all zero
}

// figures names the columns of a case's expectation.
func xfigures(kv ...int64) xvalues {
	var v xvalues
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = kv[i+1]
	}
	return v
}

var accepted = "out accepted D0 09:00 buyer=b1 agent=a1"

// proactive opens proactive session s of b1 at t and has a1 write in it
// at t+5s; it ends at t+1m.
func proactive(s, day, hm string) []string {
	return []string{
		fmt.Sprintf("ses started %s %s:00.000 s=%s buyer=b1 origin=proactive", day, hm, s),
		fmt.Sprintf("msg agent %s %s:05.000 s=%s agent=a1", day, hm, s),
		fmt.Sprintf("ses ended %s %s:59.000 s=%s", day, hm, s),
	}
}

func join(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			out = append(out, p)
		case []string:
			out = append(out, p...)
		}
	}
	return out
}

func xcases() []xcase {
	sent := func(kv ...int64) xvalues { return xfigures(append([]int64{xCustomers, 1, xSent, 1}, kv...)...) }
	d0 := xfigures(xCustomers, 1, xAcceptedN, 1)
	return []xcase{
		{"read then paid: a guided order", join(accepted, proactive("p1", "D1", "10:00"),
			"out read D1 10:10 buyer=b1 s=p1", "ord paid D1 11:00 buyer=b1 order=o1 amount=500"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": sent(xReadC, 1, xBought, 1, xGuidedOrders, 1, xGuidedAmount, 500)}},
		{"condition: no proactive message that day", join(accepted, proactive("p1", "D0", "20:00"),
			"out read D0 20:10 buyer=b1 s=p1", "ord paid D1 11:00 buyer=b1 order=o1 amount=500"),
			map[string]xvalues{"a1|D0": xfigures(xCustomers, 1, xAcceptedN, 1, xSent, 1, xReadC, 1), "a1|D1": xfigures(xCustomers, 1)}},
		{"condition: paid before the first message", join(accepted, "ord paid D1 09:30 buyer=b1 order=o1 amount=500",
			proactive("p1", "D1", "10:00"), "out read D1 10:10 buyer=b1 s=p1"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": sent(xReadC, 1)}},
		{"condition: relationship made the same day", join("out invited D1 08:00 buyer=b1 agent=a1",
			"out accepted D1 09:00 buyer=b1 agent=a1", proactive("p1", "D1", "10:00"),
			"out read D1 10:10 buyer=b1 s=p1", "ord paid D1 11:00 buyer=b1 order=o1 amount=500"),
			map[string]xvalues{"a1|D1": xfigures(xCustomers, 1, xInvitedN, 1, xAcceptedN, 1, xSent, 1, xReadC, 1, xBought, 1)}},
		{"condition: unread, then bought", join(accepted, proactive("p1", "D1", "10:00"),
			"ord paid D1 11:00 buyer=b1 order=o1 amount=500"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": sent(xBought, 1)}},
		{"condition: read after paying", join(accepted, proactive("p1", "D1", "10:00"),
			"ord paid D1 11:00 buyer=b1 order=o1 amount=500", "out read D1 11:10 buyer=b1 s=p1"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": sent(xReadC, 1, xBought, 1)}},
		{"a purchase the next day counts nothing", join(accepted, proactive("p1", "D1", "10:00"),
			"out read D1 10:10 buyer=b1 s=p1", "ord paid D2 09:00 buyer=b1 order=o1 amount=500"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": sent(xReadC, 1), "a1|D2": xfigures(xCustomers, 1)}},
		{"late-evening campaign: 23:30 message, 00:10 payment", join(accepted, proactive("p1", "D1", "23:30"),
			"out read D1 23:40 buyer=b1 s=p1", "out visited D1 23:50 buyer=b1",
			"ord paid D2 00:10 buyer=b1 order=o1 amount=500"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": sent(xReadC, 1, xVisitedC, 1), "a1|D2": xfigures(xCustomers, 1)}},
		{"late-evening campaign: read and paid before midnight", join(accepted, proactive("p1", "D1", "23:30"),
			"out read D1 23:40 buyer=b1 s=p1", "ord paid D1 23:59 buyer=b1 order=o1 amount=500"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": sent(xReadC, 1, xBought, 1, xGuidedOrders, 1, xGuidedAmount, 500)}},
		{"presale: deposit on D1, final on D10 after a read message", join(accepted, proactive("p1", "D1", "10:00"),
			"out read D1 10:10 buyer=b1 s=p1", "ord paid D1 11:00 buyer=b1 order=o1 amount=100 stage=deposit",
			proactive("p2", "D10", "10:00"), "out read D10 10:10 buyer=b1 s=p2",
			"ord paid D10 11:00 buyer=b1 order=o1 amount=900 stage=final"),
			withDays(map[string]xvalues{"a1|D0": d0, "a1|D1": sent(xReadC, 1),
				"a1|D10": sent(xReadC, 1, xBought, 1, xGuidedOrders, 1, xGuidedAmount, 1000)}, 2, 9, xfigures(xCustomers, 1))},
		{"presale: a final payment without a read counts nothing", join(accepted,
			"ord paid D0 11:00 buyer=b1 order=o1 amount=100 stage=deposit", proactive("p2", "D1", "10:00"),
			"ord paid D1 11:00 buyer=b1 order=o1 amount=900 stage=final"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": sent(xBought, 1)}},
		{"unsubscribed before the payment", join(accepted, proactive("p1", "D1", "10:00"),
			"out read D1 10:10 buyer=b1 s=p1", "out unsubscribed D1 10:30 buyer=b1 agent=a1",
			"ord paid D1 11:00 buyer=b1 order=o1 amount=500"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": xfigures(xEnded, 1, xSent, 1, xReadC, 1, xBought, 1)}},
		{"a session the buyer opened is no send", join(accepted,
			"ses started D1 10:00:00.000 s=b6 buyer=b1 origin=buyer", "msg buyer D1 10:00:02.000 s=b6",
			"msg agent D1 10:00:05.000 s=b6 agent=a1", "ses ended D1 10:01:00.000 s=b6",
			"ord paid D1 11:00 buyer=b1 order=o1 amount=500"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": xfigures(xCustomers, 1)}},
		{"two agents write one customer: only the owner counts", join(accepted,
			"ses started D1 10:00:00.000 s=p1 buyer=b1 origin=proactive", "msg agent D1 10:00:05.000 s=p1 agent=a2",
			"msg agent D1 10:00:06.000 s=p1 agent=a1", "msg buyer D1 10:02:00.000 s=p1", "ses ended D1 10:05:00.000 s=p1",
			"out read D1 10:01 buyer=b1 s=p1", "ord paid D1 11:00 buyer=b1 order=o1 amount=500"),
			map[string]xvalues{"a1|D0": d0, "a1|D1": sent(xReadC, 1, xReplied, 1, xBought, 1, xGuidedOrders, 1, xGuidedAmount, 500)}},
		{"another agent's acceptance moves the customer", join(accepted, "out accepted D1 09:00 buyer=b1 agent=a2",
			proactive("p1", "D1", "10:00")),
			map[string]xvalues{"a1|D0": d0, "a2|D1": xfigures(xCustomers, 1, xAcceptedN, 1)}},
		{"invitations and rejections count by day; a re-delivery once", join(
			"out invited D1 08:00 buyer=b1 agent=a1 id=i1", "out invited D1 08:00 buyer=b1 agent=a1 id=i1",
			"out invited D1 08:05 buyer=b2 agent=a1", "out rejected D1 08:10 buyer=b2 agent=a1",
			"out accepted D1 08:20 buyer=b1 agent=a1 via=auto", "out accepted D1 08:30 buyer=b1 agent=a1"),
			map[string]xvalues{"a1|D1": xfigures(xCustomers, 1, xInvitedN, 2, xRejectedN, 1, xAcceptedN, 1)}},
	}
}

// withDays adds the same figures for days from..to.
func withDays(m map[string]xvalues, from, to int, v xvalues) map[string]xvalues {
	for d := from; d <= to; d++ {
		m[fmt.Sprintf("a1|D%d", d)] = v
	}
	return m
}

// TestExclusiveRules runs every case in order, in arrival orders
// disordered within max_out_of_order, and with a checkpoint restore after
// every event; all must give the hand-computed rows.
func TestExclusiveRules(t *testing.T) {
	for _, c := range xcases() {
		t.Run(c.name, func(t *testing.T) {
			evs := parseXEvents(t, c.events)
			check := func(how string, got map[string]xvalues) {
				t.Helper()
				for _, k := range slices.Sorted(mapKeys(got, c.want)) {
					if got[k] != c.want[k] {
						t.Errorf("%s: %s = %s, want %s", how, k, showX(got[k]), showX(c.want[k]))
					}
				}
			}
			check("in order", runX(t, evs, -1, 0))
			for seed := range uint64(5) {
				check(fmt.Sprintf("disordered (seed %d)", seed), runX(t, evs, -1, seed+1))
			}
			for cut := range evs {
				check(fmt.Sprintf("restored after event %d", cut), runX(t, evs, cut, 0))
			}
		})
	}
}

func mapKeys(a, b map[string]xvalues) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range a {
			if !yield(k) {
				return
			}
		}
		for k := range b {
			if _, dup := a[k]; !dup && !yield(k) {
				return
			}
		}
	}
}

func showX(v xvalues) string {
	names := ExclusiveTable.Columns[3:]
	var parts []string
	for i, x := range v {
		if x != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", names[i], x))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// runX feeds evs to a fresh engine (shuffled within 10 s of event time
// when seed > 0; restored from its checkpoint after event cut when cut ≥ 0)
// with the watermark 10 s behind the largest ts, and returns the final
// non-zero rows by "agent|D<n>".
func runX(t *testing.T, evs []schemas.Event, cut int, seed uint64) map[string]xvalues {
	t.Helper()
	evs = slices.Clone(evs)
	if seed > 0 {
		rng := rand.New(rand.NewPCG(seed, 7))
		for i := range evs {
			j := i + rng.IntN(min(3, len(evs)-i))
			if evs[j].TS-evs[i].TS <= 10_000 {
				evs[i], evs[j] = evs[j], evs[i]
			}
		}
	}
	e := NewEngine(benchSettings(t))
	rows := map[string]xvalues{}
	sink := xSink(rows)
	maxTS := int64(math.MinInt64)
	for i := range evs {
		if _, ok := e.Apply(&evs[i]); !ok {
			t.Fatalf("event %d refused", i)
		}
		maxTS = max(maxTS, evs[i].TS)
		e.Advance(maxTS - 10_000)
		e.flush(uint64(i+1), sink)
		if i == cut {
			log := changelog{}
			e.saveChanged(log)
			e = NewEngine(benchSettings(t))
			for k, v := range log {
				if err := e.Load([]byte(k), v); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.LoadDone(); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.Advance(math.MaxInt64)
	e.flush(uint64(len(evs)+1), sink)
	for k, v := range rows {
		if v == (xvalues{}) {
			delete(rows, k)
		}
	}
	return rows
}

// xSink keeps the last row of each cs_exclusive_daily key.
type xSink map[string]xvalues

var xDay0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func (s xSink) Rows(t tables.Table) *tables.Rows { return oneRow(t, s.Add) }

func (s xSink) Add(tb tables.Table, row []any) {
	if tb.Name != ExclusiveTable.Name {
		return
	}
	day := int(row[2].(time.Time).Sub(xDay0).Hours() / 24)
	var v xvalues
	for i := range v {
		switch x := row[3+i].(type) {
		case uint64:
			v[i] = int64(x)
		case int64:
			v[i] = x
		}
	}
	s[fmt.Sprintf("%s|D%d", row[1], day)] = v
}

// parseXEvents turns the case lines into events of shop "shop1".
func parseXEvents(t *testing.T, lines []string) []schemas.Event {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	var evs []schemas.Event
	for n, line := range lines {
		f := strings.Fields(line)
		day := 0
		fmt.Sscanf(f[2], "D%d", &day)
		clock := f[3]
		if len(clock) == 5 {
			clock += ":00.000"
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05.000", xDay0.AddDate(0, 0, day).Format("2006-01-02")+" "+clock, loc)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		ev := schemas.Event{ShopID: []byte("shop1"), TS: at.UnixMilli(), EventID: fmt.Appendf(nil, "e%d", n)}
		kv := map[string]string{}
		for _, p := range f[4:] {
			k, v, _ := strings.Cut(p, "=")
			kv[k] = v
		}
		if id, ok := kv["id"]; ok {
			ev.EventID = []byte(id)
		}
		ev.BuyerID, ev.AgentID, ev.SessionID, ev.OrderID = bytesOr(kv["buyer"]), bytesOr(kv["agent"]), bytesOr(kv["s"]), bytesOr(kv["order"])
		fmt.Sscan(kv["amount"], &ev.Amount)
		setXType(t, &ev, f[0], f[1], kv)
		evs = append(evs, ev)
	}
	return evs
}

func bytesOr(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func setXType(t *testing.T, ev *schemas.Event, topic, typ string, kv map[string]string) {
	t.Helper()
	types := map[string]schemas.EventType{"started": schemas.TypeStarted, "ended": schemas.TypeEnded, "paid": schemas.TypePaid,
		"invited": schemas.TypeInvited, "accepted": schemas.TypeAccepted, "rejected": schemas.TypeRejected,
		"unsubscribed": schemas.TypeUnsubscribed, "read": schemas.TypeRead, "visited": schemas.TypeVisited}
	switch topic {
	case "ses":
		ev.Topic, ev.Type = schemas.TopicSessions, types[typ]
		ev.Origin = map[string]schemas.Origin{"buyer": schemas.OriginBuyer, "proactive": schemas.OriginProactive}[kv["origin"]]
	case "msg":
		ev.Topic = schemas.TopicMessages
		ev.Sender = map[string]schemas.Sender{"buyer": schemas.SenderBuyer, "agent": schemas.SenderAgent}[typ]
	case "out":
		ev.Topic, ev.Type = schemas.TopicOutreach, types[typ]
		if kv["via"] == "auto" {
			ev.Via = schemas.ViaAuto
		}
	case "ord":
		ev.Topic, ev.Type = schemas.TopicOrders, types[typ]
		ev.Stage = map[string]schemas.Stage{"deposit": schemas.StageDeposit, "final": schemas.StageFinal}[kv["stage"]]
	default:
		t.Fatalf("topic %q", topic)
	}
}

// TestExclusiveLate: an outreach event whose hour is final is a dead
// letter (late); one behind the watermark whose day is still held is
// applied and corrects the rows (here: an unsubscribe before the payment
// takes the guided order back).
func TestExclusiveLate(t *testing.T) {
	evs := parseXEvents(t, join(accepted, proactive("p1", "D1", "10:00"),
		"out read D1 10:10 buyer=b1 s=p1", "ord paid D1 11:00 buyer=b1 order=o1 amount=500",
		"out unsubscribed D1 10:30 buyer=b1 agent=a1", "out visited D0 10:00 buyer=b1"))
	e := NewEngine(benchSettings(t))
	rows := xSink{}
	const pay, unsub, visit = 5, 6, 7
	for i := range evs[:visit] {
		if _, ok := e.Apply(&evs[i]); !ok {
			t.Fatalf("event %d refused", i)
		}
	}
	e.Advance(evs[pay].TS + 10*60_000)
	e.flush(1, rows)
	if got := rows["a1|D1"]; got[xGuidedOrders] != 0 {
		t.Errorf("the unsubscribe at 10:30 was applied with the rest: %s", showX(got))
	}
	// The same, the unsubscribe arriving after the watermark passed it.
	e = NewEngine(benchSettings(t))
	rows = xSink{}
	for i := range evs[:unsub] {
		e.Apply(&evs[i])
	}
	e.Advance(evs[pay].TS + 10*60_000) // past the payment: guided
	e.flush(1, rows)
	if got := rows["a1|D1"]; got[xGuidedOrders] != 1 {
		t.Fatalf("before the unsubscribe: %s, want a guided order", showX(got))
	}
	if reason, ok := e.Apply(&evs[unsub]); !ok {
		t.Fatalf("an unsubscribe 40 min behind the watermark (within allowed_lateness) refused: %s", reason)
	}
	e.flush(2, rows)
	if got := rows["a1|D1"]; got[xGuidedOrders] != 0 || got[xEnded] != 1 {
		t.Errorf("after the late unsubscribe: %s, want no guided order, ended 1", showX(got))
	}
	e.Advance(evs[pay].TS + 2*24*hourMs) // D0 and D1 are final
	if reason, ok := e.Apply(&evs[visit]); ok || reason != schemas.ReasonLate {
		t.Errorf("a visit of a final day: Apply = %q, %v; want late", reason, ok)
	}
}
