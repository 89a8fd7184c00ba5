package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"unicode/utf8"
)

// FuzzDecode checks that Decode never panics, that it agrees with
// encoding/json on what is JSON, that an accepted record agrees field by
// field with encoding/json's reading of it and re-validates after
// AppendJSON, and that a reused Decoder behaves like a fresh one.
//
//	go test ./schemas -run '^$' -fuzz FuzzDecode -fuzztime 30s
func FuzzDecode(f *testing.F) {
	for _, fx := range validFixtures(f) {
		f.Add(uint8(fx.topic), []byte("shop_1028374"), []byte(fx.value))
	}
	for _, fx := range loadBenchFixtures(f) {
		f.Add(uint8(fx.topic), shopKey, []byte(fx.Value))
	}
	for _, v := range []string{"", "{}", `{"ts":1e400}`, with(baseEvaluation, `"score":"\ud800"`), baseOrder + " x"} {
		f.Add(uint8(TopicEvaluations), []byte(key), []byte(v))
	}
	reused := NewDecoder(WithKeyCheck(false))
	f.Fuzz(func(t *testing.T, topicNum uint8, key, value []byte) {
		topic := Topic(topicNum % 7) // also the invalid topics 0 and 6
		var got, fresh Event
		err := reused.Decode(topic, key, value, &got)
		freshErr := NewDecoder(WithKeyCheck(false)).Decode(topic, key, value, &fresh)
		if !reflect.DeepEqual(err, freshErr) || !reflect.DeepEqual(got.Clone(), fresh.Clone()) {
			t.Fatalf("reused decoder: %v %+v; fresh: %v %+v", err, got, freshErr, fresh)
		}
		checkKeyed(t, topic, key, value, err, &got)
		if err != nil {
			checkRejection(t, topic, value, err)
			return
		}
		if !json.Valid(value) {
			t.Fatalf("accepted invalid JSON %q", value)
		}
		checkAgainstStdlib(t, topic, value, &got)
		checkRoundTrip(t, &got)
		checkSlowPathAgrees(t, reused, &got)
	})
}

// checkSlowPathAgrees: the table-driven validator, which only runs for
// invalid records, must accept what the fast path accepted and rebuild the
// same Event from the raw values (d still holds them from the last Decode).
func checkSlowPathAgrees(t *testing.T, d *Decoder, fast *Event) {
	slow := Event{Topic: fast.Topic}
	if err := d.validate(topicRules[fast.Topic], &slow); err != nil {
		t.Fatalf("fast path accepted %+v, table validator says %v", fast, err)
	}
	if !reflect.DeepEqual(slow.Clone(), fast.Clone()) {
		t.Fatalf("fast path %+v, table validator %+v", fast, slow)
	}
}

// checkKeyed: with the key check on, the verdict is the unkeyed one, or
// key_mismatch when the key differs from shop_id.
func checkKeyed(t *testing.T, topic Topic, key, value []byte, unkeyed error, e *Event) {
	var ev Event
	err := NewDecoder().Decode(topic, key, value, &ev)
	if unkeyed != nil || bytes.Equal(key, e.ShopID) {
		if !reflect.DeepEqual(err, unkeyed) {
			t.Fatalf("keyed %v, unkeyed %v", err, unkeyed)
		}
		return
	}
	var de *DecodeError
	if !errors.As(err, &de) || de.Reason != ReasonKeyMismatch {
		t.Fatalf("key %q, shop_id %q: got %v", key, e.ShopID, err)
	}
}

// checkRejection: errors are *DecodeError, and not_json exactly when
// encoding/json disagrees about the syntax (or UTF-8, which it does not check).
func checkRejection(t *testing.T, topic Topic, value []byte, err error) {
	var de *DecodeError
	if !errors.As(err, &de) || de.Reason == "" || de.Detail == "" {
		t.Fatalf("bad error %#v", err)
	}
	if !validTopic(topic) {
		return
	}
	isObject := len(bytes.TrimLeft(value, " \t\r\n")) > 0 && bytes.TrimLeft(value, " \t\r\n")[0] == '{'
	wellFormed := json.Valid(value) && utf8.Valid(value) && isObject
	// Below maxDepth bytes the nesting limit cannot be reached.
	if (de.Reason == ReasonNotJSON) == wellFormed && len(value) < maxDepth {
		t.Fatalf("reason %s for %q, but encoding/json well-formed=%v", de.Reason, value, wellFormed)
	}
}

// checkAgainstStdlib compares every field of an accepted record with
// encoding/json's generic decoding (maps: case-sensitive, last key wins).
func checkAgainstStdlib(t *testing.T, topic Topic, value []byte, e *Event) {
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("encoding/json rejects accepted %q: %v", value, err)
	}
	for _, r := range topicRules[topic] {
		v := m[r.id.String()]
		var ok bool
		switch r.kind {
		case kindString:
			s, _ := v.(string)
			ok = string(*e.view(r.id)) == s && (*e.view(r.id) == nil) == (s == "")
		case kindEnum:
			s, _ := v.(string)
			ok = enumName(r.enum, e.code(r.id)) == s
		case kindInt:
			n, _ := v.(json.Number)
			ok = n == "" && e.intField(r.id) == 0 || string(n) == strconv.FormatInt(e.intField(r.id), 10) ||
				string(n) == "-0" && e.intField(r.id) == 0
		case kindBool:
			ok = (v == true) == e.IsAd
		case kindSkip:
			ok = v == nil || reflect.TypeOf(v).Kind() == reflect.String
		}
		if !ok {
			t.Fatalf("%s: decoder %+v, encoding/json %#v, record %q", r.id, e, v, value)
		}
	}
}

// checkRoundTrip: an accepted event re-validates after AppendJSON, with
// its shop_id as key, and comes back equal.
func checkRoundTrip(t *testing.T, e *Event) {
	want := e.Clone()
	enc := AppendJSON(nil, &want)
	var again Event
	if err := NewDecoder().Decode(want.Topic, want.ShopID, enc, &again); err != nil {
		t.Fatalf("AppendJSON output %s rejected: %v", enc, err)
	}
	if !reflect.DeepEqual(again.Clone(), want) {
		t.Fatalf("round trip %s:\n got %+v\nwant %+v", enc, again, want)
	}
}

// TestValidFixtures runs the fuzz properties on the fixtures, keyed by
// shop_id, so that they hold in plain `go test` too.
func TestValidFixtures(t *testing.T) {
	for _, fx := range validFixtures(t) {
		var m struct {
			ShopID string `json:"shop_id"`
		}
		if err := json.Unmarshal([]byte(fx.value), &m); err != nil {
			t.Fatal(err)
		}
		var e Event
		if err := NewDecoder().Decode(fx.topic, []byte(m.ShopID), []byte(fx.value), &e); err != nil {
			t.Fatalf("%s: %v", fx.value, err)
		}
		checkAgainstStdlib(t, fx.topic, []byte(fx.value), &e)
		checkRoundTrip(t, &e)
	}
	d := NewDecoder(WithKeyCheck(false))
	for _, fx := range validFixtures(t) {
		var e Event
		if err := d.Decode(fx.topic, nil, []byte(fx.value), &e); err != nil {
			t.Fatal(err)
		}
		checkSlowPathAgrees(t, d, &e)
	}
}

// TestDecodeAllocs guards the product requirement: no allocation per event
// on the steady path, for every fixture.
func TestDecodeAllocs(t *testing.T) {
	d := NewDecoder(WithKeyCheck(false))
	var e Event
	all := validFixtures(t)
	for _, fx := range loadBenchFixtures(t) {
		all = append(all, fixture{fx.topic, fx.Value})
	}
	for _, fx := range all {
		value := []byte(fx.value)
		_ = d.Decode(fx.topic, nil, value, &e) // warm up the scratch buffer
		if n := testing.AllocsPerRun(100, func() {
			if err := d.Decode(fx.topic, nil, value, &e); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocs per Decode", fx.value, n)
		}
	}
}
