package generator

import "slices"

// Exclusive customers and proactive follow-up (专属客服, SPEC §1
// cs.outreach, §3.7). Every ten minutes of a shop's local day, between
// 09:00 and 22:00, agents send invitation cards by hand (most accepted
// minutes later, some rejected, some never answered), buyers accept
// through an automatic channel, and now and then a customer unsubscribes:
// relationships build up over the days. Three campaigns a day, at 10:30,
// 15:00 and 23:30 local, each agent writes some of its customers in a
// proactive session; they read it minutes to hours later (after midnight,
// for the late one), visit the shop, reply, and some buy — a few a
// presale order, the deposit now and the final payment days later.
//
// The outreach has a random stream of its own per shop, so that it does
// not change the rest of the traffic's randomness; its sessions, orders
// and event ids are numbered with the shop's.

// outreach is a shop's exclusive-customer state.
type outreach struct {
	rng       rng
	next      int64              // the next ten-minute tick
	customers map[uint32]uint8   // buyer → agent
	byAgent   map[uint8][]uint32 // agent → buyers, in order of acceptance
	scale     float64            // the shop's size against the default 2000 sessions a day
}

const (
	outreachTick = 10 * minute
	// campaign local times, minutes after midnight
	campaignMorning = 10*60 + 30
	campaignAfter   = 15 * 60
	campaignLate    = 23*60 + 30
)

// Values of event.extra.
const (
	viaManual    = 1 // accepted: by hand
	viaAuto      = 2 // accepted: through an automatic channel
	stageDeposit = 1 // paid: a presale deposit
	stageFinal   = 2 // paid: a presale's final payment
)

func newOutreach(cfg Config, num int, start int64) outreach {
	return outreach{
		rng: newRNG(cfg.Seed, 1<<40+uint64(num)), next: start,
		customers: map[uint32]uint8{}, byAgent: map[uint8][]uint32{},
		scale: float64(cfg.SessionsPerShopDay) / 2000,
	}
}

// outreachShop plays sh's outreach ticks before limit.
func (g *generator) outreachShop(sh *shop, limit int64) {
	o := &sh.out
	for o.next < limit && o.next < sh.end {
		t := o.next
		o.next += outreachTick
		local := sh.clock.local(t) % day / minute
		switch local - local%10 {
		case campaignMorning, campaignAfter, campaignLate:
			g.campaign(sh, t)
		}
		if h := local / 60; h >= 9 && h < 22 {
			g.relationships(sh, t)
		}
	}
}

// relationships: invitations by hand, automatic acceptances and
// unsubscriptions of one tick.
func (g *generator) relationships(sh *shop, t int64) {
	o := &sh.out
	r := &o.rng
	if r.chance(min(1, 0.6*o.scale)) {
		buyer, agent := o.pickBuyer(sh), uint8(1+r.intn(len(sh.agents)-1))
		if _, bound := o.customers[buyer]; !bound {
			at := t + r.between(0, outreachTick)
			g.outreachEvent(sh, kindInvited, at, buyer, agent, 0, 0)
			switch u := r.float(); {
			case u < 0.7:
				g.accept(sh, at+r.between(30*second, 2*hour), buyer, agent, viaManual)
			case u < 0.9:
				g.outreachEvent(sh, kindRejected, at+r.between(30*second, hour), buyer, agent, 0, 0)
			}
		}
	}
	if r.chance(min(1, 0.2*o.scale)) {
		buyer, agent := sh.newBuyer(), uint8(1+r.intn(len(sh.agents)-1))
		g.accept(sh, t+r.between(0, outreachTick), buyer, agent, viaAuto)
	}
	if len(o.customers) > 20 && r.chance(0.05) {
		agent := uint8(1 + r.intn(len(sh.agents)-1))
		if bs := o.byAgent[agent]; len(bs) > 0 {
			buyer := bs[r.intn(len(bs))]
			g.outreachEvent(sh, kindUnsubscribed, t+r.between(0, outreachTick), buyer, agent, 0, 0)
			o.unbind(buyer, agent)
		}
	}
}

// accept binds buyer to agent. A buyer has one exclusive agent per shop:
// another agent's invitation accepted moves the customer.
func (g *generator) accept(sh *shop, at int64, buyer uint32, agent, via uint8) {
	o := &sh.out
	if old, bound := o.customers[buyer]; bound {
		o.unbind(buyer, old)
	}
	o.customers[buyer] = agent
	o.byAgent[agent] = append(o.byAgent[agent], buyer)
	g.outreachEvent(sh, kindAccepted, at, buyer, agent, 0, via)
	g.stats.Relationships++
}

func (o *outreach) unbind(buyer uint32, agent uint8) {
	delete(o.customers, buyer)
	o.byAgent[agent] = slices.DeleteFunc(o.byAgent[agent], func(b uint32) bool { return b == buyer })
}

// campaign: each agent writes some of its customers.
func (g *generator) campaign(sh *shop, t int64) {
	o := &sh.out
	perAgent := max(1, int(4*o.scale+0.5))
	for agent := uint8(1); int(agent) < len(sh.agents); agent++ {
		bs := o.byAgent[agent]
		for i := range min(perAgent, len(bs)) {
			buyer := bs[(len(bs)-1-i+o.rng.intn(len(bs)))%len(bs)]
			g.followUp(sh, t+int64(i)*o.rng.between(20*second, 2*minute), buyer, agent)
		}
	}
	g.stats.Campaigns++
}

// followUp is one proactive message to an exclusive customer and what the
// customer does after it.
func (g *generator) followUp(sh *shop, t int64, buyer uint32, agent uint8) {
	o := &sh.out
	r := &o.rng
	c := g.openConv(sh, t, originProac, buyer)
	c.r = r
	c.start(uint8(r.pick(channelWeights)), 0, 0)
	c.wait(0, 300)
	c.assigned(agent, groupPre) // not assign: its transfers draw from the shop's stream
	c.wait(2*second, 30*second)
	c.say(senderAgent, agent, contentText, r.text(txtAgentProactive), false)
	sent := c.now
	if r.chance(0.25) {
		c.wait(30*second, 10*minute)
		c.buyerSays(txtBuyerPreSales)
	}
	c.finish(endedShare, 0)
	g.stats.FollowUps++
	read := r.chance(0.65)
	at := sent
	if read {
		at += readDelay(r)
		g.outreachEvent(sh, kindRead, at, buyer, noAgent, c.session, 0)
	}
	if r.chance(0.35) {
		g.outreachEvent(sh, kindVisited, at+r.between(20*second, 20*minute), buyer, noAgent, 0, 0)
	}
	switch {
	case read && r.chance(0.15):
		g.followUpOrder(sh, buyer, at+r.between(2*minute, 90*minute), r.chance(1.0/6))
	case !read && r.chance(0.04):
		g.followUpOrder(sh, buyer, at+r.between(10*minute, 3*hour), false)
	}
}

// pickBuyer picks a buyer to invite: a recent one mostly, else a new one.
func (o *outreach) pickBuyer(sh *shop) uint32 {
	if n := min(sh.recentCount, len(sh.recent)); n > 0 && o.rng.chance(0.8) {
		return sh.recent[o.rng.intn(n)]
	}
	return sh.newBuyer()
}

// followUpOrder: an order created and paid minutes later or, as a presale
// (预售), a deposit now and the final payment two to ten days later.
func (g *generator) followUpOrder(sh *shop, buyer uint32, t int64, presale bool) {
	r := &sh.out.rng
	sh.nextOrder++
	order, amount := sh.nextOrder, prices[r.pick(priceWeights)]
	ev := event{ts: t, kind: kindOrderCreated, buyer: buyer, order: order, amount: amount, agent: noAgent, from: noAgent}
	g.schedule(sh, &ev)
	g.stats.OrdersCreated++
	if !presale {
		g.payPart(sh, buyer, order, amount, t+r.between(30*second, 15*minute), 0)
		return
	}
	deposit := max(1000, amount/10-amount/10%100)
	g.payPart(sh, buyer, order, deposit, t+r.between(30*second, 10*minute), stageDeposit)
	g.payPart(sh, buyer, order, amount-deposit, t+r.between(2*day, 10*day), stageFinal)
	g.stats.Presales++
}

func (g *generator) payPart(sh *shop, buyer, order uint32, amount, ts int64, stage uint8) {
	ev := event{ts: ts, kind: kindOrderPaid, buyer: buyer, order: order, amount: amount, agent: noAgent, from: noAgent, extra: stage}
	g.schedule(sh, &ev)
	g.stats.OrdersPaid++
}

// readDelay: most read within half an hour, some hours later.
func readDelay(r *rng) int64 {
	if r.chance(0.7) {
		return r.between(20*second, 30*minute)
	}
	return r.between(30*minute, 5*hour)
}

func (g *generator) outreachEvent(sh *shop, k kind, ts int64, buyer uint32, agent uint8, session uint32, extra uint8) {
	ev := event{ts: ts, kind: k, buyer: buyer, agent: agent, from: noAgent, session: session, extra: extra}
	g.schedule(sh, &ev)
}
