package generator

// This file simulates one session as a sequence of steps, each advancing
// the session's time cursor and scheduling the events it produces.

// conv is a session being simulated: a time cursor plus what the later
// steps (ratings, orders, follow-ups) need to know about it.
type conv struct {
	g            *generator
	sh           *shop
	r            *rng
	session      uint32
	buyer        uint32
	origin       uint8
	topic        uint8 // what the buyer asks about: groupPre or groupAfter
	now          int64 // ts of the latest event; every step moves it forward
	lastActivity int64
	closeTS      int64
	agent        uint8 // current agent, noAgent before the human phase
	human        bool  // the session reached its human phase
	queued       bool
	inquiry      bool // an agent replied to a buyer human-phase message (origin buyer)
	frustrated   bool // slow or missing replies: ratings get worse
}

// Shapes of the session, as weights for rng.pick (index 0 = one).
var (
	channelWeights = cumulative(3, 60, 15, 25) // none, app, web, mini_program
	robotRounds    = cumulative(50, 35, 15)
	burstCounts    = cumulative(25, 30, 20, 12, 8, 5)
	burstSizes     = cumulative(50, 30, 15, 5)
	replyCounts    = cumulative(65, 28, 7)
	scenarioShares = cumulative(88, 5, 3, 4) // see scenario
	intentWeights  = cumulative(6, 12, 22, 25, 20, 15)
)

// scenario is the shape of a human phase.
type scenario int

const (
	scenarioConversation   scenario = iota // bursts of buyer messages and replies
	scenarioSingleSentence                 // 客服单句: one agent message, the buyer never writes again
	scenarioMonologue                      // 单口相声: only the agent talks
	scenarioUnanswered                     // the buyer writes, no agent ever answers
)

// Session mix.
const (
	askHumanShare    = 0.60 // buyer sessions that ask for a human
	endedShare       = 0.80 // sessions closed by ended; the rest time out
	transferShare    = 0.05 // human phases with an agent-to-agent transfer
	adShare          = 0.01 // agent messages that are adverts
	silentOrderShare = 0.12 // buyer sessions that come with an order of a buyer without inquiry
)

func (g *generator) openConv(sh *shop, start int64, origin uint8, buyer uint32) conv {
	sh.nextSession++
	g.stats.Sessions++
	return conv{g: g, sh: sh, r: &sh.rng, session: sh.nextSession, buyer: buyer, origin: origin,
		topic: groupPre, now: start, agent: noAgent}
}

// startSession picks the origin of a session from the local hour and plays
// it: robot calls run 09–20, agents reach out 08–23.
func (g *generator) startSession(sh *shop, t int64) {
	h := sh.localHour(t)
	u := sh.rng.float()
	switch {
	case h >= 9 && h < 20 && u < 0.06:
		g.robotCall(sh, t)
	case h >= 8 && h < 23 && u >= 0.95:
		g.proactiveSession(sh, t)
	default:
		g.buyerSession(sh, t, sessionPlan{})
		if sh.rng.chance(silentOrderShare) {
			g.silentOrder(sh, t)
		}
	}
}

// sessionPlan steers a follow-up session: a known buyer comes back, asks
// for a human of a given group and talks to an agent other than avoid.
type sessionPlan struct {
	followUp bool
	buyer    uint32
	topic    uint8
	avoid    uint8
}

// buyerSession plays a session the buyer opened: robot first, then maybe
// the queue and a human, then ratings and orders.
func (g *generator) buyerSession(sh *shop, start int64, plan sessionPlan) conv {
	buyer, topic, avoid := plan.buyer, plan.topic, plan.avoid
	if !plan.followUp {
		avoid = noAgent
		buyer = sh.pickBuyer(0.25)
		topic = groupPre
		if sh.rng.chance(0.35) {
			topic = groupAfter
		}
	}
	g.stats.BuyerSessions++
	c := g.openConv(sh, start, originBuyer, buyer)
	c.topic = topic
	c.start(uint8(c.r.pick(channelWeights)), 0, 0)
	c.welcome()
	c.robotPhase()
	if plan.followUp || c.r.chance(askHumanShare) {
		if c.enterQueue(topic) {
			c.assign(sh.pickAgent(topic, avoid), topic)
			sc := scenarioConversation
			if !plan.followUp {
				sc = scenario(c.r.pick(scenarioShares))
			}
			c.humanPhase(sc)
		}
	}
	c.finish(endedShare, 0)
	g.rate(&c)
	if !plan.followUp {
		g.ordersAfterInquiry(&c)
	}
	return c
}

// proactiveSession plays a session an agent opened (origin proactive):
// assigned without a queue, the agent writes first, the buyer may answer.
func (g *generator) proactiveSession(sh *shop, start int64) {
	g.stats.ProactiveSessions++
	c := g.openConv(sh, start, originProac, sh.pickBuyer(0.7))
	if c.r.chance(0.2) {
		c.topic = groupAfter
	}
	c.start(uint8(c.r.pick(channelWeights)), 0, 0)
	c.wait(0, 300)
	group := c.topic
	if c.r.chance(0.3) {
		group = groupNone // no group on the assignment: the agent's row of group ""
	}
	c.assign(sh.pickAgent(c.topic, noAgent), group)
	c.wait(500, 3*second)
	c.agentSays(txtAgentProactive)
	if c.r.chance(0.3) {
		c.wait(2*second, 10*second)
		c.say(senderAgent, c.agent, contentCard, 0, false)
	}
	if c.r.chance(0.55) {
		c.conversation(true)
	}
	c.finish(endedShare, 0)
	g.rate(&c)
	if c.r.chance(0.08) {
		g.order(sh, c.buyer, c.lastActivity+orderDelay(c.r))
	}
}

// robotCall plays a robot outbound call (origin robot_outbound): the robot
// speaks, about 60 % of buyers answer, the call ends with an intent level.
func (g *generator) robotCall(sh *shop, start int64) {
	g.stats.RobotCalls++
	c := g.openConv(sh, start, originRobot, sh.pickBuyer(0.5))
	task := sh.tasks[c.r.intn(len(sh.tasks))]
	robot := task.robot
	if c.r.chance(0.2) {
		robot = task.altRobot
	}
	c.start(channelPhone, task.task, robot)
	c.wait(second, 3*second)
	c.say(senderRobot, noAgent, contentVoice, c.r.text(txtRobotCall), false)
	intent := uint8(0)
	if c.r.chance(0.6) {
		g.stats.RobotConnected++
		for i := c.r.intn(5); i >= 0; i-- {
			c.wait(2*second, 10*second)
			c.say(senderBuyer, noAgent, contentVoice, c.r.text(txtBuyerCall), false)
			c.wait(second, 4*second)
			c.say(senderRobot, noAgent, contentVoice, c.r.text(txtRobotCall), false)
		}
		intent = 1 + uint8(c.r.pick(intentWeights))
	} else {
		c.wait(8*second, 15*second)
		c.say(senderRobot, noAgent, contentVoice, c.r.text(txtRobotCall), false)
		if c.r.chance(0.8) {
			intent = 6 // F: nobody answered
		}
	}
	c.finish(0.9, intent)
}

// --- steps ---------------------------------------------------------------

func (c *conv) event(k kind) event {
	return event{ts: c.now, kind: k, session: c.session, agent: noAgent, from: noAgent}
}

func (c *conv) push(ev *event) {
	if ev.kind.isActivity() {
		c.lastActivity = ev.ts
	}
	c.g.schedule(c.sh, ev)
}

// wait moves the cursor by a uniform [lo, hi) ms: every ts gets ms jitter.
func (c *conv) wait(lo, hi int64) { c.now += c.r.between(lo, hi) }

func (c *conv) start(channel, task, robot uint8) {
	ev := c.event(kindStarted)
	ev.buyer, ev.origin, ev.channel, ev.task, ev.robot = c.buyer, c.origin, channel, task, robot
	c.push(&ev)
}

func (c *conv) say(sender, agent, content uint8, text uint16, ad bool) {
	ev := c.event(kindMessage)
	ev.sender, ev.agent, ev.content, ev.text, ev.isAd = sender, agent, content, text, ad
	c.push(&ev)
}

// buyerSays sends a buyer message: mostly text, sometimes a picture (no
// text) or an emoji.
func (c *conv) buyerSays(set textSet) {
	switch u := c.r.float(); {
	case u < 0.07:
		c.say(senderBuyer, noAgent, contentImage, 0, false)
	case u < 0.10:
		c.say(senderBuyer, noAgent, contentEmoji, c.r.text(txtEmoji), false)
	case u < 0.12:
		c.say(senderBuyer, noAgent, contentNone, c.r.text(set), false) // content_type is optional
	default:
		c.say(senderBuyer, noAgent, contentText, c.r.text(set), false)
	}
}

// agentSays sends a message of the current agent; 1 % are adverts.
func (c *conv) agentSays(set textSet) {
	switch u := c.r.float(); {
	case u < adShare:
		c.say(senderAgent, c.agent, contentCard, c.r.text(txtAds), true)
	case u < adShare+0.08:
		c.say(senderAgent, c.agent, contentCard, c.r.text(set), false)
	default:
		c.say(senderAgent, c.agent, contentText, c.r.text(set), false)
	}
}

func (c *conv) questions() textSet {
	if c.topic == groupAfter {
		return txtBuyerAfterSales
	}
	return txtBuyerPreSales
}

// welcome: the platform notes the buyer's arrival and the robot greets.
func (c *conv) welcome() {
	if c.r.chance(0.5) {
		c.wait(200, 800)
		c.say(senderSystem, noAgent, contentText, c.r.text(txtSystemEnter), false)
	}
	if c.r.chance(0.7) {
		c.wait(300, 1500)
		c.say(senderRobot, noAgent, contentText, c.r.text(txtRobotGreeting), false)
	}
}

// robotPhase: the buyer asks the robot (机器人) a few questions.
func (c *conv) robotPhase() {
	for i := c.r.pick(robotRounds); i >= 0; i-- {
		c.wait(3*second, 40*second)
		c.buyerSays(c.questions())
		c.wait(400, 2500)
		c.say(senderRobot, noAgent, contentText, c.r.text(txtRobotAnswer), false)
	}
}

// enterQueue: the buyer asks for a human (转人工) and waits in the group's
// queue; false when the buyer gives up (abandoned).
func (c *conv) enterQueue(group uint8) bool {
	c.wait(3*second, 30*second)
	c.say(senderBuyer, noAgent, contentText, c.r.text(txtBuyerAskHuman), false)
	c.wait(200, 1500)
	c.say(senderSystem, noAgent, contentText, c.r.text(txtSystemQueue), false)
	c.wait(50, 400)
	c.queue(group)
	wait, abandon := c.queueWait()
	c.now += wait
	if abandon {
		ev := c.event(kindAbandoned)
		ev.group = group
		c.push(&ev)
		c.g.stats.Abandoned++
	}
	return !abandon
}

func (c *conv) queue(group uint8) {
	ev := c.event(kindQueued)
	ev.group = group
	c.push(&ev)
	if !c.queued {
		c.queued = true
		c.g.stats.Queued++
	}
}

// queueWait is the time in the queue: seconds mostly, minutes sometimes, a
// few over 10 minutes; at night few agents are on duty, waits are long and
// more buyers leave. A wait stays under session_timeout: a session that
// timed out in the queue would take its assignment after its close.
func (c *conv) queueWait() (wait int64, abandon bool) {
	h := c.sh.localHour(c.now)
	if h < 8 {
		if c.r.chance(0.2) {
			return c.r.between(minute, 20*minute), true
		}
		return clamp(int64(c.r.logNormal(float64(3*minute), 0.8)), 10*second, 28*minute), false
	}
	if c.r.chance(0.045) {
		return c.r.between(20*second, 8*minute), true
	}
	median := 8 * second
	if (h >= 10 && h < 12) || (h >= 20 && h < 22) {
		median = 15 * second // peaks: busy agents
	}
	switch u := c.r.float(); {
	case u < 0.85:
		return clamp(int64(c.r.logNormal(float64(median), 0.8)), 500, 2*minute), false
	case u < 0.97:
		return c.r.between(2*minute, 10*minute), false
	default:
		return c.r.between(10*minute, 25*minute), false
	}
}

// assign starts or moves the human phase to agent. 3 % of first
// assignments are re-dispatched at the very same ms to a second agent: two
// assigned with one ts, ordered by event_id (SPEC §2).
func (c *conv) assign(agent, group uint8) {
	first := !c.human
	c.assigned(agent, group)
	if first {
		c.g.stats.Assigned++
		if other := c.sh.pickAgent(c.topic, agent); other != agent && c.r.chance(0.03) {
			c.assigned(other, group)
			c.g.stats.Transfers++
		}
	}
	c.wait(50, 300)
	c.say(senderSystem, noAgent, contentText, c.r.text(txtSystemAssign), false)
}

func (c *conv) assigned(agent, group uint8) {
	ev := c.event(kindAssigned)
	ev.group, ev.agent, ev.from = group, agent, c.agent
	c.push(&ev)
	c.agent, c.human = agent, true
}

func (c *conv) humanPhase(sc scenario) {
	switch sc {
	case scenarioSingleSentence:
		c.wait(3*second, minute)
		c.agentSays(txtAgentOneLiner)
	case scenarioMonologue:
		for i := 1 + c.r.intn(2); i >= 0; i-- {
			c.wait(20*second, 3*minute)
			c.agentSays(txtAgentOneLiner)
		}
	case scenarioUnanswered:
		c.buyerLeftUnanswered()
	default:
		if c.r.chance(0.7) {
			c.wait(2*second, 30*second)
			c.agentSays(txtAgentGreeting)
		}
		c.conversation(false)
	}
}

// conversation: bursts of 1–4 buyer messages, each answered by the agent
// (or not), possibly a transfer in the middle of a burst or a word from the
// supervisor; the buyer may have waited long before answering (patient).
func (c *conv) conversation(patient bool) {
	bursts := c.r.pick(burstCounts) + 1
	transferAt, supervisorAt := -1, -1
	if c.r.chance(transferShare) {
		transferAt = c.r.intn(bursts)
	}
	if c.r.chance(0.01) {
		supervisorAt = c.r.intn(bursts)
	}
	for b := 0; b < bursts; b++ {
		c.buyerPause(b == 0, patient)
		first := c.buyerBurst(b == transferAt)
		if b == supervisorAt {
			c.wait(5*second, minute)
			c.say(senderAgent, 0, contentText, c.r.text(txtSupervisor), false)
		}
		if !c.agentReplies(first) {
			return
		}
	}
	c.closingWords()
}

// buyerPause is the buyer's reading and typing time before a burst. Now
// and then it is exactly session_timeout, which keeps the session open.
func (c *conv) buyerPause(first, patient bool) {
	switch {
	case c.r.chance(0.003):
		c.now = c.lastActivity + sessionTimeout
	case first && patient:
		c.wait(30*second, 10*minute)
	case first:
		c.wait(2*second, 40*second)
	default:
		c.now += clamp(int64(c.r.logNormal(float64(25*second), 0.9)), 2*second, 20*minute)
	}
}

// buyerBurst sends 1–4 buyer messages in a row and returns the ts of the
// first; with transfer, the session moves to another agent mid-burst.
func (c *conv) buyerBurst(transfer bool) (first int64) {
	n := c.r.pick(burstSizes) + 1
	for i := 0; i < n; i++ {
		if i > 0 {
			c.wait(2*second, 15*second)
		}
		c.snapToWindowEdge()
		if i == 0 {
			first = c.now
		}
		if i == 0 || c.r.chance(0.5) {
			c.buyerSays(c.questions())
		} else {
			c.buyerSays(txtBuyerShort)
		}
		if transfer && i == (n-1)/2 {
			c.transfer()
		}
	}
	return first
}

// snapToWindowEdge moves a buyer message that falls in the minute before
// local 08:00 or 23:00 onto the edge of the 08–23 window, exactly on it
// and 1 ms before it in turn, so that the half-open window of SPEC §2 gets
// tested on both sides even in a small run (07:00–08:00 is quiet).
func (c *conv) snapToWindowEdge() {
	local := c.sh.clock.local(c.now)
	into := local % hour
	if h := local / hour % 24; (h == 7 || h == 22) && into >= hour-minute {
		edge := c.now + hour - into
		c.sh.edgeBefore = !c.sh.edgeBefore
		if c.sh.edgeBefore {
			edge--
		}
		c.now = edge
	}
}

// transfer moves the session to another agent: directly (assigned with
// from_agent_id) or, a third of the time, through a group's queue.
func (c *conv) transfer() {
	group := c.topic
	if c.r.chance(0.3) {
		group = groupPre + groupAfter - c.topic
	}
	to := c.sh.pickAgent(group, c.agent)
	if to == c.agent {
		return // nobody else to take over
	}
	c.wait(second, 20*second)
	if c.r.chance(0.3) {
		c.queue(group)
		c.now += clamp(int64(c.r.logNormal(float64(10*second), 0.8)), 500, 5*minute)
	}
	c.assigned(to, group)
	c.g.stats.Transfers++
	c.wait(100, 600)
	c.say(senderSystem, noAgent, contentText, c.r.text(txtSystemMove), false)
}

// agentReplies answers the burst that started at first, after the agent's
// usual delay: 10–90 s mostly, sometimes over 3 minutes, sometimes exactly
// 3 minutes (or 1 ms more), sometimes never (false).
func (c *conv) agentReplies(first int64) bool {
	p := &c.sh.agents[c.agent]
	if c.r.chance(p.silentShare) {
		c.frustrated = true
		return false
	}
	var delay int64
	switch {
	case !c.r.chance(c.sh.slowShare(p, c.now)):
		delay = clamp(int64(c.r.logNormal(p.replyMedian, 0.7)), 2*second, 170*second)
	case c.r.chance(0.1):
		delay = 3*minute + int64(c.r.intn(2))
	default:
		delay = c.r.between(3*minute+1, 15*minute)
		c.frustrated = true
	}
	c.now = max(first+delay, c.now+c.r.between(500, 3*second))
	for i := c.r.pick(replyCounts); i >= 0; i-- {
		c.agentSays(txtAgentReply)
		if i > 0 {
			c.wait(3*second, 25*second)
		}
	}
	if c.origin == originBuyer {
		c.inquiry = true
	}
	return true
}

// closingWords: half of the buyers thank, and most agents answer that.
func (c *conv) closingWords() {
	if !c.r.chance(0.5) {
		return
	}
	c.wait(5*second, 40*second)
	c.say(senderBuyer, noAgent, contentText, c.r.text(txtBuyerThanks), false)
	if c.r.chance(0.8) {
		c.wait(3*second, 20*second)
		c.agentSays(txtAgentClosing)
	}
}

// buyerLeftUnanswered: the buyer writes, asks again, and nobody answers: an
// unpicked session, which must lower the rates (it is not a monologue).
func (c *conv) buyerLeftUnanswered() {
	c.wait(2*second, 30*second)
	for i := c.r.intn(3); i >= 0; i-- {
		c.snapToWindowEdge()
		c.buyerSays(c.questions())
		c.wait(30*second, 4*minute)
	}
	c.frustrated = true
}

// finish closes the session: with an ended event (share of the time), or
// by silence, then session_timeout. Rarely an event comes after the close,
// which is not part of the session (SPEC §1).
func (c *conv) finish(share float64, intent uint8) {
	if c.r.chance(share) {
		c.wait(second, 90*second)
		ev := c.event(kindEnded)
		ev.intent = intent
		c.push(&ev)
		c.closeTS = c.now
		c.g.stats.Ended++
		if c.r.chance(0.02) {
			c.wait(200, 1500)
			c.say(senderSystem, noAgent, contentText, c.r.text(txtSystemClosed), false)
		}
		return
	}
	c.closeTS = c.lastActivity + sessionTimeout
	c.g.stats.TimedOut++
	if c.origin == originBuyer && c.r.chance(0.005) {
		c.now = c.closeTS + c.r.between(1, 10*minute)
		c.say(senderBuyer, noAgent, contentText, c.r.text(txtBuyerStray), false)
	}
}

func clamp(v, lo, hi int64) int64 { return min(max(v, lo), hi) }
