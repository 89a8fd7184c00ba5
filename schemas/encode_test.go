package schemas

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestClone(t *testing.T) {
	value := b(obj(common, `"type":"assigned","session_id":"x","group_id":"\u0067","agent_id":"a"`))
	d := NewDecoder()
	var e Event
	if err := d.Decode(TopicTransfers, b(key), value, &e); err != nil {
		t.Fatal(err)
	}
	c := e.Clone()
	if !reflect.DeepEqual(c, e) {
		t.Fatalf("Clone = %+v, want %+v", c, e)
	}
	// Clobber the record and the scratch buffer: the clone must not change.
	for i := range value {
		value[i] = 'Z'
	}
	if err := d.Decode(TopicTransfers, b(key), b(obj(common, `"type":"queued","session_id":"y","group_id":"\u0068"`)), &e); err != nil {
		t.Fatal(err)
	}
	if string(c.SessionID) != "x" || string(c.GroupID) != "g" || string(c.AgentID) != "a" || string(c.EventID) != "e1" {
		t.Errorf("clone changed with the decoder's buffers: %+v", c)
	}
	if c.Channel != nil || c.FromAgentID != nil {
		t.Error("absent fields not nil in clone")
	}
}

type fixture struct {
	topic Topic
	value string
}

// validFixtures reads testdata/valid/<topic name>.jsonl: valid records of
// each topic, one per line, all keyed by their shop_id.
func validFixtures(t testing.TB) []fixture {
	t.Helper()
	var out []fixture
	for _, topic := range Topics {
		f, err := os.Open("testdata/valid/" + DefaultTopicNames[topic] + ".jsonl")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			out = append(out, fixture{topic, sc.Text()})
		}
		f.Close()
	}
	return out
}

// TestAppendJSONRoundTrip: decode, encode, decode again gives an equal
// event, and the canonical form is a fixed point.
func TestAppendJSONRoundTrip(t *testing.T) {
	d := NewDecoder(WithKeyCheck(false))
	for _, fx := range validFixtures(t) {
		var e1, e2 Event
		if err := d.Decode(fx.topic, nil, b(fx.value), &e1); err != nil {
			t.Fatalf("%s: %v", fx.value, err)
		}
		first := e1.Clone()
		enc := AppendJSON(nil, &first)
		if err := d.Decode(fx.topic, first.ShopID, enc, &e2); err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !reflect.DeepEqual(e2.Clone(), first) {
			t.Errorf("round trip of %s\n got %+v\nwant %+v", enc, e2, first)
		}
		if again := AppendJSON(nil, &e2); string(again) != string(enc) {
			t.Errorf("canonical form not stable:\n%s\n%s", enc, again)
		}
	}
}

func TestAppendJSONCanonical(t *testing.T) {
	tests := []struct {
		e    Event
		text *string
		want string
	}{
		{Event{Topic: TopicSessions, EventID: b("e"), ShopID: b("s"), TS: 1, Type: TypeStarted, SessionID: b("x"),
			BuyerID: b("b"), Origin: OriginBuyer, AgentID: b("ignored: not a sessions field")},
			nil, `{"event_id":"e","shop_id":"s","ts":1,"type":"started","session_id":"x","buyer_id":"b","origin":"buyer"}`},
		{Event{Topic: TopicMessages, EventID: b("e"), ShopID: b("s"), TS: 2, SessionID: b("x"), Sender: SenderAgent,
			AgentID: b("a"), IsAd: true}, ptr("你好\"\n\x01"),
			`{"event_id":"e","shop_id":"s","ts":2,"session_id":"x","sender":"agent","agent_id":"a","text":"你好\"\n\u0001","is_ad":true}`},
		{Event{Topic: TopicEvaluations, EventID: b("e\\\t"), ShopID: b("s\xff"), TS: 3, SessionID: b("x"), Score: 4},
			nil, `{"event_id":"e\\\t","shop_id":"s\ufffd","ts":3,"session_id":"x","score":4}`},
		{Event{Topic: TopicOrders, EventID: b("e"), ShopID: b("s"), TS: 4, Type: TypeCreated, OrderID: b("o"), BuyerID: b("b")},
			nil, `{"event_id":"e","shop_id":"s","ts":4,"type":"created","order_id":"o","buyer_id":"b","amount":0}`},
		{Event{Topic: TopicTransfers, TS: 5}, nil, `{"ts":5}`},
		{Event{}, nil, `{}`},
	}
	for _, tt := range tests {
		var got []byte
		if tt.text != nil {
			got = AppendJSONWithText([]byte("prefix:"), &tt.e, *tt.text)
		} else {
			got = AppendJSON([]byte("prefix:"), &tt.e)
		}
		if string(got) != "prefix:"+tt.want {
			t.Errorf("AppendJSON(%+v)\n got %s\nwant prefix:%s", tt.e, got, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestAppendJSONEscapesRoundTrip: any byte string survives encoding and
// decoding (invalid UTF-8 as U+FFFD).
func TestAppendJSONEscapesRoundTrip(t *testing.T) {
	for _, s := range []string{"", "\x00\x1f\x7f", `"\/`, "中文😀", "\u2028\u2029", "a\xffb", strings.Repeat("é", 300)} {
		e := Event{Topic: TopicEvaluations, EventID: b("e"), ShopID: b("s"), TS: tsValid, SessionID: b("x" + s), Score: 3}
		var got Event
		enc := AppendJSON(nil, &e)
		if err := NewDecoder().Decode(TopicEvaluations, b("s"), enc, &got); err != nil {
			t.Fatalf("%q: %s: %v", s, enc, err)
		}
		want := strings.ToValidUTF8("x"+s, "\uFFFD")
		if string(got.SessionID) != want {
			t.Errorf("%q: got %q", s, got.SessionID)
		}
	}
}
