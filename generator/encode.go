package generator

import (
	"strconv"

	"github.com/cspulse/cspulse/schemas"
)

// Pre-encoded enumerations, each with its field name and leading comma.
var (
	originJSON = [...]string{"", `,"origin":"buyer"`, `,"origin":"proactive"`, `,"origin":"robot_outbound"`}
	senderJSON = [...]string{"", `,"sender":"buyer"`, `,"sender":"agent"`, `,"sender":"robot"`, `,"sender":"system"`}
	groupJSON  = [...]string{"", `,"group_id":"pre-sales"`, `,"group_id":"after-sales"`}
	intentJSON = [...]string{"", `,"intent":"A"`, `,"intent":"B"`, `,"intent":"C"`, `,"intent":"D"`, `,"intent":"E"`, `,"intent":"F"`}
)

// Channels of started sessions.
const (
	channelNone = iota
	channelApp
	channelWeb
	channelMiniProgram
	channelPhone
)

var channelJSON = [...]string{"", `,"channel":"app"`, `,"channel":"web"`, `,"channel":"mini_program"`, `,"channel":"phone"`}

// Robot outbound tasks and robots (话术) are small numbers rendered as
// "task-07" and "robot-2".
const (
	maxTask  = 12
	maxRobot = 4
)

var (
	taskJSON  [maxTask + 1]string
	robotJSON [maxRobot + 1]string
)

func init() {
	for i := 1; i <= maxTask; i++ {
		taskJSON[i] = `,"task_id":"task-` + twoDigits(i) + `"`
	}
	for i := 1; i <= maxRobot; i++ {
		robotJSON[i] = `,"robot_id":"robot-` + strconv.Itoa(i) + `"`
	}
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10%10), byte('0' + n%10)}) }

const hexDigits = "0123456789abcdef"

// appendHex10 writes v as exactly ten hex digits, so that event ids of a
// shop sort the same as strings and as numbers (SPEC §2 breaks ts ties by
// the larger event_id).
func appendHex10(b []byte, v uint64) []byte {
	var tmp [10]byte
	for i := 9; i >= 0; i-- {
		tmp[i] = hexDigits[v&15]
		v >>= 4
	}
	return append(b, tmp[:]...)
}

// appendEvent renders ev as one JSON object with the field names and types
// of SPEC §1. Fields that are absent in ev are left out, never null.
func appendEvent(b []byte, sh *shop, ev *event) []byte {
	b = append(b, sh.eventIDPrefix...)
	if ev.flags&flagPoisonID != 0 {
		b = append(b, 'x') // poison gets ids of its own: a valid event is never shadowed
	}
	b = appendHex10(b, ev.id)
	b = append(b, sh.shopAndTS...)
	b = strconv.AppendInt(b, ev.ts, 10)
	switch ev.kind.topic() {
	case schemas.TopicSessions:
		b = appendSessionEvent(b, sh, ev)
	case schemas.TopicTransfers:
		b = appendTransfer(b, sh, ev)
	case schemas.TopicMessages:
		b = appendMessage(b, sh, ev)
	case schemas.TopicEvaluations:
		b = appendSessionID(b, sh, ev.session)
		b = appendAgentField(b, sh, `,"agent_id":`, ev.agent)
		b = append(b, `,"score":`...)
		b = append(b, '0'+ev.score)
	case schemas.TopicOrders:
		b = appendOrder(b, sh, ev)
	case schemas.TopicOutreach:
		b = appendOutreach(b, sh, ev)
	}
	return append(b, '}')
}

func appendSessionEvent(b []byte, sh *shop, ev *event) []byte {
	if ev.kind == kindEnded {
		b = append(b, `,"type":"ended"`...)
		b = appendSessionID(b, sh, ev.session)
		return append(b, intentJSON[ev.intent]...)
	}
	b = append(b, `,"type":"started"`...)
	b = appendSessionID(b, sh, ev.session)
	b = appendBuyerID(b, sh, ev.buyer)
	b = append(b, originJSON[ev.origin]...)
	b = append(b, channelJSON[ev.channel]...)
	if ev.task != 0 {
		b = append(b, taskJSON[ev.task]...)
		b = append(b, robotJSON[ev.robot]...)
	}
	return b
}

func appendTransfer(b []byte, sh *shop, ev *event) []byte {
	switch ev.kind {
	case kindQueued:
		b = append(b, `,"type":"queued"`...)
	case kindAssigned:
		b = append(b, `,"type":"assigned"`...)
	default:
		b = append(b, `,"type":"abandoned"`...)
	}
	b = appendSessionID(b, sh, ev.session)
	b = append(b, groupJSON[ev.group]...)
	b = appendAgentField(b, sh, `,"agent_id":`, ev.agent)
	return appendAgentField(b, sh, `,"from_agent_id":`, ev.from)
}

func appendOrder(b []byte, sh *shop, ev *event) []byte {
	if ev.kind == kindOrderCreated {
		b = append(b, `,"type":"created"`...)
	} else {
		b = append(b, `,"type":"paid"`...)
	}
	b = append(b, sh.orderIDPrefix...)
	b = strconv.AppendUint(b, uint64(ev.order), 10)
	b = append(b, '"')
	b = appendBuyerID(b, sh, ev.buyer)
	b = append(b, `,"amount":`...)
	b = strconv.AppendInt(b, ev.amount, 10)
	return append(b, stageJSON[ev.extra]...)
}

var (
	stageJSON    = [...]string{"", `,"stage":"deposit"`, `,"stage":"final"`}
	viaJSON      = [...]string{"", `,"via":"manual"`, `,"via":"auto"`}
	outreachJSON = [...]string{
		kindInvited: `,"type":"invited"`, kindAccepted: `,"type":"accepted"`, kindRejected: `,"type":"rejected"`,
		kindUnsubscribed: `,"type":"unsubscribed"`, kindRead: `,"type":"read"`, kindVisited: `,"type":"visited"`,
	}
)

// appendOutreach renders a cs.outreach event (SPEC §1).
func appendOutreach(b []byte, sh *shop, ev *event) []byte {
	b = append(b, outreachJSON[ev.kind]...)
	b = appendBuyerID(b, sh, ev.buyer)
	b = appendAgentField(b, sh, `,"agent_id":`, ev.agent)
	if ev.kind == kindAccepted {
		b = append(b, viaJSON[ev.extra]...)
	}
	if ev.kind == kindRead {
		b = appendSessionID(b, sh, ev.session)
	}
	return b
}

func appendMessage(b []byte, sh *shop, ev *event) []byte {
	b = appendSessionID(b, sh, ev.session)
	b = append(b, senderJSON[ev.sender]...)
	b = appendAgentField(b, sh, `,"agent_id":`, ev.agent)
	b = append(b, contentJSON[ev.content]...)
	if ev.text != 0 {
		b = append(b, `,"text":`...)
		b = append(b, texts[ev.text]...)
	}
	if ev.isAd {
		b = append(b, `,"is_ad":true`...)
	}
	return b
}

func appendSessionID(b []byte, sh *shop, session uint32) []byte {
	b = append(b, sh.sessionIDPrefix...)
	b = strconv.AppendUint(b, uint64(session), 10)
	return append(b, '"')
}

func appendBuyerID(b []byte, sh *shop, buyer uint32) []byte {
	b = append(b, sh.buyerIDPrefix...)
	b = strconv.AppendUint(b, uint64(buyer), 10)
	return append(b, '"')
}

func appendAgentField(b []byte, sh *shop, field string, agent uint8) []byte {
	if agent == noAgent {
		return b
	}
	b = append(b, field...)
	return append(b, sh.agentJSON[agent]...)
}
