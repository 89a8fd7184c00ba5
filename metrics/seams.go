package metrics

import (
	"math"

	"github.com/cspulse/cspulse/schemas"
)

// Seams for the operators on top of the sessions: sales attribution (SPEC
// §3.4, attribution.go) and robot outbound sessions (§3.5, robot.go). Both
// need closed sessions as this engine sees them; attribution also writes
// paid_* columns of the rows this engine owns. A row is written whole by
// one owner, so those columns are added through AddSale (addSale) rather
// than by a second writer of the same key.

// SessionView describes one closed session to a SessionListener. The
// pointer is valid during the call only; its strings may be kept.
type SessionView struct {
	ShopID, SessionID, BuyerID string
	Origin                     schemas.Origin
	Channel, TaskID, RobotID   string
	Intent                     string // of the closing `ended`, robot sessions
	StartedAt, EndedAt         int64
	ClosedByEnded              bool
	BuyerMsgs, AgentMsgs       uint32 // every message of the session
	RobotMsgs                  uint32
	HumanBuyerMsgs             uint32 // in the human phase
	HumanAgentMsgs             uint32
	Picked, Received           bool
	// Inquiry is SPEC §3.4's 询单: origin buyer, the buyer's first
	// human-phase message was replied, and the assignment holding that
	// reply is a reception (a filtered one makes no inquiry, whatever the
	// session's other assignments). InquiryAt is that message's ts;
	// the inquiry agent is the sender of its reply, in the group of that
	// agent's last assignment in the session.
	Inquiry                        bool
	InquiryAt                      int64
	InquiryAgentID, InquiryGroupID string
}

// SessionListener hears every session close as a signed event: +1 when a
// session closes, −1 when a late event takes that close back (it is
// followed by +1 with the rewritten session when it closes again).
// Summing views by sign gives the current set of closed sessions, the same
// whatever the arrival order. A session is shown once its `started` has
// arrived (or, without one, when it is compacted, at close + lateness), so
// sessions of listed buyers are never shown.
type SessionListener interface {
	SessionClosed(v *SessionView, sign int)
}

// listeners tells each of its listeners, in order.
type listeners []SessionListener

func (ls listeners) SessionClosed(v *SessionView, sign int) {
	for _, l := range ls {
		l.SessionClosed(v, sign)
	}
}

// sessionListeners combines the engine's own operators with the
// listener of Settings.Sessions, when set.
func sessionListeners(own ...SessionListener) SessionListener {
	var ls listeners
	for _, l := range own {
		if l != nil {
			ls = append(ls, l)
		}
	}
	return ls
}

// closedMessages lists the messages of the applied part of a session's log
// (what its close counted; events after the close are not part of it);
// none when the session is not held.
func (e *Engine) closedMessages(sessionKey string) []xmsg {
	s := e.sessions[sessionKey]
	if s == nil {
		return nil
	}
	var out []xmsg
	for i := range int(s.d.applied) {
		en := &s.log[i]
		switch en.kind() {
		case kindAgent:
			out = append(out, xmsg{ts: en.ts, agent: en.ref})
		case kindBuyer:
			out = append(out, xmsg{ts: en.ts})
		}
	}
	return out
}

func (e *Engine) view(s *session) SessionView {
	d := &s.d
	_, received := e.firstReception(s)
	v := SessionView{
		ShopID: e.shopIDs.name(s.shop), SessionID: s.sessionID(), BuyerID: s.hdr.buyer,
		Origin: s.hdr.origin, Channel: e.names.name(s.hdr.channel),
		TaskID: e.names.name(s.hdr.task), RobotID: e.names.name(s.hdr.robot), Intent: e.names.name(d.intent),
		StartedAt: d.startTS, EndedAt: d.closeTS, ClosedByEnded: d.closedByEnded,
		BuyerMsgs: d.buyerMsgs, AgentMsgs: d.agentMsgs, RobotMsgs: d.robotMsgs,
		HumanBuyerMsgs: d.humanBuyer, HumanAgentMsgs: d.humanAgent,
		Picked: d.pickedAny, Received: received,
	}
	if e.inquiry(s) {
		v.Inquiry, v.InquiryAt = true, d.inquiryTS
		v.InquiryAgentID = e.names.name(d.inquiryAgent)
		v.InquiryGroupID = e.names.name(s.groupOf(d.inquiryAgent, int(d.cur)))
	}
	return v
}

// AddSale adds paid sales to the rows of the local hour of paidTS (SPEC
// §3.4: credited when paid, to the hour of payment): amount (fen) and
// orders to the agent's row in groupID and to the shop's agent total, or,
// with an empty agentID, to the shop's silent sales. Negative amount and
// orders take a sale back. It returns false, changing nothing, when that
// hour is already final: the caller treats the sale as late. To be able to
// take back a sale later, hold its hour with HoldHour.
func (e *Engine) AddSale(shopID, groupID, agentID []byte, paidTS, amount, orders int64) bool {
	shop, _ := e.shop(shopID)
	return e.addSale(shop, e.names.id(groupID), e.names.id(agentID), paidTS, amount, orders)
}

// addSale is AddSale with interned ids; agent 0 is a silent sale.
func (e *Engine) addSale(shop, group, agent uint32, paidTS, amount, orders int64) bool {
	zone := e.shopZones[shop]
	if e.isFinal(zone.HourStart(paidTS)) {
		return false
	}
	c := e.shopCellAt(shop, zone, paidTS)
	c[shopPaidTotal] += amount
	c[shopPaidOrders] += orders
	if agent == 0 {
		c[shopPaidSilent] += amount
		return true
	}
	c[shopPaidAgents] += amount
	a := e.agentCellAt(shop, zone, group, agent, paidTS)
	a[agentPaidAmount] += amount
	a[agentPaidOrders] += orders
	return true
}

// HoldHour keeps the hour of ts, and every later one, from becoming final
// until the matching ReleaseHour: for state outside this engine that may
// still change rows of that hour. It returns false when the hour is already
// final.
func (e *Engine) HoldHour(ts int64) bool {
	if ts < e.finalBefore {
		return false
	}
	e.pins[pinHour(ts)]++
	return true
}

// ReleaseHour undoes one HoldHour(ts).
func (e *Engine) ReleaseHour(ts int64) { e.unpin(pinHour(ts)) }

// heldLogsFrom is the start of the earliest hour pinned by a held session
// log (math.MaxInt64 when none): every inquiry that can still appear or be
// taken back is at or after it (see attribution). The log pins are counted
// by hour, so this walks the few pinned hours, not the sessions.
func (e *Engine) heldLogsFrom() int64 {
	from := int64(math.MaxInt64)
	for hour := range e.logPins {
		from = min(from, int64(hour)*hourMs)
	}
	return from
}
