package metrics

import "github.com/cspulse/cspulse/schemas"

// derived is everything that replaying a session's log establishes. It is
// a pure function of the log, the header and the settings: replay zeroes it
// and steps through the log again.
type derived struct {
	startTS       int64 // the first `started`, else the first entry
	lastAct       int64 // ts of the last applied entry
	closeTS       int64
	queueTS       int64 // start of the open queue episode
	firstQueuedTS int64
	firstAssignTS int64
	firstAgentTS  int64 // first human-phase agent message
	inquiryTS     int64 // first human-phase buyer message
	waitSum       int64

	applied         int32 // entries stepped through; the rest are after the close
	pendingFrom     int32 // first unreplied human-phase buyer message; -1 none
	cur             int32 // current (= last applied) assignment; -1 before the human phase
	buyerMsgs       uint32
	agentMsgs       uint32
	robotMsgs       uint32
	humanBuyer      uint32
	humanAgent      uint32
	inquiryAgent    uint32 // the sender of the reply to the first human-phase buyer message
	inquiryAssign   int32  // the assignment that reply belongs to (SPEC §3.4)
	intent          uint32
	closed          bool
	closedByEnded   bool
	started         bool
	queued          bool // ≥ 1 `queued`: a transferred session
	queueOpen       bool
	pickedAny       bool
	abandoned       bool
	inquiryReplied  bool
	firstAgentKnown bool
}

func (d *derived) reset() {
	*d = derived{pendingFrom: -1, cur: -1, inquiryAssign: -1}
}

// replay steps through the log with sign: −1 takes back every
// contribution of the applied entries (the derived state ends where it
// was), +1 makes them again, after the log changed, for the entries up to
// the watermark; those ahead of it stay held until it passes them.
func (e *Engine) replay(s *session, sign int64) {
	upTo := len(s.log)
	if sign < 0 {
		upTo = int(s.d.applied)
	}
	s.d.reset()
	s.pairs = s.pairs[:0]
	for i := range upTo {
		if sign > 0 {
			if s.log[i].ts >= e.wm {
				return
			}
			if len(s.evals) > 0 {
				e.dueEvals(s, s.log[i].ts-1)
			}
		}
		if !e.step(s, i, sign) {
			return
		}
	}
}

// step applies log entry i, which must follow the applied ones. It returns
// false when the session closed before the entry: the entry and every
// later one are not part of it (SPEC §1: events after the close are not).
func (e *Engine) step(s *session, i int, sign int64) bool {
	d := &s.d
	en := &s.log[i]
	if d.closed {
		return false
	}
	if d.applied > 0 && en.ts > d.lastAct+e.lim.timeout {
		d.closed, d.closeTS = true, d.lastAct+e.lim.timeout
		return false
	}
	if d.applied == 0 {
		d.startTS = en.ts
	}
	d.applied = int32(i + 1)
	d.lastAct = en.ts
	switch en.kind() {
	case kindStarted:
		e.stepStarted(s, en, sign)
	case kindQueued:
		e.stepQueued(s, en, sign)
	case kindAssigned:
		e.stepAssigned(s, en, sign)
	case kindBuyer:
		e.stepBuyer(s, en, i, sign)
	case kindAgent:
		e.stepAgent(s, en, i, sign)
	case kindOther:
		d.robotMsgs += en.ref
	case kindAbandoned:
		e.stepAbandoned(s, en, sign)
	case kindEnded:
		d.closed, d.closedByEnded, d.closeTS, d.intent = true, true, en.ts, en.ref
	}
	if sign > 0 && len(s.evals) > 0 && (en.kind() == kindAssigned || d.applied == 1) {
		e.refreshRating(s) // the rated agent, or that anything is applied, changed
	}
	return true
}

// stepStarted counts a consult session (SPEC §3.2) in the hour of start.
// Only the first `started` counts; the header comes from it.
func (e *Engine) stepStarted(s *session, en *entry, sign int64) {
	d := &s.d
	if d.started {
		return
	}
	d.started, d.startTS = true, en.ts
	if s.hdr.origin == schemas.OriginBuyer {
		e.shopCell(s, en.ts)[shopConsult] += sign
	}
}

// stepQueued opens a queue episode and, the first time, makes the session
// a transferred one in the hour of this `queued`. A `queued` while the
// buyer already waits does not restart the wait.
func (e *Engine) stepQueued(s *session, en *entry, sign int64) {
	d := &s.d
	if !d.queued {
		d.queued, d.firstQueuedTS = true, en.ts
		c := e.shopCell(s, en.ts)
		c[shopTransferred] += sign
		if d.pickedAny {
			c[shopTransferredPicked] += sign
		}
	}
	if !d.queueOpen {
		d.queueOpen, d.queueTS = true, en.ts
	}
}

// stepAssigned opens an assignment: counted for its agent in the hour of
// the assignment, with the wait when it is the first after a `queued`.
func (e *Engine) stepAssigned(s *session, en *entry, sign int64) {
	d := &s.d
	a := &s.assigns[en.ref]
	a.agentMsgs, a.buyerAfter = 0, false
	if d.cur < 0 {
		d.firstAssignTS = en.ts
	}
	d.cur = int32(en.ref)
	c := e.agentCell(s, a.group, a.agent, en.ts)
	c[agentAssignments] += sign
	if d.queueOpen {
		wait := en.ts - d.queueTS
		c[agentWaitSum] += sign * wait
		c[agentWaitCount] += sign
		d.waitSum += wait
		d.queueOpen = false
	}
}

// stepAbandoned ends an open queue episode unassigned. A session counts
// once, in the hour of its first abandonment.
func (e *Engine) stepAbandoned(s *session, en *entry, sign int64) {
	d := &s.d
	if !d.queueOpen {
		return
	}
	d.queueOpen = false
	if !d.abandoned {
		d.abandoned = true
		e.shopCell(s, en.ts)[shopAbandoned] += sign
	}
}

// stepBuyer counts a buyer message for the current agent (SPEC §3.1) and
// leaves it pending until an agent message replies to it.
func (e *Engine) stepBuyer(s *session, en *entry, i int, sign int64) {
	d := &s.d
	d.buyerMsgs++
	if d.cur < 0 {
		return // before the human phase
	}
	a := &s.assigns[d.cur]
	en.ref = uint32(d.cur)
	if d.humanBuyer == 0 {
		d.inquiryTS = en.ts
	}
	d.humanBuyer++
	if a.agentMsgs > 0 {
		a.buyerAfter = true
	}
	c := e.agentCell(s, a.group, a.agent, en.ts)
	c[agentBuyerMsgs] += sign
	if s.zone.InDailyWindow(en.ts, e.lim.windowFrom, e.lim.windowTo) {
		c[agentBuyerMsgsWindow] += sign
		e.pairMessage(s, a, en.ts, sign)
	}
	e.shopCell(s, en.ts)[shopBuyerMsgs] += sign
	if d.pendingFrom < 0 {
		d.pendingFrom = int32(i)
	}
}

// stepAgent counts an agent message for its sender, replies to every
// pending buyer message, and picks up the current assignment when the
// sender is its agent.
func (e *Engine) stepAgent(s *session, en *entry, i int, sign int64) {
	d := &s.d
	d.agentMsgs++
	// Every agent message counts for its sender (SPEC §3), also outside
	// any assignment: in the group of the sender's latest assignment so
	// far, else "".
	agent := en.ref
	e.agentCell(s, s.groupOf(agent, int(d.cur)), agent, en.ts)[agentAgentMsgs] += sign
	e.shopCell(s, en.ts)[shopAgentMsgs] += sign
	if d.cur < 0 {
		return // before the human phase: no reply, no pickup
	}
	d.humanAgent++
	if !d.firstAgentKnown {
		d.firstAgentKnown, d.firstAgentTS = true, en.ts
	}
	e.replyPending(s, en, i, sign)
	if a := &s.assigns[d.cur]; a.agent == agent {
		e.assignmentMessage(s, a, en.ts, sign)
	}
}

// replyPending makes the agent message at i the reply of every pending
// buyer message: each is measured to it, in its own agent's cell and hour.
func (e *Engine) replyPending(s *session, reply *entry, i int, sign int64) {
	d := &s.d
	if d.pendingFrom < 0 {
		return
	}
	if !d.inquiryReplied {
		// The first batch of pending messages starts with the first one.
		d.inquiryReplied, d.inquiryAgent, d.inquiryAssign = true, reply.ref, d.cur
	}
	for j := int(d.pendingFrom); j < i; j++ {
		m := &s.log[j]
		if m.kind() != kindBuyer {
			continue
		}
		a := &s.assigns[m.ref]
		response := reply.ts - m.ts
		c := e.agentCell(s, a.group, a.agent, m.ts)
		c[agentRepliedMsgs] += sign
		c[agentResponseMsSum] += sign * response
		if response <= e.lim.replyWithin && s.zone.InDailyWindow(m.ts, e.lim.windowFrom, e.lim.windowTo) {
			c[agentReplied3minWindow] += sign
			e.pairReplied(s, a.agent, sign)
		}
	}
	d.pendingFrom = -1
}

// assignmentMessage counts a message of the assignment's own agent: the
// first one picks the assignment up (SPEC §3.2) and gives its first
// response time (§3.1), both in the hour of the assignment.
func (e *Engine) assignmentMessage(s *session, a *assignment, ts int64, sign int64) {
	if a.agentMsgs < 1<<16-1 {
		a.agentMsgs++
	}
	if a.agentMsgs != 1 {
		return
	}
	c := e.agentCell(s, a.group, a.agent, a.ts)
	c[agentPicked] += sign
	c[agentFirstResponseSum] += sign * (ts - a.ts)
	c[agentFirstResponseCount] += sign
	d := &s.d
	if !d.pickedAny {
		d.pickedAny = true
		if d.queued {
			e.shopCell(s, d.firstQueuedTS)[shopTransferredPicked] += sign
		}
	}
}

// pairMessage counts an in-window buyer message of a's agent in the
// session's pair for that agent, creating the pair (and counting it, in the
// hour of this message) on its first such message.
func (e *Engine) pairMessage(s *session, a *assignment, ts int64, sign int64) {
	p := s.pair(a.agent)
	if p == nil {
		s.pairs = append(s.pairs, pair{firstTS: ts, agent: a.agent, group: a.group})
		p = &s.pairs[len(s.pairs)-1]
		e.agentCell(s, p.group, p.agent, ts)[agentPairsWindow] += sign
	}
	wasOK := p.ok()
	p.inWindow++
	e.pairChanged(s, p, wasOK, sign)
}

// pairReplied counts an in-window message of agent's pair replied within.
func (e *Engine) pairReplied(s *session, agent uint32, sign int64) {
	p := s.pair(agent)
	wasOK := p.ok()
	p.within++
	e.pairChanged(s, p, wasOK, sign)
}

// pairChanged keeps session_pairs_3min_ok equal to "every in-window message
// so far was replied within": a pending message makes the pair not OK until
// its reply, so open sessions show what is known now and closed ones the
// final figure.
func (e *Engine) pairChanged(s *session, p *pair, wasOK bool, sign int64) {
	if isOK := p.ok(); isOK != wasOK {
		delta := sign
		if wasOK {
			delta = -sign
		}
		e.agentCell(s, p.group, p.agent, p.firstTS)[agentPairsOK] += delta
	}
}

func (s *session) pair(agent uint32) *pair {
	for i := range s.pairs {
		if s.pairs[i].agent == agent {
			return &s.pairs[i]
		}
	}
	return nil
}
