package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
)

// orders adds n orders of the random stream's buyers (b0…b49 of both
// shops) to the stream, from an rng of their own: created over two days
// from start, most paid within hours (some in the same millisecond),
// some never, some paid with no `created` or paid before it, re-delivered
// now and then. Every payment is well within the pay window, so the
// oracle (which knows no watermark) applies.
func (g *streamGen) orders(seed uint64, n int, start int64) {
	rng := rand.New(rand.NewPCG(seed, 4242))
	for i := range n {
		shop := "sh"
		if rng.IntN(3) == 0 {
			shop = "ny"
		}
		buyer := []byte(fmt.Sprintf("b%d", rng.IntN(50)))
		order := []byte(fmt.Sprintf("o%04d", i))
		created := start + rng.Int64N(44*hourMs)
		ev := schemas.Event{Topic: schemas.TopicOrders, ShopID: []byte(shop), OrderID: order, BuyerID: buyer}
		if rng.Float64() > 0.05 {
			c := ev
			c.Type, c.TS, c.Amount = schemas.TypeCreated, created, 0
			g.emitOrder(rng, c)
		}
		if rng.Float64() < 0.15 {
			continue // never paid
		}
		p := ev
		p.Type, p.Amount = schemas.TypePaid, 100*(1+rng.Int64N(500))
		switch r := rng.Float64(); {
		case r < 0.1:
			p.TS = created
		case r < 0.13:
			p.TS = created - rng.Int64N(hourMs) // a clock ahead of the payment system
		default:
			p.TS = created + rng.Int64N(10*hourMs)
		}
		g.emitOrder(rng, p)
	}
}

func (g *streamGen) emitOrder(rng *rand.Rand, ev schemas.Event) {
	g.seq++
	ev.EventID = fmt.Appendf(nil, "x%06d", g.seq)
	g.steps = append(g.steps, step{event: ev, line: len(g.steps) + 1})
	if rng.Float64() < 0.04 {
		g.steps = append(g.steps, step{event: ev, line: len(g.steps) + 1})
	}
}

// randomRules gives each seed of the random streams a rule, and seed 3 a
// shop override.
func randomRules(seed uint64) (AttributionRule, map[string]AttributionRule) {
	rules := []AttributionRule{RuleOrderFirst, RuleOrder, RulePay}
	var shops map[string]AttributionRule
	if seed%4 == 3 {
		shops = map[string]AttributionRule{"ny": RulePay}
	}
	return rules[seed%3], shops
}

// TestAttributionFollowsRetractions: in late_inquiry the listener takes
// closes back and the credited agent of both orders changes; the rows
// (checked by TestScenarios) are the final ones. o1: silent → a1 when s1
// times out. o2: a2 → silent (the late `assigned` leaves s2 without a
// reception, so without inquiry) → a3 (the late reply).
func TestAttributionFollowsRetractions(t *testing.T) {
	sc := loadScenario(t, filepath.Join("testdata", "scenarios", "late_inquiry"))
	_, e := sc.run(t, sc.steps, true)
	st := e.AttributionStats()
	if st.Recredits != 3 || st.InquiryViews != 4 {
		t.Errorf("recredits %d, inquiry views %d; want 3, 4: %+v", st.Recredits, st.InquiryViews, st)
	}
}

// orderEvent makes a cs.orders event of shop1.
func orderEv(id, order, buyer string, typ schemas.EventType, ts, amount int64) *schemas.Event {
	return &schemas.Event{Topic: schemas.TopicOrders, Type: typ, EventID: []byte(id), ShopID: []byte("shop1"),
		OrderID: []byte(order), BuyerID: []byte(buyer), TS: ts, Amount: amount}
}

// TestOrderLateness: the first event of an order behind watermark −
// allowed_lateness is late; duplicates and superseded events change
// nothing; an order still held takes a late `created`. A session of 09:50,
// whose log the engine holds until its close (by timeout, 10:20) + 1 h,
// keeps the horizon, so the order, from being final.
func TestOrderLateness(t *testing.T) {
	zones, _ := eventtime.NewZoneSet("Asia/Shanghai", nil)
	e := NewEngine(DefaultSettings(zones))
	t0 := at("2026-03-02T10:00:00.000+08:00")
	e.Apply(&schemas.Event{Topic: schemas.TopicSessions, Type: schemas.TypeStarted, EventID: []byte("s9-1"), ShopID: []byte("shop1"),
		SessionID: []byte("s9"), BuyerID: []byte("b9"), Origin: schemas.OriginBuyer, TS: t0 - 10*60_000})
	if _, ok := e.Apply(orderEv("p1", "o1", "b1", schemas.TypePaid, t0, 100)); !ok {
		t.Fatal("paid refused")
	}
	e.Advance(t0 + 61*60_000)
	if reason, ok := e.Apply(orderEv("p2", "o2", "b1", schemas.TypePaid, t0, 100)); ok || reason != schemas.ReasonLate {
		t.Errorf("a new order's late payment: %q %v", reason, ok)
	}
	if reason, ok := e.Apply(orderEv("c2", "o2", "b1", schemas.TypeCreated, t0, 0)); ok || reason != schemas.ReasonLate {
		t.Errorf("a new order's late creation: %q %v", reason, ok)
	}
	if _, ok := e.Apply(orderEv("c1", "o1", "b1", schemas.TypeCreated, t0-1000, 0)); !ok {
		t.Error("a held order's late creation was refused")
	}
	e.Apply(orderEv("p1", "o1", "b1", schemas.TypePaid, t0, 100))      // re-delivered
	e.Apply(orderEv("p0", "o1", "b1", schemas.TypePaid, t0-5000, 100)) // an earlier competitor
	st := e.AttributionStats()
	if st.Duplicates != 1 || st.Superseded != 1 || st.Orders != 1 || st.HeldHours != 1 {
		t.Errorf("%+v", st)
	}
	e.Advance(math.MaxInt64)
	if st := e.AttributionStats(); st.Orders+st.Buyers != 0 || len(e.pins) != 0 {
		t.Errorf("state left: %+v, pins %v", st, e.pins)
	}
}

// TestUnpaidOrderBound: a created order waits PayWindow for its payment,
// then goes; a payment after that is an order of its own, with no order
// inquiry.
func TestUnpaidOrderBound(t *testing.T) {
	zones, _ := eventtime.NewZoneSet("Asia/Shanghai", nil)
	e := NewEngine(DefaultSettings(zones))
	t0 := at("2026-03-02T10:00:00.000+08:00")
	e.Apply(orderEv("c1", "o1", "b1", schemas.TypeCreated, t0, 0))
	e.Advance(t0 + 70*hourMs)
	if st := e.AttributionStats(); st.UnpaidOrders != 1 {
		t.Fatalf("after 70 h: %+v", st)
	}
	e.Advance(t0 + (72+1+2)*hourMs) // pay window, lateness, and the hourly horizon
	if st := e.AttributionStats(); st.Orders+st.Buyers != 0 {
		t.Fatalf("after the pay window: %+v", st)
	}
	if _, ok := e.Apply(orderEv("p1", "o1", "b1", schemas.TypePaid, t0+75*hourMs, 100)); !ok {
		t.Fatal("a payment after the window was refused")
	}
	if st := e.AttributionStats(); st.Orders != 1 || st.UnpaidOrders != 0 {
		t.Errorf("%+v", st)
	}
}

// TestTrackedBuyerBytes measures the heap held per tracked buyer: 100 000
// buyers with an inquiry each (the common case), then a paid order each
// (held until the horizon passes it). Ids are the generator's.
func TestTrackedBuyerBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("tracks 100 000 buyers")
	}
	const buyers = 100_000
	zones, _ := eventtime.NewZoneSet("Asia/Shanghai", nil)
	e := NewEngine(DefaultSettings(zones))
	t0 := at("2026-03-02T10:00:00.000+08:00")
	view := func(i int) *SessionView {
		shop := fmt.Sprintf("shop-%04d", 1+i%100)
		return &SessionView{ShopID: shop, BuyerID: fmt.Sprintf("%s-b%d", shop, i/100), Origin: schemas.OriginBuyer,
			Inquiry: true, InquiryAt: t0 + int64(i), InquiryAgentID: fmt.Sprintf("%s-a%02d", shop, 1+i%8), InquiryGroupID: "pre-sales"}
	}
	e.attr.SessionClosed(view(0), 1) // interned names, maps: not per-buyer costs
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 1; i <= buyers; i++ {
		e.attr.SessionClosed(view(i), 1)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := e.AttributionStats()
	perBuyer := float64(after.HeapAlloc-before.HeapAlloc) / buyers
	t.Logf("%d buyers with an inquiry: %.0f bytes each (heap), ApproxBytes %.0f each; %d inquiry-day cells",
		st.Buyers, perBuyer, float64(st.ApproxBytes)/float64(st.Buyers), st.InquiryCells)
	if st.Buyers != buyers+1 {
		t.Fatalf("%d buyers", st.Buyers)
	}
	if perBuyer > 320 {
		t.Errorf("%.0f bytes per tracked buyer, budget 320", perBuyer)
	}

	runtime.ReadMemStats(&before)
	var ev schemas.Event
	for i := 1; i <= buyers; i++ {
		v := view(i)
		ev = schemas.Event{Topic: schemas.TopicOrders, Type: schemas.TypePaid, EventID: fmt.Appendf(ev.EventID[:0], "%s-%010x", v.ShopID, i),
			ShopID: append(ev.ShopID[:0], v.ShopID...), OrderID: fmt.Appendf(ev.OrderID[:0], "%s-o%d", v.ShopID, i),
			BuyerID: append(ev.BuyerID[:0], v.BuyerID...), TS: t0 + hourMs, Amount: 12900}
		e.Apply(&ev)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st = e.AttributionStats()
	t.Logf("%d paid orders held: %.0f bytes each (heap, engine cells aside)", st.Orders, float64(after.HeapAlloc-before.HeapAlloc)/buyers)
	runtime.KeepAlive(e)
}
