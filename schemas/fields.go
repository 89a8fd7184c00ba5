package schemas

// fieldID numbers every JSON field that some topic defines. The numbers index
// the decoder's per-record value table and a uint32 presence mask, so there
// must be at most 32 of them.
type fieldID uint8

const (
	fEventID fieldID = iota
	fShopID
	fTS
	fType
	fSessionID
	fBuyerID
	fOrigin
	fChannel
	fTaskID
	fRobotID
	fIntent
	fGroupID
	fAgentID
	fFromAgentID
	fSender
	fContentType
	fText
	fIsAd
	fScore
	fOrderID
	fAmount
	fVia
	fStage
	numFields
)

var fieldNames = [numFields]string{
	fEventID:     "event_id",
	fShopID:      "shop_id",
	fTS:          "ts",
	fType:        "type",
	fSessionID:   "session_id",
	fBuyerID:     "buyer_id",
	fOrigin:      "origin",
	fChannel:     "channel",
	fTaskID:      "task_id",
	fRobotID:     "robot_id",
	fIntent:      "intent",
	fGroupID:     "group_id",
	fAgentID:     "agent_id",
	fFromAgentID: "from_agent_id",
	fSender:      "sender",
	fContentType: "content_type",
	fText:        "text",
	fIsAd:        "is_ad",
	fScore:       "score",
	fOrderID:     "order_id",
	fAmount:      "amount",
	fVia:         "via",
	fStage:       "stage",
}

func (f fieldID) String() string { return fieldNames[f] }

// lookupField maps a key to its field. A string switch compiles to a
// length-then-content binary search without allocating, which measured
// faster than a map for these 23 short keys.
func lookupField(key []byte) (fieldID, bool) {
	switch string(key) {
	case "event_id":
		return fEventID, true
	case "shop_id":
		return fShopID, true
	case "ts":
		return fTS, true
	case "type":
		return fType, true
	case "session_id":
		return fSessionID, true
	case "buyer_id":
		return fBuyerID, true
	case "origin":
		return fOrigin, true
	case "channel":
		return fChannel, true
	case "task_id":
		return fTaskID, true
	case "robot_id":
		return fRobotID, true
	case "intent":
		return fIntent, true
	case "group_id":
		return fGroupID, true
	case "agent_id":
		return fAgentID, true
	case "from_agent_id":
		return fFromAgentID, true
	case "sender":
		return fSender, true
	case "content_type":
		return fContentType, true
	case "text":
		return fText, true
	case "is_ad":
		return fIsAd, true
	case "score":
		return fScore, true
	case "order_id":
		return fOrderID, true
	case "amount":
		return fAmount, true
	case "via":
		return fVia, true
	case "stage":
		return fStage, true
	}
	return 0, false
}

// ruleKind is the JSON type a field must have and what the decoder does with
// it.
type ruleKind uint8

const (
	kindNone   ruleKind = iota // not a field of the topic: the zero value, so a gap in a table is inert
	kindString                 // string, stored as a view
	kindEnum                   // string from a fixed set, stored as a code
	kindInt                    // JSON integer within [min, max]
	kindBool                   // true or false
	kindSkip                   // string, type-checked but not stored (text)
)

// enumValue pairs an enum's wire name with the code stored in Event.
type enumValue struct {
	name string
	code uint8
}

// condition makes a field required only when another (enum) field of the
// same record has a given value, e.g. buyer_id when type is "started". A
// rule's conditions are alternatives: agent_id on cs.outreach is required
// for four of its types.
type condition struct {
	field fieldID
	value string
}

// when lists the alternatives "field is one of values".
func when(field fieldID, values ...string) []condition {
	c := make([]condition, len(values))
	for i, v := range values {
		c[i] = condition{field, v}
	}
	return c
}

// fieldRule is one row of a topic's contract. The tables below are the
// single source of truth for the decoder, for AppendJSON's field order and
// for the consistency test against the JSON Schema files.
type fieldRule struct {
	id       fieldID
	kind     ruleKind
	required bool
	when     []condition // required only when one of these holds; nil: see required
	enum     []enumValue // kindEnum
	min, max int64       // kindInt, inclusive; ts uses the decoder's range
}

const maxInt64 = 1<<63 - 1

var (
	sessionTypes  = []enumValue{{"started", uint8(TypeStarted)}, {"ended", uint8(TypeEnded)}}
	transferTypes = []enumValue{
		{"queued", uint8(TypeQueued)}, {"assigned", uint8(TypeAssigned)}, {"abandoned", uint8(TypeAbandoned)},
	}
	orderTypes    = []enumValue{{"created", uint8(TypeCreated)}, {"paid", uint8(TypePaid)}}
	outreachTypes = []enumValue{
		{"invited", uint8(TypeInvited)}, {"accepted", uint8(TypeAccepted)}, {"rejected", uint8(TypeRejected)},
		{"unsubscribed", uint8(TypeUnsubscribed)}, {"read", uint8(TypeRead)}, {"visited", uint8(TypeVisited)},
	}
	vias    = []enumValue{{"manual", uint8(ViaManual)}, {"auto", uint8(ViaAuto)}}
	stages  = []enumValue{{"deposit", uint8(StageDeposit)}, {"final", uint8(StageFinal)}}
	origins = []enumValue{
		{"buyer", uint8(OriginBuyer)}, {"proactive", uint8(OriginProactive)},
		{"robot_outbound", uint8(OriginRobotOutbound)},
	}
	senders = []enumValue{
		{"buyer", uint8(SenderBuyer)}, {"agent", uint8(SenderAgent)},
		{"robot", uint8(SenderRobot)}, {"system", uint8(SenderSystem)},
	}
)

// commonRules come first in every topic so that an event without identity
// is reported as such before anything topic-specific.
var commonRules = []fieldRule{
	{id: fEventID, kind: kindString, required: true},
	{id: fShopID, kind: kindString, required: true},
	{id: fTS, kind: kindInt, required: true},
}

// topicRules holds each topic's rules in validation and encoding order. A
// condition's field must come before the fields that depend on it.
var topicRules = [...][]fieldRule{
	TopicSessions: withCommon(
		fieldRule{id: fType, kind: kindEnum, required: true, enum: sessionTypes},
		fieldRule{id: fSessionID, kind: kindString, required: true},
		fieldRule{id: fBuyerID, kind: kindString, when: when(fType, "started")},
		fieldRule{id: fOrigin, kind: kindEnum, when: when(fType, "started"), enum: origins},
		fieldRule{id: fChannel, kind: kindString},
		fieldRule{id: fTaskID, kind: kindString},
		fieldRule{id: fRobotID, kind: kindString},
		fieldRule{id: fIntent, kind: kindString},
	),
	TopicTransfers: withCommon(
		fieldRule{id: fType, kind: kindEnum, required: true, enum: transferTypes},
		fieldRule{id: fSessionID, kind: kindString, required: true},
		fieldRule{id: fGroupID, kind: kindString},
		fieldRule{id: fAgentID, kind: kindString, when: when(fType, "assigned")},
		fieldRule{id: fFromAgentID, kind: kindString},
	),
	TopicMessages: withCommon(
		fieldRule{id: fSessionID, kind: kindString, required: true},
		fieldRule{id: fSender, kind: kindEnum, required: true, enum: senders},
		fieldRule{id: fAgentID, kind: kindString, when: when(fSender, "agent")},
		fieldRule{id: fContentType, kind: kindString},
		fieldRule{id: fText, kind: kindSkip},
		fieldRule{id: fIsAd, kind: kindBool},
	),
	TopicEvaluations: withCommon(
		fieldRule{id: fSessionID, kind: kindString, required: true},
		fieldRule{id: fAgentID, kind: kindString},
		fieldRule{id: fScore, kind: kindInt, required: true, min: 1, max: 5},
	),
	TopicOrders: withCommon(
		fieldRule{id: fType, kind: kindEnum, required: true, enum: orderTypes},
		fieldRule{id: fOrderID, kind: kindString, required: true},
		fieldRule{id: fBuyerID, kind: kindString, required: true},
		fieldRule{id: fAmount, kind: kindInt, when: when(fType, "paid"), min: 0, max: maxInt64},
		fieldRule{id: fStage, kind: kindEnum, enum: stages},
	),
	TopicOutreach: withCommon(
		fieldRule{id: fType, kind: kindEnum, required: true, enum: outreachTypes},
		fieldRule{id: fBuyerID, kind: kindString, required: true},
		fieldRule{id: fAgentID, kind: kindString, when: when(fType, "invited", "accepted", "rejected", "unsubscribed")},
		fieldRule{id: fVia, kind: kindEnum, enum: vias},
		fieldRule{id: fSessionID, kind: kindString, when: when(fType, "read")},
	),
}

func withCommon(rules ...fieldRule) []fieldRule {
	return append(append([]fieldRule(nil), commonRules...), rules...)
}

// topicMask has bit f set when the topic defines field f; keys outside the
// mask are skipped as unknown without looking at their value's type.
var topicMask = func() (m [len(topicRules)]uint32) {
	for t, rules := range topicRules {
		for _, r := range rules {
			m[t] |= 1 << r.id
		}
	}
	return m
}()

func validTopic(t Topic) bool { return t >= TopicSessions && t <= TopicOutreach }
