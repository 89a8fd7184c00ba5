package schemas

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Shorthands for building records: obj joins members into an object, and
// base* are minimal valid records to which a case adds or overrides
// members (a later duplicate key wins, which the decoder guarantees).
const (
	key     = "s1"
	common  = `"event_id":"e1","shop_id":"s1","ts":1767225600000`
	tsValid = int64(1767225600000)
)

func obj(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

var (
	baseSession    = obj(common, `"type":"ended","session_id":"x"`)
	baseStarted    = obj(common, `"type":"started","session_id":"x","buyer_id":"b","origin":"buyer"`)
	baseTransfer   = obj(common, `"type":"queued","session_id":"x"`)
	baseMessage    = obj(common, `"session_id":"x","sender":"buyer"`)
	baseEvaluation = obj(common, `"session_id":"x","score":5`)
	baseOrder      = obj(common, `"type":"created","order_id":"o","buyer_id":"b"`)
)

// with appends members to a base record (before its closing brace).
func with(base string, members ...string) string {
	return base[:len(base)-1] + "," + strings.Join(members, ",") + "}"
}

func b(s string) []byte { return []byte(s) }

// ev returns the common part of the expected event.
func ev(t Topic) Event {
	return Event{Topic: t, EventID: b("e1"), ShopID: b("s1"), TS: tsValid}
}

func decode(t *testing.T, topic Topic, value string) (Event, error) {
	t.Helper()
	var e Event
	err := NewDecoder().Decode(topic, b(key), b(value), &e)
	return e.Clone(), err
}

func TestDecodeValid(t *testing.T) {
	tests := []struct {
		name  string
		topic Topic
		value string
		want  func(e *Event)
	}{
		{"session started, all fields", TopicSessions,
			obj(common, `"type":"started","session_id":"x","buyer_id":"b","origin":"robot_outbound","channel":"app","task_id":"t","robot_id":"r","intent":"A"`),
			func(e *Event) {
				e.Type, e.SessionID, e.BuyerID, e.Origin = TypeStarted, b("x"), b("b"), OriginRobotOutbound
				e.Channel, e.TaskID, e.RobotID, e.Intent = b("app"), b("t"), b("r"), b("A")
			}},
		{"session started proactive", TopicSessions, with(baseStarted, `"origin":"proactive"`),
			func(e *Event) {
				e.Type, e.SessionID, e.BuyerID, e.Origin = TypeStarted, b("x"), b("b"), OriginProactive
			}},
		{"session ended needs no buyer or origin", TopicSessions, with(baseSession, `"intent":"B"`),
			func(e *Event) { e.Type, e.SessionID, e.Intent = TypeEnded, b("x"), b("B") }},
		{"session ended with optional buyer and origin", TopicSessions, with(baseSession, `"buyer_id":"b","origin":"buyer"`),
			func(e *Event) { e.Type, e.SessionID, e.BuyerID, e.Origin = TypeEnded, b("x"), b("b"), OriginBuyer }},
		{"optional nulls are absent", TopicSessions,
			with(baseSession, `"buyer_id":null,"origin":null,"channel":null,"task_id":null,"robot_id":null,"intent":null`),
			func(e *Event) { e.Type, e.SessionID = TypeEnded, b("x") }},
		{"empty optional strings are absent", TopicSessions, with(baseSession, `"channel":"","buyer_id":""`),
			func(e *Event) { e.Type, e.SessionID = TypeEnded, b("x") }},
		{"transfer queued with group", TopicTransfers, with(baseTransfer, `"group_id":"g"`),
			func(e *Event) { e.Type, e.SessionID, e.GroupID = TypeQueued, b("x"), b("g") }},
		{"transfer assigned", TopicTransfers,
			obj(common, `"type":"assigned","session_id":"x","group_id":"g","agent_id":"a2","from_agent_id":"a1"`),
			func(e *Event) {
				e.Type, e.SessionID, e.GroupID, e.AgentID, e.FromAgentID = TypeAssigned, b("x"), b("g"), b("a2"), b("a1")
			}},
		{"transfer abandoned", TopicTransfers, obj(common, `"type":"abandoned","session_id":"x","group_id":null`),
			func(e *Event) { e.Type, e.SessionID = TypeAbandoned, b("x") }},
		{"message buyer with text", TopicMessages, with(baseMessage, `"content_type":"text","text":"在吗","is_ad":false`),
			func(e *Event) { e.SessionID, e.Sender, e.ContentType = b("x"), SenderBuyer, b("text") }},
		{"message agent", TopicMessages, obj(common, `"session_id":"x","sender":"agent","agent_id":"a"`),
			func(e *Event) { e.SessionID, e.Sender, e.AgentID = b("x"), SenderAgent, b("a") }},
		{"message robot advert", TopicMessages, obj(common, `"session_id":"x","sender":"robot","is_ad":true`),
			func(e *Event) { e.SessionID, e.Sender, e.IsAd = b("x"), SenderRobot, true }},
		{"message system, null optionals", TopicMessages,
			obj(common, `"session_id":"x","sender":"system","is_ad":null,"text":null,"content_type":null,"agent_id":null`),
			func(e *Event) { e.SessionID, e.Sender = b("x"), SenderSystem }},
		{"message buyer with agent_id keeps it", TopicMessages, with(baseMessage, `"agent_id":"a"`),
			func(e *Event) { e.SessionID, e.Sender, e.AgentID = b("x"), SenderBuyer, b("a") }},
		{"evaluation with agent", TopicEvaluations, with(baseEvaluation, `"agent_id":"a","score":1`),
			func(e *Event) { e.SessionID, e.AgentID, e.Score = b("x"), b("a"), 1 }},
		{"evaluation score 5", TopicEvaluations, baseEvaluation,
			func(e *Event) { e.SessionID, e.Score = b("x"), 5 }},
		{"order created without amount", TopicOrders, baseOrder,
			func(e *Event) { e.Type, e.OrderID, e.BuyerID = TypeCreated, b("o"), b("b") }},
		{"order created with amount", TopicOrders, with(baseOrder, `"amount":100`),
			func(e *Event) { e.Type, e.OrderID, e.BuyerID, e.Amount = TypeCreated, b("o"), b("b"), 100 }},
		{"order paid zero", TopicOrders, obj(common, `"type":"paid","order_id":"o","buyer_id":"b","amount":-0`),
			func(e *Event) { e.Type, e.OrderID, e.BuyerID = TypePaid, b("o"), b("b") }},
		{"order paid max int64", TopicOrders, obj(common, `"type":"paid","order_id":"o","buyer_id":"b","amount":9223372036854775807`),
			func(e *Event) { e.Type, e.OrderID, e.BuyerID, e.Amount = TypePaid, b("o"), b("b"), 1<<63-1 }},

		// Forward compatibility and JSON corner cases.
		{"unknown fields of every kind", TopicEvaluations,
			with(baseEvaluation, `"x":{"a":[1,2.5e-3,{"b":null}],"c":"\u00e9"},"y":[],"z":true,"w":false,"v":null,"u":-1.5E+10,"t":""`),
			func(e *Event) { e.SessionID, e.Score = b("x"), 5 }},
		{"fields of other topics are unknown here", TopicSessions, with(baseSession, `"agent_id":7,"score":"high","sender":"martian"`),
			func(e *Event) { e.Type, e.SessionID = TypeEnded, b("x") }},
		{"duplicate key: last wins", TopicEvaluations, with(baseEvaluation, `"score":9`, `"score":"x"`, `"score":2`),
			func(e *Event) { e.SessionID, e.Score = b("x"), 2 }},
		{"duplicate escaped string: last wins", TopicEvaluations, with(baseEvaluation, `"agent_id":"\u0061"`, `"agent_id":"\u0062c"`),
			func(e *Event) { e.SessionID, e.AgentID, e.Score = b("x"), b("bc"), 5 }},
		{"whitespace everywhere", TopicEvaluations,
			" \t\r\n{ \"event_id\" : \"e1\" ,\n\"shop_id\":\"s1\",\"ts\"\t:\t1767225600000 , \"session_id\":\"x\",\"score\":5 } \n",
			func(e *Event) { e.SessionID, e.Score = b("x"), 5 }},
		{"escaped key", TopicEvaluations, obj(`"event_\u0069d":"e1","shop_id":"s1","\u0074s":1767225600000,"session_id":"x","sc\u006fre":5`),
			func(e *Event) { e.SessionID, e.Score = b("x"), 5 }},
		{"keys match case-sensitively", TopicEvaluations, with(baseEvaluation, `"Score":"x","SCORE":1`),
			func(e *Event) { e.SessionID, e.Score = b("x"), 5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decode(t, tt.topic, tt.value)
			if err != nil {
				t.Fatalf("Decode(%s) = %v", tt.value, err)
			}
			want := ev(tt.topic)
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Decode(%s)\n got %+v\nwant %+v", tt.value, got, want)
			}
		})
	}
}

func TestDecodeStrings(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"plain", `"abc"`, "abc"},
		{"raw UTF-8", `"店铺_中文_😀"`, "店铺_中文_😀"},
		{"short escapes", `"a\"b\\c\/d\be\ff\ng\rh\ti"`, "a\"b\\c/d\be\ff\ng\rh\ti"},
		{"unicode escapes", `"\u4e2d\u6587 \u00e9\u0041"`, "中文 éA"},
		{"upper-case hex", `"\u4E2D"`, "中"},
		{"surrogate pair", `"\ud83d\ude00!"`, "😀!"},
		{"lone high surrogate", `"\ud83dx"`, "\uFFFDx"},
		{"lone low surrogate", `"\ude00"`, "\uFFFD"},
		{"high surrogate then non-surrogate escape", `"\ud83d\u0041"`, "\uFFFDA"},
		{"NUL escape", `"a\u0000b"`, "a\x00b"},
		{"escape at both ends, long", `"\n` + strings.Repeat("x", 100) + `\t"`, "\n" + strings.Repeat("x", 100) + "\t"},
		{"mixed raw and escaped CJK", `"你\u597d，世界"`, "你好，世界"},
		{"U+FFFD written raw is valid", "\"\xef\xbf\xbd\"", "\uFFFD"},
		{"4-byte raw", "\"\xf0\x9f\x98\x80\"", "😀"},
		{"2-byte raw", `"ñ"`, "ñ"},
		{"U+2028 raw", "\"\u2028\"", "\u2028"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Put the string in several fields at once so that growing the
			// scratch buffer mid-record is exercised.
			value := obj(common, `"type":"ended","session_id":`+tt.raw, `"channel":`+tt.raw, `"intent":`+tt.raw,
				`"task_id":`+tt.raw)
			got, err := decode(t, TopicSessions, value)
			if err != nil {
				t.Fatalf("Decode(%s) = %v", value, err)
			}
			for _, f := range [][]byte{got.SessionID, got.Channel, got.Intent, got.TaskID} {
				if string(f) != tt.want {
					t.Errorf("got %q, want %q", f, tt.want)
				}
			}
		})
	}
}

// TestDecodeEscapedShopIDKey checks that the key is compared with the
// unescaped shop_id.
func TestDecodeEscapedShopIDKey(t *testing.T) {
	value := obj(`"event_id":"e1","shop_id":"\u5e97\"1","ts":1767225600000,"session_id":"x","score":5`)
	var e Event
	if err := NewDecoder().Decode(TopicEvaluations, b("店\"1"), b(value), &e); err != nil {
		t.Fatal(err)
	}
}

type errCase struct {
	name   string
	topic  Topic
	value  string
	reason Reason
	field  string
}

func checkErr(t *testing.T, d *Decoder, key []byte, tt errCase) {
	t.Helper()
	var e Event
	err := d.Decode(tt.topic, key, b(tt.value), &e)
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("Decode(%q) = %v, want *DecodeError %s", tt.value, err, tt.reason)
	}
	if de.Reason != tt.reason || de.Field != tt.field {
		t.Errorf("Decode(%q) = %s/%q (%v), want %s/%q", tt.value, de.Reason, de.Field, de, tt.reason, tt.field)
	}
	if de.Detail == "" {
		t.Errorf("Decode(%q): empty detail", tt.value)
	}
}

func TestDecodeNotJSON(t *testing.T) {
	bad := []string{
		"", "   ", "null", "[]", `"s"`, "123", "true", "{", "}", `{"event_id"`, `{"event_id":`,
		`{"event_id":"e1"`, `{"event_id":"e1",}`, `{"event_id" "e1"}`, `{event_id:"e1"}`, `{'event_id':'e1'}`,
		baseEvaluation + "x", baseEvaluation + "{}", baseEvaluation + ",",
		"\xef\xbb\xbf" + baseEvaluation,                  // BOM
		with(baseEvaluation, `"agent_id":"a`+"\xff"+`"`), // invalid UTF-8 in a known field
		with(baseEvaluation, "\"k\xc3\":1"),              // invalid UTF-8 in a key
		with(baseMessage, "\"text\":\"\xe4\xb8\""),       // truncated rune in the skipped text
		with(baseMessage, "\"text\":\"\xed\xa0\x80\""),   // UTF-8-encoded surrogate
		with(baseMessage, "\"text\":\"\xc0\xaf\""),       // overlong encoding
		with(baseMessage, "\"text\":\"a\nb\""),           // raw control character
		with(baseMessage, `"text":"\x"`), with(baseMessage, `"text":"\u12"`), with(baseMessage, `"text":"\uZZZZ"`),
		with(baseMessage, `"text":"abc\"`), with(baseMessage, `"text":"abc\`),
		with(baseEvaluation, `"x":01`), with(baseEvaluation, `"x":1.`), with(baseEvaluation, `"x":-`),
		with(baseEvaluation, `"x":+1`), with(baseEvaluation, `"x":.5`), with(baseEvaluation, `"x":1e`),
		with(baseEvaluation, `"x":1e+`), with(baseEvaluation, `"x":NaN`), with(baseEvaluation, `"x":tru`),
		with(baseEvaluation, `"x":nul`), with(baseEvaluation, `"x":[1,]`), with(baseEvaluation, `"x":{"a":1,}`),
		with(baseEvaluation, `"x":{"a"}`), with(baseEvaluation, `"x":[1 2]`), with(baseEvaluation, `"x":{1:2}`),
		with(baseEvaluation, `"x":]`),
		with(baseEvaluation, `"ts":01`), with(baseEvaluation, `"score":5.`), with(baseEvaluation, `"score":--5`),
		with(baseEvaluation, `"x":`+strings.Repeat("[", maxDepth+1)+strings.Repeat("]", maxDepth+1)),
	}
	for _, v := range bad {
		checkErr(t, NewDecoder(), b(key), errCase{name: v, topic: TopicEvaluations, value: v, reason: ReasonNotJSON})
	}
}

// TestDecodeDeepButAllowed: nesting up to the limit is fine.
func TestDecodeDeepButAllowed(t *testing.T) {
	v := with(baseEvaluation, `"x":`+strings.Repeat("[", maxDepth)+strings.Repeat("]", maxDepth))
	if _, err := decode(t, TopicEvaluations, v); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeFieldErrors(t *testing.T) {
	const (
		missing = ReasonMissingField
		wrong   = ReasonWrongType
		enum    = ReasonUnknownEnum
		rng     = ReasonOutOfRange
		tsRange = ReasonTSOutOfRange
	)
	tests := []errCase{
		// Common fields, on every topic.
		{"no event_id", TopicSessions, obj(`"shop_id":"s1","ts":1767225600000,"type":"ended","session_id":"x"`), missing, "event_id"},
		{"null event_id", TopicTransfers, with(baseTransfer, `"event_id":null`), missing, "event_id"},
		{"empty event_id", TopicMessages, with(baseMessage, `"event_id":""`), missing, "event_id"},
		{"numeric event_id", TopicEvaluations, with(baseEvaluation, `"event_id":1`), wrong, "event_id"},
		{"no shop_id", TopicOrders, obj(`"event_id":"e1","ts":1767225600000,"type":"created","order_id":"o","buyer_id":"b"`), missing, "shop_id"},
		{"empty shop_id", TopicOrders, with(baseOrder, `"shop_id":""`), missing, "shop_id"},
		{"bool shop_id", TopicSessions, with(baseSession, `"shop_id":true`), wrong, "shop_id"},
		{"no ts", TopicSessions, obj(`"event_id":"e1","shop_id":"s1","type":"ended","session_id":"x"`), missing, "ts"},
		{"null ts", TopicSessions, with(baseSession, `"ts":null`), missing, "ts"},
		{"string ts", TopicSessions, with(baseSession, `"ts":"1767225600000"`), wrong, "ts"},
		{"fractional ts", TopicSessions, with(baseSession, `"ts":1767225600000.5`), wrong, "ts"},
		{"ts with .0", TopicSessions, with(baseSession, `"ts":1767225600000.0`), wrong, "ts"},
		{"ts with exponent", TopicSessions, with(baseSession, `"ts":1.7672256e12`), wrong, "ts"},
		{"ts as array", TopicSessions, with(baseSession, `"ts":[1]`), wrong, "ts"},
		{"ts in seconds", TopicSessions, with(baseSession, `"ts":1767225600`), tsRange, "ts"},
		{"ts zero", TopicSessions, with(baseSession, `"ts":0`), tsRange, "ts"},
		{"ts negative", TopicSessions, with(baseSession, `"ts":-1`), tsRange, "ts"},
		{"ts max int64", TopicSessions, with(baseSession, `"ts":9223372036854775807`), tsRange, "ts"},
		{"ts just beyond int64", TopicSessions, with(baseSession, `"ts":9223372036854775808`), tsRange, "ts"},
		{"ts beyond uint64", TopicSessions, with(baseSession, `"ts":184467440737095516160`), tsRange, "ts"},
		{"ts huge", TopicSessions, with(baseSession, `"ts":`+strings.Repeat("9", 400)), tsRange, "ts"},
		{"ts min int64", TopicSessions, with(baseSession, `"ts":-9223372036854775808`), tsRange, "ts"},
		{"ts below min int64", TopicSessions, with(baseSession, `"ts":-9223372036854775809`), tsRange, "ts"},

		// sessions
		{"session no type", TopicSessions, obj(common, `"session_id":"x"`), missing, "type"},
		{"session bad type", TopicSessions, with(baseSession, `"type":"start"`), enum, "type"},
		{"session type of another topic", TopicSessions, with(baseSession, `"type":"queued"`), enum, "type"},
		{"session type case", TopicSessions, with(baseSession, `"type":"STARTED"`), enum, "type"},
		{"session empty type", TopicSessions, with(baseSession, `"type":""`), enum, "type"},
		{"session numeric type", TopicSessions, with(baseSession, `"type":1`), wrong, "type"},
		{"session no session_id", TopicSessions, obj(common, `"type":"ended"`), missing, "session_id"},
		{"session object session_id", TopicSessions, with(baseSession, `"session_id":{}`), wrong, "session_id"},
		{"started no buyer_id", TopicSessions, obj(common, `"type":"started","session_id":"x","origin":"buyer"`), missing, "buyer_id"},
		{"started null buyer_id", TopicSessions, with(baseStarted, `"buyer_id":null`), missing, "buyer_id"},
		{"started empty buyer_id", TopicSessions, with(baseStarted, `"buyer_id":""`), missing, "buyer_id"},
		{"started no origin", TopicSessions, obj(common, `"type":"started","session_id":"x","buyer_id":"b"`), missing, "origin"},
		{"started null origin", TopicSessions, with(baseStarted, `"origin":null`), missing, "origin"},
		{"bad origin", TopicSessions, with(baseStarted, `"origin":"seller"`), enum, "origin"},
		{"bad origin on ended", TopicSessions, with(baseSession, `"origin":"seller"`), enum, "origin"},
		{"numeric origin", TopicSessions, with(baseStarted, `"origin":1`), wrong, "origin"},
		{"numeric channel", TopicSessions, with(baseSession, `"channel":5`), wrong, "channel"},
		{"bool task_id", TopicSessions, with(baseSession, `"task_id":false`), wrong, "task_id"},
		{"array robot_id", TopicSessions, with(baseSession, `"robot_id":["r"]`), wrong, "robot_id"},
		{"numeric intent", TopicSessions, with(baseSession, `"intent":1`), wrong, "intent"},

		// transfers
		{"transfer bad type", TopicTransfers, with(baseTransfer, `"type":"started"`), enum, "type"},
		{"transfer no session_id", TopicTransfers, obj(common, `"type":"queued"`), missing, "session_id"},
		{"assigned no agent_id", TopicTransfers, obj(common, `"type":"assigned","session_id":"x"`), missing, "agent_id"},
		{"assigned null agent_id", TopicTransfers, obj(common, `"type":"assigned","session_id":"x","agent_id":null`), missing, "agent_id"},
		{"assigned empty agent_id", TopicTransfers, obj(common, `"type":"assigned","session_id":"x","agent_id":""`), missing, "agent_id"},
		{"numeric agent_id", TopicTransfers, with(baseTransfer, `"agent_id":3`), wrong, "agent_id"},
		{"numeric group_id", TopicTransfers, with(baseTransfer, `"group_id":3`), wrong, "group_id"},
		{"numeric from_agent_id", TopicTransfers, with(baseTransfer, `"from_agent_id":3`), wrong, "from_agent_id"},

		// messages
		{"message no session_id", TopicMessages, obj(common, `"sender":"buyer"`), missing, "session_id"},
		{"message no sender", TopicMessages, obj(common, `"session_id":"x"`), missing, "sender"},
		{"message bad sender", TopicMessages, with(baseMessage, `"sender":"bot"`), enum, "sender"},
		{"message array sender", TopicMessages, with(baseMessage, `"sender":["buyer"]`), wrong, "sender"},
		{"agent message no agent_id", TopicMessages, obj(common, `"session_id":"x","sender":"agent"`), missing, "agent_id"},
		{"agent message empty agent_id", TopicMessages, obj(common, `"session_id":"x","sender":"agent","agent_id":""`), missing, "agent_id"},
		{"numeric content_type", TopicMessages, with(baseMessage, `"content_type":1`), wrong, "content_type"},
		{"numeric text", TopicMessages, with(baseMessage, `"text":1`), wrong, "text"},
		{"object text", TopicMessages, with(baseMessage, `"text":{"zh":"你好"}`), wrong, "text"},
		{"string is_ad", TopicMessages, with(baseMessage, `"is_ad":"true"`), wrong, "is_ad"},
		{"numeric is_ad", TopicMessages, with(baseMessage, `"is_ad":1`), wrong, "is_ad"},

		// evaluations
		{"evaluation no session_id", TopicEvaluations, obj(common, `"score":5`), missing, "session_id"},
		{"evaluation no score", TopicEvaluations, obj(common, `"session_id":"x"`), missing, "score"},
		{"evaluation null score", TopicEvaluations, with(baseEvaluation, `"score":null`), missing, "score"},
		{"score 0", TopicEvaluations, with(baseEvaluation, `"score":0`), rng, "score"},
		{"score 6", TopicEvaluations, with(baseEvaluation, `"score":6`), rng, "score"},
		{"score -1", TopicEvaluations, with(baseEvaluation, `"score":-1`), rng, "score"},
		{"score beyond int64", TopicEvaluations, with(baseEvaluation, `"score":18446744073709551616`), rng, "score"},
		{"score 4.5", TopicEvaluations, with(baseEvaluation, `"score":4.5`), wrong, "score"},
		{"score 5.0", TopicEvaluations, with(baseEvaluation, `"score":5.0`), wrong, "score"},
		{"string score", TopicEvaluations, with(baseEvaluation, `"score":"5"`), wrong, "score"},
		{"bool score", TopicEvaluations, with(baseEvaluation, `"score":true`), wrong, "score"},
		{"numeric agent_id", TopicEvaluations, with(baseEvaluation, `"agent_id":1`), wrong, "agent_id"},

		// orders
		{"order no type", TopicOrders, obj(common, `"order_id":"o","buyer_id":"b"`), missing, "type"},
		{"order bad type", TopicOrders, with(baseOrder, `"type":"refunded"`), enum, "type"},
		{"order no order_id", TopicOrders, obj(common, `"type":"created","buyer_id":"b"`), missing, "order_id"},
		{"order numeric order_id", TopicOrders, with(baseOrder, `"order_id":3748291029384756102`), wrong, "order_id"},
		{"order no buyer_id", TopicOrders, obj(common, `"type":"created","order_id":"o"`), missing, "buyer_id"},
		{"paid no amount", TopicOrders, obj(common, `"type":"paid","order_id":"o","buyer_id":"b"`), missing, "amount"},
		{"paid null amount", TopicOrders, obj(common, `"type":"paid","order_id":"o","buyer_id":"b","amount":null`), missing, "amount"},
		{"negative amount", TopicOrders, with(baseOrder, `"amount":-1`), rng, "amount"},
		{"amount beyond int64", TopicOrders, with(baseOrder, `"amount":9223372036854775808`), rng, "amount"},
		{"fractional amount", TopicOrders, with(baseOrder, `"amount":259.00`), wrong, "amount"},
		{"string amount", TopicOrders, with(baseOrder, `"amount":"25900"`), wrong, "amount"},

		// Several problems: the table order decides, not the key order.
		{"first rule wins", TopicEvaluations, obj(`"score":9,"session_id":1,"ts":"x","shop_id":"s1"`), missing, "event_id"},
		{"common before topic", TopicEvaluations, with(baseEvaluation, `"score":9`, `"ts":1`), tsRange, "ts"},
		{"not_json beats all", TopicEvaluations, obj(`"score":9`) + "x", ReasonNotJSON, ""},
		{"unknown topic", TopicInvalid, baseEvaluation, ReasonUnknownTopic, ""},
		{"topic out of range", Topic(99), baseEvaluation, ReasonUnknownTopic, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, NewDecoder(), b(key), tt) })
	}
}

func TestDecodeTSRange(t *testing.T) {
	at := func(ts string) string { return with(baseEvaluation, `"ts":`+ts) }
	d := NewDecoder()
	for _, ok := range []string{"946684800000", "4102444799999", "1767225600000"} {
		var e Event
		if err := d.Decode(TopicEvaluations, b(key), b(at(ok)), &e); err != nil {
			t.Errorf("ts %s: %v", ok, err)
		}
	}
	for _, bad := range []string{"946684799999", "4102444800000"} {
		checkErr(t, d, b(key), errCase{topic: TopicEvaluations, value: at(bad), reason: ReasonTSOutOfRange, field: "ts"})
	}

	d = NewDecoder(WithTSRange(-5, 10))
	for _, ok := range []string{"-5", "0", "9"} {
		var e Event
		if err := d.Decode(TopicEvaluations, b(key), b(at(ok)), &e); err != nil {
			t.Errorf("WithTSRange(-5, 10): ts %s: %v", ok, err)
		}
	}
	for _, bad := range []string{"-6", "10", "1767225600000"} {
		checkErr(t, d, b(key), errCase{topic: TopicEvaluations, value: at(bad), reason: ReasonTSOutOfRange, field: "ts"})
	}
}

func TestDecodeKey(t *testing.T) {
	mismatch := errCase{topic: TopicEvaluations, value: baseEvaluation, reason: ReasonKeyMismatch, field: "shop_id"}
	for _, k := range [][]byte{nil, {}, b("s2"), b("S1"), b("s1 "), b("s"), b("s1\x00")} {
		checkErr(t, NewDecoder(), k, mismatch)
	}
	// The key check comes last: a broken record reports its own problem.
	checkErr(t, NewDecoder(), b("other"),
		errCase{topic: TopicEvaluations, value: with(baseEvaluation, `"score":0`), reason: ReasonOutOfRange, field: "score"})

	var e Event
	if err := NewDecoder(WithKeyCheck(false)).Decode(TopicEvaluations, nil, b(baseEvaluation), &e); err != nil {
		t.Errorf("WithKeyCheck(false), nil key: %v", err)
	}
	if err := NewDecoder(WithKeyCheck(true)).Decode(TopicEvaluations, b(key), b(baseEvaluation), &e); err != nil {
		t.Errorf("matching key: %v", err)
	}
}

// TestDecoderReuse checks that one Decoder gives independent results: a
// failed or escaped record must leave nothing behind for the next one.
func TestDecoderReuse(t *testing.T) {
	d := NewDecoder()
	var e Event
	records := []struct {
		topic Topic
		value string
		ok    bool
	}{
		{TopicMessages, obj(common, `"session_id":"\u4e2d","sender":"agent","agent_id":"\u6587"`), true},
		{TopicMessages, baseMessage, true},
		{TopicMessages, with(baseMessage, `"sender":1`), false},
		{TopicEvaluations, with(baseEvaluation, `"agent_id":"a"`), true},
		{TopicEvaluations, baseEvaluation, true},
	}
	for i, r := range records {
		err := d.Decode(r.topic, b(key), b(r.value), &e)
		if (err == nil) != r.ok {
			t.Fatalf("record %d: err = %v", i, err)
		}
		fresh, _ := decode(t, r.topic, r.value)
		if r.ok && !reflect.DeepEqual(e.Clone(), fresh) {
			t.Errorf("record %d: reused decoder gave %+v, fresh one %+v", i, e, fresh)
		}
	}
}

func TestDecodeViews(t *testing.T) {
	value := b(obj(common, `"session_id":"sid","sender":"agent","agent_id":"\u0061gent"`))
	var e Event
	if err := NewDecoder().Decode(TopicMessages, b(key), value, &e); err != nil {
		t.Fatal(err)
	}
	// An unescaped field is a view into the record...
	if &e.SessionID[0] != &value[strings.Index(string(value), "sid")] {
		t.Error("SessionID does not point into the record")
	}
	// ...and its capacity is capped so that appending cannot clobber it.
	if cap(e.SessionID) != len(e.SessionID) || cap(e.AgentID) != len(e.AgentID) {
		t.Error("views are not capped")
	}
	if string(e.AgentID) != "agent" {
		t.Errorf("AgentID = %q", e.AgentID)
	}
}

// TestHoldsScratch: only a value that had to be unescaped lives in the
// decoder's scratch space; an escaped key is looked up and given back, and
// an escaped text is validated, not unescaped. Callers that decode ahead
// (the task) rely on it to know which events the next Decode would spoil.
func TestHoldsScratch(t *testing.T) {
	tests := []struct {
		name, value string
		want        bool
	}{
		{"plain", baseMessage, false},
		{"escaped value", with(baseMessage, `"agent_id":"\u0061"`), true},
		{"escaped key", with(baseMessage, `"\u0061gent_id":"a"`), false},
		{"escaped text", with(baseMessage, `"text":"\u4eb2"`), false},
		{"broken after an escaped value", with(baseMessage, `"agent_id":"\u0061","ts":"x"`), true},
	}
	d := NewDecoder()
	for _, tt := range tests {
		var e Event
		_ = d.Decode(TopicMessages, b(key), b(tt.value), &e)
		if got := d.HoldsScratch(); got != tt.want {
			t.Errorf("%s: HoldsScratch = %v, want %v", tt.name, got, tt.want)
		}
	}
}
