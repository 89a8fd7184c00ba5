package schemas

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
	"unsafe"

	"github.com/buger/jsonparser"
	goccy "github.com/goccy/go-json"
	"github.com/valyala/fastjson"
)

// The decode candidates compared in docs/performance.md ("Decoding"). Each
// one lexes with its library, then hands the values to the same validation
// as the production Decoder (Decoder.finish), so the comparison measures the
// JSON layer and every candidate returns the same Event for the fixtures
// (TestCandidatesAgree). Only "scanner" is production code; the others are
// kept here so that the comparison can be rerun:
//
//	go test ./schemas -run '^$' -bench BenchmarkDecode -count 6
//
// Known semantic gaps of the losers, besides speed (they do not matter for
// the benchmark, but would for production):
//   - encoding/json, goccy: struct fields match keys case-insensitively; a
//     field of another topic with a wrong type fails the record; null and
//     absent are indistinguishable (harmless: both mean absent/missing);
//     integer overflow is wrong_type, not out_of_range.
//   - fastjson: does not reject invalid UTF-8 or control characters in
//     strings.
//   - jsonparser: a lookup, not a validator: it ignores trailing garbage and
//     most syntax errors outside the fields it finds, does not check UTF-8,
//     and reports the first of duplicate keys.
type candidate struct {
	name   string
	decode func(topic Topic, key, value []byte, ev *Event) error
}

func candidates() []candidate {
	return []candidate{
		{"stdlib", newStructCandidate(json.Unmarshal)},
		{"goccy", newStructCandidate(goccy.Unmarshal)},
		{"fastjson", newFastjsonCandidate()},
		{"jsonparser", newJSONParserCandidate()},
		{"scanner", NewDecoder().Decode},
	}
}

// wireEvent is the idiomatic struct for encoding/json-style decoding:
// pointers tell absent/null from zero.
type wireEvent struct {
	EventID     *string `json:"event_id"`
	ShopID      *string `json:"shop_id"`
	TS          *int64  `json:"ts"`
	Type        *string `json:"type"`
	SessionID   *string `json:"session_id"`
	BuyerID     *string `json:"buyer_id"`
	Origin      *string `json:"origin"`
	Channel     *string `json:"channel"`
	TaskID      *string `json:"task_id"`
	RobotID     *string `json:"robot_id"`
	Intent      *string `json:"intent"`
	GroupID     *string `json:"group_id"`
	AgentID     *string `json:"agent_id"`
	FromAgentID *string `json:"from_agent_id"`
	Sender      *string `json:"sender"`
	ContentType *string `json:"content_type"`
	Text        *string `json:"text"`
	IsAd        *bool   `json:"is_ad"`
	Score       *int64  `json:"score"`
	OrderID     *string `json:"order_id"`
	Amount      *int64  `json:"amount"`
}

func newStructCandidate(unmarshal func([]byte, any) error) func(Topic, []byte, []byte, *Event) error {
	d := NewDecoder()
	var w wireEvent
	return func(topic Topic, key, value []byte, ev *Event) error {
		*ev = Event{Topic: topic}
		w = wireEvent{}
		if err := unmarshal(value, &w); err != nil {
			return structError(err)
		}
		d.begin(topic, ev)
		mask := topicMask[topic]
		strs := [...]*string{
			fEventID: w.EventID, fShopID: w.ShopID, fType: w.Type, fSessionID: w.SessionID,
			fBuyerID: w.BuyerID, fOrigin: w.Origin, fChannel: w.Channel, fTaskID: w.TaskID,
			fRobotID: w.RobotID, fIntent: w.Intent, fGroupID: w.GroupID, fAgentID: w.AgentID,
			fFromAgentID: w.FromAgentID, fSender: w.Sender, fContentType: w.ContentType,
			fText: w.Text, fOrderID: w.OrderID,
		}
		for id, s := range strs {
			if s != nil && mask&(1<<id) != 0 {
				d.storeString(fieldID(id), d.field(fieldID(id)), unsafe.Slice(unsafe.StringData(*s), len(*s)))
			}
		}
		ints := [...]*int64{fTS: w.TS, fScore: w.Score, fAmount: w.Amount}
		for id, n := range ints {
			if n != nil && mask&(1<<id) != 0 {
				d.storeNumber(fieldID(id), d.field(fieldID(id)), *n, 0)
			}
		}
		if w.IsAd != nil && mask&(1<<fIsAd) != 0 {
			d.storeKind(fIsAd, d.field(fIsAd), boolKind(*w.IsAd))
		}
		return d.finish(topic, key)
	}
}

func boolKind(b bool) jsonKind {
	if b {
		return jsonTrue
	}
	return jsonFalse
}

func structError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &DecodeError{Reason: ReasonWrongType, Field: te.Field, Detail: err.Error()}
	}
	var gte *goccy.UnmarshalTypeError
	if errors.As(err, &gte) {
		return &DecodeError{Reason: ReasonWrongType, Field: gte.Field, Detail: err.Error()}
	}
	return &DecodeError{Reason: ReasonNotJSON, Detail: err.Error()}
}

// newFastjsonCandidate reuses one Parser (its documented fast path) and a
// visit closure made once, so the closure does not allocate per record.
func newFastjsonCandidate() func(Topic, []byte, []byte, *Event) error {
	d := NewDecoder()
	var p fastjson.Parser
	var mask uint32
	var numBuf []byte
	visit := func(k []byte, v *fastjson.Value) {
		id, ok := lookupField(k)
		if !ok || mask&(1<<id) == 0 {
			return
		}
		rv := d.field(id)
		switch v.Type() {
		case fastjson.TypeString:
			s, _ := v.StringBytes()
			d.storeString(id, rv, s)
		case fastjson.TypeNumber:
			numBuf = v.MarshalTo(numBuf[:0])
			_, num, flags, _ := scanNumber(numBuf, 0)
			d.storeNumber(id, rv, num, flags)
		case fastjson.TypeTrue, fastjson.TypeFalse:
			d.storeKind(id, rv, boolKind(v.Type() == fastjson.TypeTrue))
		case fastjson.TypeNull:
			d.storeKind(id, rv, jsonNull)
		default:
			d.storeKind(id, rv, jsonObject) // object or array: a wrong type either way
		}
	}
	return func(topic Topic, key, value []byte, ev *Event) error {
		*ev = Event{Topic: topic}
		v, err := p.ParseBytes(value)
		if err != nil {
			return &DecodeError{Reason: ReasonNotJSON, Detail: err.Error()}
		}
		o, err := v.Object()
		if err != nil {
			return &DecodeError{Reason: ReasonNotJSON, Detail: err.Error()}
		}
		d.begin(topic, ev)
		mask = topicMask[topic]
		o.Visit(visit)
		return d.finish(topic, key)
	}
}

var jsonparserPaths = func() (p [][]string) {
	for f := fieldID(0); f < numFields; f++ {
		p = append(p, []string{f.String()})
	}
	return p
}()

// newJSONParserCandidate looks up all known keys in one EachKey pass.
func newJSONParserCandidate() func(Topic, []byte, []byte, *Event) error {
	d := NewDecoder()
	var mask uint32
	scratch := make([]byte, 0, 4096) // big enough never to move under the views
	cb := func(idx int, value []byte, vt jsonparser.ValueType, err error) {
		id := fieldID(idx)
		if err != nil || mask&(1<<id) == 0 {
			return
		}
		rv := d.field(id)
		switch vt {
		case jsonparser.String:
			if bytes.IndexByte(value, '\\') >= 0 {
				start := len(scratch)
				out, _ := jsonparser.Unescape(value, scratch[start:cap(scratch)])
				scratch = scratch[:start+len(out)]
				value = scratch[start:]
			}
			d.storeString(id, rv, value)
		case jsonparser.Number:
			_, num, flags, _ := scanNumber(value, 0)
			d.storeNumber(id, rv, num, flags)
		case jsonparser.Boolean:
			d.storeKind(id, rv, boolKind(value[0] == 't'))
		case jsonparser.Null:
			d.storeKind(id, rv, jsonNull)
		default:
			d.storeKind(id, rv, jsonObject)
		}
	}
	return func(topic Topic, key, value []byte, ev *Event) error {
		*ev = Event{Topic: topic}
		d.begin(topic, ev)
		mask, scratch = topicMask[topic], scratch[:0]
		// EachKey's result is -1 whenever some path is absent, so it says
		// nothing about validity; jsonparser has no validating mode.
		jsonparser.EachKey(value, cb, jsonparserPaths...)
		return d.finish(topic, key)
	}
}

// benchFixture is one line of testdata/bench.jsonl: a realistic ~300-byte
// record per topic, plus a message with Chinese text and one whose text is
// \u-escaped (Python's json.dumps default, common among producers).
type benchFixture struct {
	Name  string `json:"name"`
	Topic string `json:"topic"`
	Value string `json:"value"`
	topic Topic
}

func loadBenchFixtures(tb testing.TB) []benchFixture {
	tb.Helper()
	f, err := os.Open("testdata/bench.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []benchFixture
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var fx benchFixture
		if err := json.Unmarshal(sc.Bytes(), &fx); err != nil {
			tb.Fatal(err)
		}
		fx.topic = topicByName(tb, fx.Topic)
		out = append(out, fx)
	}
	return out
}

func topicByName(tb testing.TB, name string) Topic {
	for _, t := range Topics {
		if t.String() == name {
			return t
		}
	}
	tb.Fatalf("unknown topic %q", name)
	return TopicInvalid
}

var shopKey = []byte("shop_1028374")

// TestCandidatesAgree makes the benchmark honest: every candidate must
// produce the production decoder's Event for every fixture.
func TestCandidatesAgree(t *testing.T) {
	for _, fx := range loadBenchFixtures(t) {
		var want Event
		if err := NewDecoder().Decode(fx.topic, shopKey, []byte(fx.Value), &want); err != nil {
			t.Fatalf("%s: %v", fx.Name, err)
		}
		for _, c := range candidates() {
			var got Event
			if err := c.decode(fx.topic, shopKey, []byte(fx.Value), &got); err != nil {
				t.Errorf("%s/%s: %v", c.name, fx.Name, err)
				continue
			}
			if !reflect.DeepEqual(got.Clone(), want.Clone()) {
				t.Errorf("%s/%s:\n got %+v\nwant %+v", c.name, fx.Name, got, want)
			}
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	fixtures := loadBenchFixtures(b)
	for _, c := range candidates() {
		for _, fx := range fixtures {
			b.Run(c.name+"/"+fx.Name, func(b *testing.B) {
				value := []byte(fx.Value)
				var ev Event
				b.ReportAllocs()
				b.SetBytes(int64(len(value)))
				for b.Loop() {
					if err := c.decode(fx.topic, shopKey, value, &ev); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
