package metrics

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"strings"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
)

// attribution is SPEC §3.4: inquiries (询单) from the engine's session
// closes, orders from cs.orders, the credited agent of every paid order
// (sales through Engine.addSale into cs_agent_hourly and cs_shop_hourly),
// and cs_inquiry_daily. doc.go ("Sales attribution") gives the rules it
// follows where the SPEC is silent; this comment says how.
//
// # State
//
//   - buyers, by (shop, buyer): the buyer's inquiries as a signed multiset
//     (the listener's +1/−1 summed by sign), the buyer's contribution to
//     each inquiry-day row it appears in (buyerCell), and the orders that
//     name the buyer.
//   - orders, by (shop, order_id): the winning `created` and `paid` events,
//     the inquiry each rule points at (order and pay inquiry), and what the
//     order contributes now: its sale (what addSale holds) and its part of
//     an inquiry-day row. A change retracts exactly what was added.
//   - inquiry-day cells, by (shop, agent, day): the rows of
//     cs_inquiry_daily, kept from the buyers' contributions.
//
// Every order is recomputed (reprice) when one of its events arrives or
// when an inquiry of one of its buyers changes, so the rows always equal
// what one pass over the current inquiries and orders would give, whatever
// the arrival order.
//
// # The settled horizon
//
// settled (S) is an instant before which nothing can change any more: no
// order event before it is accepted (it would be late: S ≤ watermark −
// allowed_lateness), and no inquiry before it can appear or be taken back.
// The second holds because an inquiry comes from a session whose log the
// engine holds until close + allowed_lateness, the log pins the hour of
// its first entry, and the inquiry is at or after that entry: so S is
// also at most the earliest pinned log hour (Engine.heldLogsFrom). S is
// recomputed at most once per hour of event time; it lags by up to an
// hour, which only keeps state a little longer.
//
//   - An order's inquiry for an instant before S is final: reprice keeps
//     it rather than searching inquiries that may have been dropped.
//   - An inquiry, and a buyer's contribution to day D, go when S reaches
//     the end of D's validity (the start of local day D+N): no order
//     event can use them any more, and the inquiry-day row of D is final.
//   - A paid order goes when S passes both of its events: its sale and its
//     part can no longer change; until then its payment hour is held
//     (HoldHour) so that a retraction always finds the hour open. An
//     unpaid order goes at created + PayWindow.
//
// Late events (beyond allowed_lateness) that the engine still takes into a
// held session can reveal an inquiry before S; its effect on a final row
// is discarded and counted (AttributionStats.FinalCellWrites), like the
// engine's own final-cell guard.
type attribution struct {
	sh        *shared
	core      sessionCore
	lateness  int64 // ms, allowed_lateness
	defRule   AttributionRule
	shopRules map[string]AttributionRule
	rules     []AttributionRule // by shop id, resolved on first use
	validDays int
	payWindow int64 // ms

	buyers map[string]*buyer
	orders map[string]*order
	cells  map[inqKey]*inqCell
	dirty  []*inqCell

	buyerWakes wakeHeap[*buyer]
	orderWakes wakeHeap[*order]
	// held: orders with an event ahead of the watermark, by its ts. Like
	// the sessions' log entries, an order event counts only once the
	// watermark is past it, and it is stepped merged in event time with
	// the inquiries the sessions' closes reveal (catchUp), so a sale never
	// lands, even for a while, on an agent or as silent when an earlier
	// close would change it.
	held wakeHeap[*orderHold]
	// now: order events before it are stepped (due). It is the engine's
	// watermark except inside Advance, where catchUp moves it through the
	// instants of the deferred inquiries and the held order events.
	now int64
	// deferring: inside Advance's wake-ups, inquiries are queued in
	// deferred, each with heardAt, the instant of the wake-up that revealed
	// it, for catchUp.
	deferring bool
	heardAt   int64
	deferred  []deferredInquiry

	settled  int64 // S, see above
	heldHour int64 // the hour of watermark − lateness when S was last computed
	sweptTo  int64 // S / 1h at the last sweep of final cells

	keyBuf []byte
	ck     attrCheckpoints
	stats  attrCounters
}

// sessionCore is what attribution asks of the session core: the hours it
// must keep open (a paid order's payment hour) and the paid_* columns of
// the core's own rows (one writer per row), and the earliest hour a held
// session log can still reveal an inquiry in.
type sessionCore interface {
	HoldHour(ts int64) bool
	ReleaseHour(ts int64)
	addSale(shop, group, agent uint32, paidTS, amount, orders int64) bool
	heldLogsFrom() int64
}

func newAttribution(sh *shared, core sessionCore, lateness int64, s *Attribution) *attribution {
	a := &attribution{
		sh:        sh,
		core:      core,
		lateness:  lateness,
		defRule:   s.Rule,
		shopRules: s.ShopRules,
		validDays: s.ValidDays,
		payWindow: s.PayWindow.Milliseconds(),
		buyers:    make(map[string]*buyer),
		orders:    make(map[string]*order),
		cells:     make(map[inqKey]*inqCell),
		settled:   math.MinInt64,
		now:       math.MinInt64,
		heldHour:  math.MinInt64,
		sweptTo:   math.MinInt64,
	}
	a.ck.meta = a.metaNow()
	return a
}

// rule returns the shop's 业绩判定规则.
func (a *attribution) rule(shop uint32) AttributionRule {
	for int(shop) >= len(a.rules) {
		a.rules = append(a.rules, "")
	}
	if a.rules[shop] == "" {
		a.rules[shop] = cmp.Or(a.shopRules[a.sh.shopIDs.name(shop)], a.defRule)
	}
	return a.rules[shop]
}

// until is the end of the validity of an inquiry on local day: the start
// of day + N, which the zone finds on the wall clock, so a 23- or 25-hour
// day is a day.
func (a *attribution) until(zone *eventtime.Zone, day eventtime.Date) int64 {
	return zone.DateStart(day.AddDays(a.validDays))
}

// inquiry is one inquiry of a buyer with its signed multiplicity: the
// listener's views, summed by sign. Two sessions with an inquiry at the
// same instant to the same agent and group are one entry with n = 2.
type inquiry struct {
	at, until    int64 // valid for instants in [at, until)
	agent, group uint32
	day          eventtime.Date
	n            int32 // present while > 0
}

// buyerCell is what one buyer contributes to the inquiry-day row of
// (agent, day): the counts behind its distinct-buyer flags and its paid
// amount. Counts, not flags, so that each inquiry and each order can be
// taken back on its own.
type buyerCell struct {
	until                    int64 // the row's end of validity
	amount                   int64
	agent                    uint32
	day                      eventtime.Date
	inquiries, ordered, paid int32
}

type cellFlags struct{ inquiry, ordered, paid bool }

func (c *buyerCell) flags() cellFlags {
	return cellFlags{c.inquiries > 0, c.ordered > 0, c.paid > 0}
}

func (c *buyerCell) zero() bool {
	return c.inquiries == 0 && c.ordered == 0 && c.paid == 0 && c.amount == 0
}

// buyer is the state of one (shop, buyer).
type buyer struct {
	key    string // uvarint len(shop) shop buyer_id, like a session key
	shop   uint32
	zone   *eventtime.Zone
	inqs   []inquiry   // by (at, agent name, group name)
	cells  []buyerCell // unordered, few
	orders []*order    // naming this buyer, by key: a deterministic repricing order
	slot   int32       // in the wake-up heap: index + 1; 0 none

	// Room for the usual single inquiry and row.
	inqBuf  [1]inquiry
	cellBuf [1]buyerCell

	deleted bool
	entryState
}

func (b *buyer) gone() bool { return b.deleted }

// orderEvent is the winning `created` or `paid` of an order; buyer is nil
// while none arrived.
type orderEvent struct {
	ts, amount int64
	hash       uint64 // FNV-1a of the event id: duplicates and equal-ts order
	buyer      *buyer
}

// compare orders competing events of one order and type: by ts, then by
// the event id's hash. 0 is the same event (a re-delivery).
func (x *orderEvent) compare(y *orderEvent) int {
	return cmp.Or(cmp.Compare(x.ts, y.ts), cmp.Compare(x.hash, y.hash))
}

// inqRef is the inquiry an order points at, by value: the inquiry may be
// dropped while the order still needs what it said.
type inqRef struct {
	at, until    int64
	agent, group uint32
	day          eventtime.Date
	ok           bool
}

// sale is what an order holds in the engine's paid_* columns.
type sale struct {
	ts, amount   int64
	agent, group uint32 // agent 0: a silent sale
	on           bool
}

// part is what an order contributes to an inquiry-day row: the crediting
// inquiry's buyer and row, and the payment when it counts there.
type part struct {
	amount int64
	buyer  *buyer // nil: no part
	agent  uint32
	day    eventtime.Date
	paid   bool
}

// order is the state of one (shop, order_id).
type order struct {
	key              string
	shop             uint32
	created, paid    orderEvent
	orderRef, payRef inqRef
	orderSet, paySet bool // the ref was computed for the current event
	sale             sale
	part             part
	slot             int32 // in the wake-up heap: index + 1; 0 none
	heldSlot         int32 // in the heap of held events (attribution.held)

	deleted bool
	entryState
}

func (o *order) gone() bool { return o.deleted }

// inqKey is the key of a cs_inquiry_daily row.
type inqKey struct {
	shop, agent uint32
	day         eventtime.Date
}

// Columns of an inquiry-day cell, in InquiryDailyTable's order.
const (
	iqInquiryBuyers = iota
	iqOrderedBuyers
	iqPaidBuyers
	iqPaidAmount
	numIqCols
)

type inqCell struct {
	key   inqKey
	until int64 // final when settled reaches it
	v     [numIqCols]int64
	cellStatus
}

// isLive is cell.isLive for an inquiry-day cell (see cellStatus.live).
func (c *inqCell) isLive() bool {
	if !c.live && c.v != [numIqCols]int64{} {
		c.live = true
	}
	return c.live
}

// attrCounters count what the operator did, since it was created.
type attrCounters struct {
	inquiryViews, orderEvents, duplicates, superseded, recredits, finalCellWrites uint64
}

// SessionClosed takes an inquiry's close (+1) or its retraction (−1).
func (a *attribution) SessionClosed(v *SessionView, sign int) {
	if !v.Inquiry {
		return // proactive, robot, unreplied or filtered: no 询单
	}
	if a.deferring {
		a.deferred = append(a.deferred, deferredInquiry{at: a.heardAt, sign: sign,
			shop: v.ShopID, buyer: v.BuyerID, inquiryAt: v.InquiryAt, agent: v.InquiryAgentID, group: v.InquiryGroupID})
		return
	}
	a.inquiryClosed(v.ShopID, v.BuyerID, v.InquiryAt, v.InquiryAgentID, v.InquiryGroupID, sign)
}

// deferredInquiry is an inquiry heard during Advance's wake-ups.
type deferredInquiry struct {
	at                        int64 // the wake-up's instant
	sign                      int
	shop, buyer, agent, group string
	inquiryAt                 int64
}

// catchUp applies the deferred inquiries and the held order events up to
// the watermark, merged in event time: an inquiry heard at the wake-up
// instant h is applied before an order event at ts when h ≤ ts + 1 (a
// watermark of ts + 1 steps the event, after waking what is due then).
func (a *attribution) catchUp() {
	wm := a.sh.wm
	i := 0
	for {
		orderAt := int64(math.MaxInt64)
		if len(a.held.items) > 0 && a.held.nextAt() < wm {
			orderAt = a.held.nextAt() + 1
		}
		if i < len(a.deferred) && a.deferred[i].at <= orderAt {
			d := &a.deferred[i]
			a.now = max(a.now, d.at)
			a.inquiryClosed(d.shop, d.buyer, d.inquiryAt, d.agent, d.group, d.sign)
			i++
			continue
		}
		if orderAt == math.MaxInt64 {
			break
		}
		a.now = orderAt
		a.release()
	}
	clear(a.deferred)
	a.deferred = a.deferred[:0]
	if cap(a.deferred) > maxDeferred {
		a.deferred = nil // a jump of the watermark (end of input): do not keep its size
	}
	a.now = wm
}

// maxDeferred is the capacity of the deferred inquiries that catchUp keeps
// for the next Advance: enough for the closes of a steady one.
const maxDeferred = 4096

// inquiryClosed adds (sign +1) or takes back (−1) an inquiry of a closed
// session and reprices its buyer's orders.
func (a *attribution) inquiryClosed(shopID, buyerID string, at int64, agentID, groupID string, sign int) {
	a.stats.inquiryViews++
	sh := a.sh
	shop, zone := sh.shopByName(shopID)
	a.keyBuf = appendEntityKey(a.keyBuf[:0], shopID, buyerID)
	b := a.buyerFor(shop, zone)
	q := inquiry{at: at, agent: sh.names.idString(agentID), group: sh.names.idString(groupID)}
	a.addInquiry(b, q, int32(sign))
	for _, o := range b.orders {
		a.reprice(o)
	}
	a.settleBuyer(b)
}

// addInquiry adds sign to the multiplicity of q and to the buyer's row of
// q's agent and day.
func (a *attribution) addInquiry(b *buyer, q inquiry, sign int32) {
	q.day = b.zone.Day(q.at)
	q.until = a.until(b.zone, q.day)
	if !a.changeCell(b, q.agent, q.day, q.until, buyerCell{inquiries: sign}) {
		return // its row is final: only a late event gets here
	}
	i, found := b.findInquiry(a.sh.names, &q)
	switch {
	case !found:
		q.n = sign
		b.inqs = slices.Insert(b.inqs, i, q)
	case b.inqs[i].n+sign == 0:
		b.inqs = slices.Delete(b.inqs, i, i+1)
	default:
		b.inqs[i].n += sign
	}
	a.touchBuyer(b)
}

// findInquiry returns where q is, or belongs, in b.inqs. Equal instants
// are ordered by agent and group name: ids are interned in arrival order.
func (b *buyer) findInquiry(names *interner, q *inquiry) (int, bool) {
	return slices.BinarySearchFunc(b.inqs, q, func(x inquiry, y *inquiry) int {
		return cmp.Or(cmp.Compare(x.at, y.at),
			strings.Compare(names.name(x.agent), names.name(y.agent)),
			strings.Compare(names.name(x.group), names.name(y.group)))
	})
}

// latestValid is SPEC §3.4's "latest valid inquiry at or before t" of b.
// A later inquiry's validity ends no earlier, so the search stops at the
// first expired one.
func (a *attribution) latestValid(b *buyer, t int64) inqRef {
	for i := len(b.inqs) - 1; i >= 0; i-- {
		q := &b.inqs[i]
		switch {
		case q.at > t:
		case t >= q.until:
			return inqRef{}
		case q.n > 0:
			return inqRef{at: q.at, until: q.until, agent: q.agent, group: q.group, day: q.day, ok: true}
		}
	}
	return inqRef{}
}

// apply takes a cs.orders event. A new order's event behind the
// watermark − allowed_lateness is late; an event of an order still held
// is applied (its state is held), unless it is a payment whose hour is
// final already.
func (a *attribution) apply(ev *schemas.Event) (schemas.Reason, bool) {
	sh := a.sh
	a.stats.orderEvents++
	shop, zone := sh.shop(ev.ShopID)
	a.keyBuf = appendEntityKey(a.keyBuf[:0], ev.ShopID, ev.OrderID)
	if ev.Stage == schemas.StageFinal {
		// A presale's final payment is a payment of its own, next to the
		// deposit's (SPEC §3.7): one order keeps one payment.
		a.keyBuf = append(a.keyBuf, 0, 'f')
	}
	o := a.orders[string(a.keyBuf)]
	isNew := o == nil
	if isNew {
		if ev.TS < satSub(sh.wm, a.lateness) { // late: SPEC §2, as Engine.isLate
			return sh.late()
		}
		o = &order{key: string(a.keyBuf), shop: shop}
	}
	next := orderEvent{ts: ev.TS, amount: ev.Amount, hash: fnv64(ev.EventID)}
	slot, isPaid := &o.created, ev.Type == schemas.TypePaid
	if isPaid {
		slot = &o.paid
	}
	if slot.buyer != nil {
		switch slot.compare(&next) {
		case 0:
			a.stats.duplicates++
			return "", true
		case 1:
			a.stats.superseded++ // an earlier competitor of the winning event
			return "", true
		}
	}
	if isPaid && !a.core.HoldHour(ev.TS) {
		return sh.late()
	}
	if isNew {
		a.orders[o.key] = o
	}
	a.keyBuf = appendEntityKey(a.keyBuf[:0], ev.ShopID, ev.BuyerID)
	a.setEvent(o, slot, next, a.buyerFor(shop, zone))
	a.hold(o)
	return "", true
}

// orderHold is an order in the heap of held events.
type orderHold order

func (h *orderHold) wakeKey() string  { return h.key }
func (h *orderHold) wakeSlot() *int32 { return &h.heldSlot }

// due reports whether an order event is present and behind the watermark.
func (a *attribution) due(ev *orderEvent) bool { return ev.buyer != nil && ev.ts < a.now }

// hold puts o in the held heap at its first event ahead of the watermark,
// or takes it out when there is none.
func (a *attribution) hold(o *order) {
	at := int64(math.MaxInt64)
	for _, ev := range [...]*orderEvent{&o.created, &o.paid} {
		if ev.buyer != nil && ev.ts >= a.now {
			at = min(at, ev.ts)
		}
	}
	if at == math.MaxInt64 {
		a.held.remove((*orderHold)(o))
		return
	}
	a.held.set((*orderHold)(o), at)
}

// release reprices the orders whose held events are before now.
func (a *attribution) release() {
	for len(a.held.items) > 0 && a.held.nextAt() < a.now {
		o := (*order)(a.held.pop())
		a.reprice(o)
		a.hold(o)
	}
}

// setEvent makes next the order's created or paid event and reprices.
func (a *attribution) setEvent(o *order, slot *orderEvent, next orderEvent, b *buyer) {
	old := *slot
	if slot == &o.paid {
		o.paySet = false
		if old.buyer != nil {
			a.core.ReleaseHour(old.ts) // next's hour is held by apply
		}
	} else {
		o.orderSet = false
	}
	next.buyer = b
	*slot = next
	b.link(o)
	if old.buyer != nil && old.buyer != b && o.created.buyer != old.buyer && o.paid.buyer != old.buyer {
		old.buyer.unlink(o)
		a.dropIfEmpty(old.buyer)
	}
	a.reprice(o)
	a.armOrder(o)
	a.touchOrder(o)
	a.settleBuyer(b)
}

// reprice recomputes what o contributes and replaces what it held. An
// inquiry reference for an instant before the settled horizon is final
// and kept.
func (a *attribution) reprice(o *order) {
	refs, sets := [...]inqRef{o.orderRef, o.payRef}, [...]bool{o.orderSet, o.paySet}
	switch {
	case !a.due(&o.created):
		o.orderRef, o.orderSet = inqRef{}, false // held: not yet part of the order
	case !o.orderSet || o.created.ts >= a.settled:
		o.orderRef, o.orderSet = a.latestValid(o.created.buyer, o.created.ts), true
	}
	switch {
	case !a.due(&o.paid):
		o.payRef, o.paySet = inqRef{}, false
	case !o.paySet || o.paid.ts >= a.settled:
		o.payRef, o.paySet = a.latestValid(o.paid.buyer, o.paid.ts), true
	}
	ref, by := a.credit(o)
	paid := a.due(&o.paid)
	s, p := o.saleOf(&ref, paid), o.partOf(&ref, by, paid)
	if refs == [...]inqRef{o.orderRef, o.payRef} && sets == [...]bool{o.orderSet, o.paySet} && s == o.sale && p == o.part {
		return // the usual case when another inquiry of the buyer changed
	}
	a.setSale(o, s)
	a.setPart(o, p)
	a.touchOrder(o)
}

// credit applies the shop's rule: the inquiry that credits o, and its
// buyer; nil when none does. An order without `created` has no order
// inquiry; one without `paid` no pay inquiry.
func (a *attribution) credit(o *order) (inqRef, *buyer) {
	hasOrder := a.due(&o.created) && o.orderRef.ok
	hasPay := a.due(&o.paid) && o.payRef.ok
	rule := a.rule(o.shop)
	switch {
	case hasOrder && rule != RulePay:
		return o.orderRef, o.created.buyer
	case hasPay && rule != RuleOrder:
		return o.payRef, o.paid.buyer
	}
	return inqRef{}, nil
}

// saleOf is the sale o makes with crediting inquiry ref: paid orders
// only (paid: the payment is behind the watermark), to the hour of
// payment; no inquiry makes it silent.
func (o *order) saleOf(ref *inqRef, paid bool) sale {
	if !paid {
		return sale{}
	}
	s := sale{ts: o.paid.ts, amount: o.paid.amount, on: true}
	if ref.ok {
		s.agent, s.group = ref.agent, ref.group
	}
	return s
}

// partOf is o's part of the crediting inquiry's row: it placed an order
// there, and paid there when the payment came within the inquiry's
// validity (the row is final when the validity ends).
func (o *order) partOf(ref *inqRef, by *buyer, paid bool) part {
	if by == nil {
		return part{}
	}
	p := part{buyer: by, agent: ref.agent, day: ref.day}
	if paid && o.paid.ts < ref.until {
		p.paid, p.amount = true, o.paid.amount
	}
	return p
}

func (a *attribution) setSale(o *order, s sale) {
	if s == o.sale {
		return
	}
	if o.sale.on {
		a.sell(o.shop, &o.sale, -1)
		if s.on {
			a.stats.recredits++
		}
	}
	if s.on {
		a.sell(o.shop, &s, 1)
	}
	o.sale = s
}

func (a *attribution) sell(shop uint32, s *sale, sign int64) {
	if !a.core.addSale(shop, s.group, s.agent, s.ts, sign*s.amount, sign) {
		a.stats.finalCellWrites++ // the payment hour is held: a bug if it happens
	}
}

func (a *attribution) setPart(o *order, p part) {
	if p == o.part {
		return
	}
	a.contribute(&o.part, -1)
	a.contribute(&p, 1)
	o.part = p
}

func (a *attribution) contribute(p *part, sign int32) {
	b := p.buyer
	if b == nil {
		return
	}
	d := buyerCell{ordered: sign}
	if p.paid {
		d.paid, d.amount = sign, int64(sign)*p.amount
	}
	a.changeCell(b, p.agent, p.day, a.until(b.zone, p.day), d)
}

// changeCell adds d's counts to b's row of (agent, day) and the changes of
// b's distinct-buyer flags to the inquiry-day cell. It returns false,
// changing nothing, when the row is final.
func (a *attribution) changeCell(b *buyer, agent uint32, day eventtime.Date, until int64, d buyerCell) bool {
	c := a.cellFor(inqKey{shop: b.shop, agent: agent, day: day}, until)
	if c == nil {
		a.stats.finalCellWrites++
		return false
	}
	i := b.cellIndex(agent, day, until)
	bc := &b.cells[i]
	before := bc.flags()
	bc.inquiries += d.inquiries
	bc.ordered += d.ordered
	bc.paid += d.paid
	bc.amount += d.amount
	after := bc.flags()
	if bc.zero() {
		b.cells = slices.Delete(b.cells, i, i+1)
	}
	a.touchBuyer(b)
	if before == after && d.amount == 0 {
		return true
	}
	c.isLive() // before the change: a figure taken back still made it live
	c.v[iqInquiryBuyers] += flagDelta(before.inquiry, after.inquiry)
	c.v[iqOrderedBuyers] += flagDelta(before.ordered, after.ordered)
	c.v[iqPaidBuyers] += flagDelta(before.paid, after.paid)
	c.v[iqPaidAmount] += d.amount
	a.touchCell(c)
	return true
}

func flagDelta(before, after bool) int64 {
	switch {
	case after && !before:
		return 1
	case before && !after:
		return -1
	}
	return 0
}

// cellIndex returns the index of b's row (agent, day), added when new.
func (b *buyer) cellIndex(agent uint32, day eventtime.Date, until int64) int {
	for i := range b.cells {
		if c := &b.cells[i]; c.agent == agent && c.day == day {
			return i
		}
	}
	b.cells = append(b.cells, buyerCell{agent: agent, day: day, until: until})
	return len(b.cells) - 1
}

// cellFor returns k's cell, created on first use; nil when it is final.
func (a *attribution) cellFor(k inqKey, until int64) *inqCell {
	c := a.cells[k]
	switch {
	case c != nil && c.until > a.settled:
		return c
	case c != nil || until <= a.settled:
		return nil
	}
	c = &inqCell{key: k, until: until}
	a.cells[k] = c
	return c
}

func (a *attribution) touchCell(c *inqCell) {
	if !c.dirty {
		c.dirty = true
		a.dirty = append(a.dirty, c)
	}
	a.trackCell(c)
}

// buyerFor returns the state of the buyer whose key is in keyBuf,
// created on first use.
func (a *attribution) buyerFor(shop uint32, zone *eventtime.Zone) *buyer {
	if b := a.buyers[string(a.keyBuf)]; b != nil {
		return b
	}
	b := newBuyer(string(a.keyBuf), shop, zone)
	a.buyers[b.key] = b
	a.touchBuyer(b)
	return b
}

func newBuyer(key string, shop uint32, zone *eventtime.Zone) *buyer {
	b := &buyer{key: key, shop: shop, zone: zone}
	b.inqs, b.cells = b.inqBuf[:0:1], b.cellBuf[:0:1]
	return b
}

// link adds o to b's orders, kept sorted by key.
func (b *buyer) link(o *order) {
	i, found := slices.BinarySearchFunc(b.orders, o.key, func(x *order, k string) int { return strings.Compare(x.key, k) })
	if !found {
		b.orders = slices.Insert(b.orders, i, o)
	}
}

func (b *buyer) unlink(o *order) {
	if i := slices.Index(b.orders, o); i >= 0 {
		b.orders = slices.Delete(b.orders, i, i+1)
	}
}

// settleBuyer arms b's wake-up, or forgets b when nothing is left.
func (a *attribution) settleBuyer(b *buyer) {
	if a.dropIfEmpty(b) {
		return
	}
	a.armBuyer(b)
}

func (a *attribution) dropIfEmpty(b *buyer) bool {
	if b.deleted || len(b.inqs)+len(b.cells)+len(b.orders) > 0 {
		return b.deleted
	}
	delete(a.buyers, b.key)
	a.buyerWakes.remove(b)
	b.deleted = true
	a.touchBuyer(b)
	return true
}

// armBuyer schedules b for the end of its earliest row's validity.
func (a *attribution) armBuyer(b *buyer) {
	at := int64(math.MaxInt64)
	for i := range b.cells {
		at = min(at, b.cells[i].until)
	}
	for i := range b.inqs {
		at = min(at, b.inqs[i].until)
	}
	if at == math.MaxInt64 {
		a.buyerWakes.remove(b)
		return
	}
	a.buyerWakes.set(b, at)
}

// orderDue is the horizon at which o is final: a paid order when S has
// passed both its events, an unpaid one PayWindow after its creation.
func (a *attribution) orderDue(o *order) int64 {
	if o.paid.buyer == nil {
		return satAdd(o.created.ts, a.payWindow+1)
	}
	at := o.paid.ts
	if o.created.buyer != nil {
		at = max(at, o.created.ts)
	}
	return satAdd(at, 1)
}

func (a *attribution) armOrder(o *order) { a.orderWakes.set(o, a.orderDue(o)) }

// advance moves the settled horizon after the engine's timers ran (so
// that the sessions they closed are heard) and before it computes its
// finality (so that released hours can become final at once).
func (a *attribution) advance() {
	bound := satSub(a.sh.wm, a.lateness)
	hour := floorDiv(bound, hourMs)
	if bound <= a.settled || hour == a.heldHour {
		return
	}
	if min(a.orderWakes.nextAt(), a.buyerWakes.nextAt()) > bound && len(a.cells) == 0 {
		return // nothing could settle: spare the walk over the sessions
	}
	a.heldHour = hour
	s := min(bound, a.core.heldLogsFrom())
	if s <= a.settled {
		return
	}
	a.settled = s
	a.settleOrders()
	a.settleBuyers()
	if sweep := floorDiv(s, hourMs); sweep > a.sweptTo {
		a.sweptTo = sweep
		a.dropFinalCells()
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// settleOrders finalizes the orders due; each is scheduled at its due
// time, kept up to date by armOrder.
func (a *attribution) settleOrders() {
	for a.orderWakes.nextAt() <= a.settled {
		a.finalize(a.orderWakes.pop())
	}
}

// finalize forgets an order whose contributions are final: they stay in
// the rows and in its buyers' counts.
func (a *attribution) finalize(o *order) {
	if o.paid.buyer != nil {
		a.core.ReleaseHour(o.paid.ts)
	}
	delete(a.orders, o.key)
	o.deleted = true
	a.touchOrder(o)
	for _, b := range [...]*buyer{o.created.buyer, o.paid.buyer} {
		if b != nil {
			b.unlink(o)
			a.dropIfEmpty(b)
		}
	}
}

func (a *attribution) settleBuyers() {
	for a.buyerWakes.nextAt() <= a.settled {
		b := a.buyerWakes.pop()
		a.expire(b)
		a.settleBuyer(b)
	}
}

// expire drops b's inquiries and rows whose validity S has passed: no
// order event can use them any more, and their rows are final.
func (a *attribution) expire(b *buyer) {
	s := a.settled
	n := len(b.inqs) + len(b.cells)
	b.inqs = slices.DeleteFunc(b.inqs, func(q inquiry) bool { return q.until <= s })
	b.cells = slices.DeleteFunc(b.cells, func(c buyerCell) bool { return c.until <= s })
	if len(b.inqs)+len(b.cells) != n {
		a.touchBuyer(b)
	}
}

// dropFinalCells forgets final cells that flush has written; dirty ones
// are written and dropped by the next flush.
func (a *attribution) dropFinalCells() {
	for _, c := range a.cells {
		if !c.dirty && c.until <= a.settled {
			a.dropCell(c)
		}
	}
}

func (a *attribution) dropCell(c *inqCell) {
	c.dropped = true
	delete(a.cells, c.key)
	a.trackCell(c)
}

// flush writes every changed inquiry-day row and forgets final ones.
func (a *attribution) flush(version uint64, out RowSink) {
	sh := a.sh
	for _, c := range a.dirty {
		k := c.key
		if c.isLive() {
			r := out.Rows(InquiryDailyTable)
			r.String(sh.shopIDs.name(k.shop))
			r.String(sh.names.name(k.agent))
			r.Time(dateTime(k.day))
			r.UInt64(sh.unsigned(c.v[iqInquiryBuyers]))
			r.UInt64(sh.unsigned(c.v[iqOrderedBuyers]))
			r.UInt64(sh.unsigned(c.v[iqPaidBuyers]))
			r.Int64(c.v[iqPaidAmount])
			r.UInt64(version)
			r.End()
		}
		c.dirty = false
		if c.until <= a.settled {
			a.dropCell(c)
		}
	}
	clear(a.dirty)
	a.dirty = a.dirty[:0]
}

// entityID is a shop, buyer or order id as the decoder or a view has it.
type entityID interface{ ~string | ~[]byte }

// appendEntityKey builds a (shop, id) map key the way session keys are
// built: length-prefixed, so that no shop id can make two keys collide.
func appendEntityKey[S, T entityID](dst []byte, shop S, id T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(shop)))
	dst = append(dst, shop...)
	return append(dst, id...)
}

// splitEntityKey returns the shop and id parts of such a key; ok is
// false when it is malformed.
func splitEntityKey(key string) (shop, id string, ok bool) {
	n, w := binary.Uvarint([]byte(key))
	if w <= 0 || uint64(len(key)-w) < n {
		return "", "", false
	}
	return key[w : w+int(n)], key[w+int(n):], true
}

// fnv64 is 64-bit FNV-1a.
func fnv64[B ~string | ~[]byte](b B) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= 1099511628211
	}
	return h
}
