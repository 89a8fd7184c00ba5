package schemas

// Topic identifies one of the six input streams (cs.outreach is optional). The zero value is invalid
// so that a forgotten assignment never passes for a real topic.
type Topic uint8

const (
	TopicInvalid Topic = iota
	TopicSessions
	TopicTransfers
	TopicMessages
	TopicEvaluations
	TopicOrders
	TopicOutreach // optional (SPEC §1): exclusive customers, §3.7
)

// Topics lists the valid topics in a fixed order.
// TopicOutreach is last, so that the inputs of a run without it are a
// prefix of this list.
var Topics = [...]Topic{TopicSessions, TopicTransfers, TopicMessages, TopicEvaluations, TopicOrders, TopicOutreach}

// DefaultTopicNames are the Kafka topic names of SPEC §1; config may rename them.
var DefaultTopicNames = map[Topic]string{
	TopicSessions:    "cs.sessions",
	TopicTransfers:   "cs.transfers",
	TopicMessages:    "cs.messages",
	TopicEvaluations: "cs.evaluations",
	TopicOrders:      "cs.orders",
	TopicOutreach:    "cs.outreach",
}

func (t Topic) String() string {
	switch t {
	case TopicSessions:
		return "sessions"
	case TopicTransfers:
		return "transfers"
	case TopicMessages:
		return "messages"
	case TopicEvaluations:
		return "evaluations"
	case TopicOrders:
		return "orders"
	case TopicOutreach:
		return "outreach"
	}
	return "invalid"
}

// EventType is the `type` field. Its valid values depend on the topic:
// sessions: Started, Ended; transfers: Queued, Assigned, Abandoned;
// orders: Created, Paid; outreach: Invited … Visited. Messages and
// evaluations have no type (TypeNone).
type EventType uint8

const (
	TypeNone EventType = iota
	TypeStarted
	TypeEnded
	TypeQueued
	TypeAssigned
	TypeAbandoned
	TypeCreated
	TypePaid
	TypeInvited
	TypeAccepted
	TypeRejected
	TypeUnsubscribed
	TypeRead
	TypeVisited
)

func (t EventType) String() string {
	return [...]string{"", "started", "ended", "queued", "assigned", "abandoned", "created", "paid",
		"invited", "accepted", "rejected", "unsubscribed", "read", "visited"}[t]
}

// Via says how a buyer accepted a relationship (cs.outreach `accepted`);
// ViaNone reads as manual (SPEC §1: default manual).
type Via uint8

const (
	ViaNone Via = iota
	ViaManual
	ViaAuto
)

func (v Via) String() string { return [...]string{"", "manual", "auto"}[v] }

// Stage is the presale part of a `paid` order event; StageNone is an
// ordinary payment.
type Stage uint8

const (
	StageNone Stage = iota
	StageDeposit
	StageFinal
)

func (s Stage) String() string { return [...]string{"", "deposit", "final"}[s] }

// Origin says who opened a session.
type Origin uint8

const (
	OriginNone Origin = iota
	OriginBuyer
	OriginProactive
	OriginRobotOutbound
)

func (o Origin) String() string {
	return [...]string{"", "buyer", "proactive", "robot_outbound"}[o]
}

// Sender is the author of a message.
type Sender uint8

const (
	SenderNone Sender = iota
	SenderBuyer
	SenderAgent
	SenderRobot
	SenderSystem
)

func (s Sender) String() string {
	return [...]string{"", "buyer", "agent", "robot", "system"}[s]
}

// Event is one decoded input record of any topic. Only the fields that the
// topic defines are set; the rest keep their zero value.
//
// The []byte fields are views into the decoder's buffers (or the record
// value itself): they are valid until the next call to Decode on the same
// Decoder. Keeping the hot path free of allocations is the reason; a caller
// that needs a field longer interns or copies it.
type Event struct {
	Topic   Topic
	EventID []byte
	ShopID  []byte
	TS      int64 // Unix epoch milliseconds

	Type      EventType
	SessionID []byte

	// sessions
	BuyerID []byte // also orders
	Origin  Origin
	Channel []byte
	TaskID  []byte
	RobotID []byte
	Intent  []byte

	// transfers
	GroupID     []byte
	AgentID     []byte // also messages (sender agent) and evaluations
	FromAgentID []byte

	// messages
	Sender      Sender
	ContentType []byte
	IsAd        bool

	// evaluations
	Score int8 // 1..5

	// orders
	OrderID []byte
	Amount  int64 // minor units (fen)
	Stage   Stage // on paid: presale part

	// outreach (also BuyerID, AgentID, SessionID)
	Via Via // on accepted
}

// Reset clears e for reuse without releasing anything it points to.
func (e *Event) Reset() { *e = Event{} }
