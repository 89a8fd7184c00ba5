package generator

import "github.com/cspulse/cspulse/schemas"

// kind is an event's topic and type in one byte.
type kind uint8

const (
	kindStarted kind = iota
	kindEnded
	kindQueued
	kindAssigned
	kindAbandoned
	kindMessage
	kindEvaluation
	kindOrderCreated
	kindOrderPaid
	kindInvited // cs.outreach
	kindAccepted
	kindRejected
	kindUnsubscribed
	kindRead
	kindVisited
)

func (k kind) topic() schemas.Topic {
	switch k {
	case kindStarted, kindEnded:
		return schemas.TopicSessions
	case kindQueued, kindAssigned, kindAbandoned:
		return schemas.TopicTransfers
	case kindMessage:
		return schemas.TopicMessages
	case kindEvaluation:
		return schemas.TopicEvaluations
	case kindOrderCreated, kindOrderPaid:
		return schemas.TopicOrders
	default:
		return schemas.TopicOutreach
	}
}

// isActivity says whether the event keeps its session open (SPEC §1:
// session, transfer and message events; evaluations are not activity).
func (k kind) isActivity() bool { return k <= kindMessage }

// Enumerations of the compact event. Zero means "absent" so that the encoder
// can leave optional fields out.
const (
	noAgent = 0xff // agent index 0 is the supervisor a00

	groupNone   = 0
	groupPre    = 1
	groupAfter  = 2
	originBuyer = 1
	originProac = 2
	originRobot = 3

	senderBuyer  = 1
	senderAgent  = 2
	senderRobot  = 3
	senderSystem = 4
)

// event.flags: how the delivery layer treats the event.
const (
	flagDuplicate = 1 << iota // the second delivery of a re-delivered event
	flagLate                  // delivered LateBy after its ts
	flagPoisonID              // rendered with a poison id ("shop-0001-x…")
)

// event is the compact form of one record while it waits in the pending
// queue: ids are numbers and texts are table indexes, so that a pending
// event costs 56 bytes and no pointers; encode renders the JSON when it is
// emitted.
type event struct {
	ts      int64
	amount  int64  // orders, fen
	id      uint64 // per-shop sequence → event_id
	shop    uint32 // index into generator.shops
	session uint32
	buyer   uint32
	order   uint32
	text    uint16 // index into texts; 0 = no text
	kind    kind
	origin  uint8
	channel uint8
	group   uint8
	agent   uint8 // noAgent when absent
	from    uint8 // from_agent_id, noAgent when absent
	sender  uint8
	content uint8
	score   uint8
	intent  uint8 // 1..6 = A..F
	task    uint8
	robot   uint8
	isAd    bool
	flags   uint8
	extra   uint8 // accepted: via (viaManual, viaAuto); paid: presale stage (stageDeposit, stageFinal)
}
