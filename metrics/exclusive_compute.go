package metrics

import (
	"math"

	"github.com/cspulse/cspulse/eventtime"
)

// What a buyer's facts up to the watermark contribute to cs_exclusive_daily
// (SPEC §3.7). compute is a pure function of the buyer's facts, its folded
// relationship, the folded deposits and the watermark: recompute takes the
// last contribution back and makes the new one.

// interval is one relationship of the buyer's timeline: active for
// instants t with from < t < to ("accepted before the moment in question
// and not ended since"; an unsubscribe at t has ended it at t).
type interval struct {
	agent    uint32
	from, to int64 // to: math.MaxInt64 while active
	newFrom  bool  // accepted by a fact (not folded): counts in its day
	newTo    bool  // ended by a fact: the stock drops on its day
	unsub    bool  // ended by an unsubscribe (not by another acceptance)
}

// timeline is the folded relationship followed by the stepped
// relationship facts, in event order. An acceptance of the active
// relationship's own agent changes nothing; one of another agent ends it
// (a buyer has one exclusive agent per shop); an unsubscribe ends the
// relationship with its agent, and only that one.
func (x *exclusive) timeline(b *xbuyer, buf []interval) []interval {
	tl := buf[:0]
	if r, ok := x.rels[b.key]; ok {
		tl = append(tl, interval{agent: r.agent, from: r.accepted, to: math.MaxInt64})
	}
	for _, ev := range b.rels {
		if ev.ts >= x.sh.wm {
			break // held
		}
		var cur *interval
		if n := len(tl); n > 0 && tl[n-1].to == math.MaxInt64 {
			cur = &tl[n-1]
		}
		switch {
		case ev.kind == xAccepted && cur != nil && cur.agent == ev.agent:
		case ev.kind == xAccepted:
			if cur != nil {
				cur.to, cur.newTo = ev.ts, true
			}
			tl = append(tl, interval{agent: ev.agent, from: ev.ts, to: math.MaxInt64, newFrom: true})
		case cur != nil && cur.agent == ev.agent: // unsubscribed
			cur.to, cur.newTo, cur.unsub = ev.ts, true, true
		}
	}
	return tl
}

// owner returns the relationship active at t, if any.
func owner(tl []interval, t int64) (interval, bool) {
	for _, iv := range tl {
		if iv.from < t && t < iv.to {
			return iv, true
		}
	}
	return interval{}, false
}

// computeCtx is one compute's view of a buyer.
type computeCtx struct {
	x    *exclusive
	b    *xbuyer
	zone *eventtime.Zone
	wm   int64
	tl   []interval
	out  []xcontrib
}

func (c *computeCtx) at(agent uint32, day eventtime.Date) *xcontrib {
	for i := range c.out {
		if c.out[i].agent == agent && c.out[i].day == day {
			return &c.out[i]
		}
	}
	c.out = append(c.out, xcontrib{agent: agent, day: day})
	return &c.out[len(c.out)-1]
}

// compute returns b's contribution, appended to out[:0].
func (x *exclusive) compute(b *xbuyer, out []xcontrib) []xcontrib {
	c := computeCtx{x: x, b: b, zone: x.sh.shopZones[b.shop], wm: x.sh.wm, out: out[:0]}
	var tlBuf [4]interval
	c.tl = x.timeline(b, tlBuf[:0])
	c.relationships()
	for _, m := range b.marks {
		if m.ts >= c.wm {
			break
		}
		switch m.kind {
		case xInvited:
			c.at(m.agent, c.zone.Day(m.ts)).v[xInvitedN]++
		case xRejected:
			c.at(m.agent, c.zone.Day(m.ts)).v[xRejectedN]++
		}
	}
	c.followUps()
	return c.out
}

// relationships adds the timeline's changes made by facts: accepted and
// ended counts, and the customer stock's steps.
func (c *computeCtx) relationships() {
	for _, iv := range c.tl {
		if iv.newFrom {
			a := c.at(iv.agent, c.zone.Day(iv.from))
			a.v[xAcceptedN]++
			a.stock++
		}
		if iv.newTo {
			a := c.at(iv.agent, c.zone.Day(iv.to))
			a.stock--
			if iv.unsub {
				a.v[xEnded]++
			}
		}
	}
}

// send is a qualifying proactive message: its agent owned the
// relationship at its instant.
type send struct {
	ts      int64
	agent   uint32
	day     eventtime.Date
	session uint64
}

// followUps adds the per-(agent, day) figures of the proactive messages:
// sent, and of those by the day's end and from the first qualifying
// message on, read / replied / visited / bought, and the guided orders.
func (c *computeCtx) followUps() {
	var buf [8]send
	sends := buf[:0]
	for _, s := range c.b.sessions {
		for _, m := range s.msgs {
			if m.agent == 0 {
				continue
			}
			if iv, ok := owner(c.tl, m.ts); ok && iv.agent == m.agent {
				sends = append(sends, send{ts: m.ts, agent: m.agent, day: c.zone.Day(m.ts), session: s.id})
			}
		}
	}
	for i, s := range sends {
		if c.seenGroup(sends[:i], s) {
			continue
		}
		c.group(sends, s.agent, s.day)
	}
}

func (c *computeCtx) seenGroup(before []send, s send) bool {
	for _, p := range before {
		if p.agent == s.agent && p.day == s.day {
			return true
		}
	}
	return false
}

// group computes one (agent, day) of qualifying sends.
func (c *computeCtx) group(sends []send, agent uint32, day eventtime.Date) {
	first := int64(math.MaxInt64)
	for _, s := range sends {
		if s.agent == agent && s.day == day {
			first = min(first, s.ts)
		}
	}
	end := c.zone.DateStart(day + 1)
	inGroup := func(session uint64) bool {
		for _, s := range sends {
			if s.agent == agent && s.day == day && s.session == session {
				return true
			}
		}
		return false
	}
	within := func(ts int64) bool { return ts >= first && ts < end && ts < c.wm }
	a := c.at(agent, day)
	a.v[xSent] = 1
	for _, s := range c.b.sessions {
		if !inGroup(s.id) {
			continue
		}
		for _, m := range s.msgs {
			if m.agent == 0 && within(m.ts) {
				a.v[xReplied] = 1
			}
		}
	}
	for _, m := range c.b.marks {
		if !within(m.ts) {
			continue
		}
		switch {
		case m.kind == xRead && inGroup(m.ref):
			a.v[xReadC] = 1
		case m.kind == xVisited:
			a.v[xVisitedC] = 1
		case (m.kind == xPaid || m.kind == xFinal) && c.winning(m):
			a.v[xBought] = 1
			if c.guided(m, agent, day, first, inGroup) {
				a.v[xGuidedOrders]++
				a.v[xGuidedAmount] += m.amount + c.depositOf(m)
			}
		}
	}
}

// guided reports whether payment p is a guided order of agent on day
// (SPEC §3.7): the agent owned the relationship at the payment, accepted
// on a day before, and the buyer read a qualifying message of the day at
// or after the first one and at or before paying.
func (c *computeCtx) guided(p mark, agent uint32, day eventtime.Date, first int64, inGroup func(uint64) bool) bool {
	iv, ok := owner(c.tl, p.ts)
	if !ok || iv.agent != agent || c.zone.Day(iv.from) >= day {
		return false
	}
	for _, m := range c.b.marks {
		if m.ts > p.ts {
			break
		}
		if m.kind == xRead && m.ts >= first && inGroup(m.ref) {
			return true
		}
	}
	return false
}

// winning reports whether p is the payment of its order and stage: of two
// different events the later ts wins, at equal ts the larger event hash
// (as the attribution operator decides).
func (c *computeCtx) winning(p mark) bool {
	for _, m := range c.b.marks {
		if m.kind == p.kind && m.ref == p.ref && m.ts < c.wm &&
			(m.ts > p.ts || m.ts == p.ts && m.hash > p.hash) {
			return false
		}
	}
	return true
}

// depositOf is the deposit of a final payment's order: the buyer's
// stepped deposit (the winning one), else a folded one; 0 for an ordinary
// payment or an unknown deposit.
func (c *computeCtx) depositOf(p mark) int64 {
	if p.kind != xFinal {
		return 0
	}
	for _, m := range c.b.marks {
		if m.kind == xDeposit && m.ref == p.ref && m.ts < c.wm && c.winning(m) {
			return m.amount
		}
	}
	return c.x.deposits[p.ref].amount
}

// recompute brings b's contribution up to date.
func (x *exclusive) recompute(b *xbuyer) {
	x.scratch = x.compute(b, x.scratch[:0])
	if equalContribs(b.contrib, x.scratch) {
		return
	}
	x.contribute(b.shop, b.contrib, -1)
	x.contribute(b.shop, x.scratch, 1)
	x.refreshAll()
	b.contrib = append(b.contrib[:0], x.scratch...)
}

func equalContribs(a, b []xcontrib) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
