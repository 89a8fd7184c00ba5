package metrics

import (
	"math"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
)

// exclusive is SPEC §3.7, exclusive customers and proactive follow-up
// (专属客服): relationships per (shop, buyer) from cs.outreach, and per
// (shop, agent, local day) the figures of cs_exclusive_daily. How it works
// is here; what it decides where the SPEC is silent is in doc.go
// ("Exclusive customers").
//
// State comes in two tiers. A relationship whose every event is in a final
// day is folded into rels: owner agent and accepted-at, 24 bytes a map
// slot (an ended relationship is simply deleted: nothing after a final
// day can depend on it). Everything that can still change a row — the
// relationship events, proactive sessions, reads, visits and payments of
// non-final days — is kept per buyer (xbuyer) as facts, and a buyer's
// figures are a pure function of its facts up to the watermark (compute):
// when a fact comes or becomes due, the buyer's contribution is taken back
// and made again, so the rows do not depend on arrival order or on where
// the watermark steps. Facts ahead of the watermark are held, like the
// engine's own events, and stepped in event time (wake).
//
// Buyers are keyed by a 64-bit FNV-1a hash of (shop, buyer id), never by
// the id: two buyers of one task colliding is a 2⁻⁶⁴-per-pair event.
type exclusive struct {
	sh   *shared
	logs sessionLogs

	rels     map[uint64]relation // folded relationships, active ones only
	buyers   map[uint64]*xbuyer  // buyers with facts of non-final days
	cells    map[xkey]*xcell
	stocks   map[stockKey]*stock
	deposits map[uint64]deposit // presale deposits of final days, by (shop, order)
	wake     xwakeHeap
	dirty    []*xcell

	due       []*xbuyer // buyers to recompute in this Advance
	refreshes []pendingRefresh
	scratch   []xcontrib
	keyBuf    []byte

	// seen is the largest ts of the facts given to the operator: days
	// start (rows of the customer stock) no later than its day, so that
	// the end of input (a watermark of +∞) does not start every day to
	// come.
	seen        int64
	finalBucket int64 // the guard of foldFinal (advance)
	ck          xCheckpoints
}

// relation is a folded relationship: the owner agent (interned) and when
// the buyer accepted it. Kept while it is active.
type relation struct {
	accepted int64
	agent    uint32
}

// xkind is the kind of a fact.
type xkind uint8

const (
	xAccepted xkind = iota + 1
	xUnsubscribed
	xInvited
	xRejected
	xRead
	xVisited
	xPaid    // an ordinary payment
	xDeposit // the first part of a presale payment
	xFinal   // the second part: counts the order's whole amount
)

// relEvent is an accepted or unsubscribed of a non-final day.
type relEvent struct {
	ts    int64
	hash  uint64 // event id
	agent uint32
	kind  xkind
}

// mark is any other fact: an invitation or rejection (agent), a read (ref:
// the session id's hash), a visit, a payment (ref: the order id's hash).
type mark struct {
	ts     int64
	hash   uint64 // event id
	ref    uint64
	amount int64
	agent  uint32
	kind   xkind
}

// xsession is a closed proactive session of the buyer as the engine
// showed it: its agent messages (agent ≠ 0) and buyer messages (agent 0)
// in log order, after the filters of §3.6.
type xsession struct {
	id   uint64 // session id hash
	msgs []xmsg
}

type xmsg struct {
	ts    int64
	agent uint32
}

// xbuyer is a buyer with facts of non-final days, and what those facts
// last contributed to the cells and stocks.
type xbuyer struct {
	key      uint64
	shop     uint32
	rels     []relEvent // sorted by (ts, hash)
	marks    []mark
	sessions []xsession
	contrib  []xcontrib
	queued   bool // on exclusive.due
	deleted  bool
	entryState
}

func (b *xbuyer) gone() bool { return b.deleted }

// xcontrib is a buyer's contribution to one (agent, day): figures, and
// the change of the agent's customer stock from that day on.
type xcontrib struct {
	agent uint32
	day   eventtime.Date
	stock int64
	v     xvalues
}

// Columns of cs_exclusive_daily after the key, in table order.
const (
	xCustomers = iota
	xEnded
	xInvitedN
	xAcceptedN
	xRejectedN
	xSent
	xReadC
	xReplied
	xVisitedC
	xBought
	xGuidedOrders
	xGuidedAmount
	xCols
)

type xvalues [xCols]int64

func newExclusive(sh *shared, logs sessionLogs) *exclusive {
	return &exclusive{
		sh: sh, logs: logs, rels: make(map[uint64]relation), buyers: make(map[uint64]*xbuyer),
		cells: make(map[xkey]*xcell), stocks: make(map[stockKey]*stock), deposits: make(map[uint64]deposit),
		seen: math.MinInt64, finalBucket: math.MinInt64,
	}
}

// buyerHash keys a (shop, buyer) or a (shop, order).
func buyerHash[B ~string | ~[]byte](shop, id B) uint64 {
	h := fnv64(shop)
	h ^= 0xff // a separator no id byte sequence can fake: ids are hashed after it
	h *= 1099511628211
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return h
}

// apply takes a cs.outreach event. ok=false: its day is final (late).
func (x *exclusive) apply(ev *schemas.Event) (schemas.Reason, bool) {
	sh := x.sh
	if ev.TS < sh.finalBefore {
		return sh.late()
	}
	shop, _ := sh.shop(ev.ShopID)
	b := x.buyerAt(buyerHash(ev.ShopID, ev.BuyerID), shop)
	x.saw(ev.TS)
	h := fnv64(ev.EventID)
	switch ev.Type {
	case schemas.TypeAccepted, schemas.TypeUnsubscribed:
		kind := xAccepted
		if ev.Type == schemas.TypeUnsubscribed {
			kind = xUnsubscribed
		}
		if !b.addRel(relEvent{ts: ev.TS, hash: h, agent: sh.names.id(ev.AgentID), kind: kind}) {
			sh.stats.Duplicates++
			return "", true
		}
	default:
		m := mark{ts: ev.TS, hash: h, kind: outreachKind(ev.Type)}
		switch ev.Type {
		case schemas.TypeInvited, schemas.TypeRejected:
			m.agent = sh.names.id(ev.AgentID)
		case schemas.TypeRead:
			m.ref = fnv64(ev.SessionID)
		}
		if !b.addMark(m) {
			sh.stats.Duplicates++
			return "", true
		}
	}
	x.changedAt(b, ev.TS)
	return "", true
}

func outreachKind(t schemas.EventType) xkind {
	switch t {
	case schemas.TypeInvited:
		return xInvited
	case schemas.TypeRejected:
		return xRejected
	case schemas.TypeRead:
		return xRead
	}
	return xVisited
}

// order takes a cs.orders event the attribution operator accepted:
// payments only. A payment of a final hour changes nothing here.
func (x *exclusive) order(ev *schemas.Event) {
	if ev.Type != schemas.TypePaid || ev.TS < x.sh.finalBefore {
		return
	}
	kind := xPaid
	switch ev.Stage {
	case schemas.StageDeposit:
		kind = xDeposit
	case schemas.StageFinal:
		kind = xFinal
	}
	shop, _ := x.sh.shop(ev.ShopID)
	b := x.buyerAt(buyerHash(ev.ShopID, ev.BuyerID), shop)
	m := mark{ts: ev.TS, hash: fnv64(ev.EventID), ref: buyerHash(ev.ShopID, ev.OrderID), amount: ev.Amount, kind: kind}
	if b.addMark(m) {
		x.saw(ev.TS)
		x.changedAt(b, ev.TS)
	}
}

// SessionClosed hears proactive sessions' closes (+1) and their
// retractions (−1): a session's messages are facts of its buyer.
func (x *exclusive) SessionClosed(v *SessionView, sign int) {
	if v.Origin != schemas.OriginProactive || v.BuyerID == "" {
		return
	}
	shop, _ := x.sh.shopByName(v.ShopID)
	b := x.buyerAt(buyerHash(v.ShopID, v.BuyerID), shop)
	id := fnv64(v.SessionID)
	b.removeSession(id)
	if sign > 0 {
		x.keyBuf = appendSessionKey(x.keyBuf[:0], []byte(v.ShopID), []byte(v.SessionID))
		msgs := x.logs.closedMessages(string(x.keyBuf))
		for _, m := range msgs {
			x.saw(m.ts)
		}
		if len(msgs) > 0 { // a session without messages shows nothing
			b.sessions = append(b.sessions, xsession{id: id, msgs: msgs})
		}
	}
	x.changedAt(b, math.MinInt64)
}

// sessionLogs is what exclusive customers ask of the session core: the
// messages of a closed session, in order, the filters applied.
type sessionLogs interface {
	closedMessages(sessionKey string) []xmsg
}

// saw raises seen.
func (x *exclusive) saw(ts int64) {
	if ts > x.seen {
		x.seen = ts
	}
}

// buyerAt returns the buyer's fact holder, creating it.
func (x *exclusive) buyerAt(key uint64, shop uint32) *xbuyer {
	b := x.buyers[key]
	if b == nil {
		b = &xbuyer{key: key, shop: shop}
		x.buyers[key] = b
	}
	return b
}
