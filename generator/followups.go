package generator

// Ratings and orders: events that refer back to a session, minutes to days
// after it.

var (
	scoresContent    = cumulative(4, 2, 4, 15, 75) // scores 1..5
	scoresFrustrated = cumulative(15, 10, 15, 25, 35)
	prices           = [...]int64{1990, 2990, 3990, 5990, 8990, 12900, 19900, 29900, 49900, 99900}
	priceWeights     = cumulative(12, 16, 16, 14, 12, 10, 8, 6, 4, 2)
)

const (
	ratedShare = 0.30 // human sessions that get a rating
	paidShare  = 0.85 // orders that get paid
)

// rate gives ~30 % of human sessions a score minutes to hours after the
// close (within rating_window, 24 h); 5 % are re-rated later, a tenth of
// those at the very same ms (event_id decides). 0.5 % come after the
// window: the pipeline dead-letters them as late.
func (g *generator) rate(c *conv) {
	if !c.human || !c.r.chance(ratedShare) {
		return
	}
	agent := c.agent // the last agent, after transfers
	if c.r.chance(0.2) {
		agent = noAgent // the pipeline falls back to the last assigned agent
	}
	ts := c.closeTS + ratingDelay(c.r)
	late := c.r.chance(0.005)
	if late {
		ts = c.closeTS + day + c.r.between(minute, 6*hour)
		g.stats.LateRatings++
	}
	score := c.score()
	g.evaluation(c, ts, agent, score)
	if late || !c.r.chance(0.05) {
		return
	}
	if !c.r.chance(0.1) {
		ts += c.r.between(minute, max(2*minute, c.closeTS+day-minute-ts))
	}
	rerated := c.score()
	if rerated == score { // a re-rating changes the score, mostly up after the problem was solved
		rerated = 5
		if score == 5 {
			rerated = 4
		}
	}
	g.evaluation(c, ts, agent, rerated)
	g.stats.ReRatings++
}

func (g *generator) evaluation(c *conv, ts int64, agent, score uint8) {
	ev := event{ts: ts, kind: kindEvaluation, session: c.session, agent: agent, from: noAgent, score: score}
	g.schedule(c.sh, &ev)
	g.stats.Evaluations++
}

func (c *conv) score() uint8 {
	if c.frustrated {
		return uint8(c.r.pick(scoresFrustrated)) + 1
	}
	return uint8(c.r.pick(scoresContent)) + 1
}

// ratingDelay: most buyers rate within minutes, some hours later.
func ratingDelay(r *rng) int64 {
	switch u := r.float(); {
	case u < 0.45:
		return r.between(30*second, 30*minute)
	case u < 0.80:
		return r.between(30*minute, 4*hour)
	default:
		return r.between(4*hour, day-minute)
	}
}

// ordersAfterInquiry: a share of the buyers who asked an agent order, more
// after pre-sales questions than after after-sales ones. A few first ask a
// second agent, a few order and then ask again before paying: the cases
// where the order, pay and order_first rules disagree (SPEC §3.4).
func (g *generator) ordersAfterInquiry(c *conv) {
	if !c.inquiry {
		return
	}
	if c.topic == groupAfter {
		if c.r.chance(0.06) {
			g.order(c.sh, c.buyer, c.lastActivity+orderDelay(c.r))
		}
		return
	}
	switch u := c.r.float(); {
	case u < 0.04:
		g.secondOpinionThenOrder(c)
	case u < 0.07:
		g.orderAroundNewInquiry(c)
	case u < 0.07+0.35:
		g.order(c.sh, c.buyer, c.lastActivity+orderDelay(c.r))
	}
}

// secondOpinionThenOrder: the buyer comes back later, asks another agent,
// and orders after that.
func (g *generator) secondOpinionThenOrder(c *conv) {
	start := c.lastActivity + c.r.between(10*minute, 4*hour)
	f := g.buyerSession(c.sh, start, sessionPlan{followUp: true, buyer: c.buyer, topic: groupPre, avoid: c.agent})
	g.order(c.sh, c.buyer, f.lastActivity+c.r.between(minute, 2*hour))
}

// orderAroundNewInquiry: the order is created, the buyer asks again
// (another agent), and pays after that.
func (g *generator) orderAroundNewInquiry(c *conv) {
	created := c.lastActivity + c.r.between(2*minute, 30*minute)
	order, amount := g.createOrder(c.sh, c.buyer, created)
	topic := groupPre
	if c.r.chance(0.5) {
		topic = groupAfter
	}
	f := g.buyerSession(c.sh, created+c.r.between(3*minute, 40*minute),
		sessionPlan{followUp: true, buyer: c.buyer, topic: uint8(topic), avoid: c.agent})
	g.pay(c.sh, c.buyer, order, amount, f.lastActivity+c.r.between(minute, 10*minute))
}

// silentOrder: a buyer orders without asking anybody (静默下单), mostly a
// new one, sometimes one seen before.
func (g *generator) silentOrder(sh *shop, t int64) {
	buyer := sh.newBuyer()
	if sh.rng.chance(0.35) {
		buyer = sh.returningBuyer()
	}
	g.order(sh, buyer, t+sh.rng.between(0, 2*hour))
}

// order creates an order at created and pays most of them.
func (g *generator) order(sh *shop, buyer uint32, created int64) {
	order, amount := g.createOrder(sh, buyer, created)
	if sh.rng.chance(paidShare) {
		g.pay(sh, buyer, order, amount, created+payDelay(&sh.rng))
	}
}

func (g *generator) createOrder(sh *shop, buyer uint32, ts int64) (order uint32, amount int64) {
	sh.nextOrder++
	amount = prices[sh.rng.pick(priceWeights)]
	if sh.rng.chance(0.15) {
		amount *= 2
	}
	ev := event{ts: ts, kind: kindOrderCreated, buyer: buyer, order: sh.nextOrder, amount: amount, agent: noAgent, from: noAgent}
	g.schedule(sh, &ev)
	g.stats.OrdersCreated++
	return sh.nextOrder, amount
}

// pay pays an order, now and then less than its amount (a coupon).
func (g *generator) pay(sh *shop, buyer, order uint32, amount, ts int64) {
	if sh.rng.chance(0.1) {
		amount = max(990, amount-sh.rng.between(5, 21)*100)
	}
	ev := event{ts: ts, kind: kindOrderPaid, buyer: buyer, order: order, amount: amount, agent: noAgent, from: noAgent}
	g.schedule(sh, &ev)
	g.stats.OrdersPaid++
}

// orderDelay after an inquiry: same day mostly, next day often, and a few
// after the inquiry has expired (inquiry_valid_days 2), which are silent.
func orderDelay(r *rng) int64 {
	switch u := r.float(); {
	case u < 0.45:
		return r.between(minute, 30*minute)
	case u < 0.75:
		return r.between(30*minute, 6*hour)
	case u < 0.95:
		return r.between(6*hour, 30*hour)
	default:
		return r.between(49*hour, 72*hour)
	}
}

// payDelay: most pay within minutes, some within the day.
func payDelay(r *rng) int64 {
	switch u := r.float(); {
	case u < 0.70:
		return r.between(30*second, 15*minute)
	case u < 0.90:
		return r.between(15*minute, 6*hour)
	default:
		return r.between(6*hour, day)
	}
}
