package schemas

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"time"
)

// Default accepted event-time range: [2000-01-01, 2100-01-01) UTC. Anything
// outside is a producer bug (seconds instead of milliseconds, a zero value),
// not a real event.
var (
	DefaultMinTS = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	DefaultMaxTS = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
)

// DecoderOption configures a Decoder.
type DecoderOption func(*Decoder)

// WithTSRange sets the accepted ts range: minMs inclusive, maxMs exclusive,
// both Unix epoch milliseconds. An empty range rejects every record.
func WithTSRange(minMs, maxMs int64) DecoderOption {
	return func(d *Decoder) { d.minTS, d.maxTS = minMs, maxMs }
}

// WithKeyCheck turns the check "record key == shop_id, byte for byte" on or
// off (default on). With it on, a nil or empty key is a mismatch.
func WithKeyCheck(on bool) DecoderOption {
	return func(d *Decoder) { d.keyCheck = on }
}

// Decoder decodes records of the five input topics into Events. It keeps
// scratch space between calls so that the steady path does not allocate; a
// Decoder must not be used by two goroutines at once.
//
// Decoding is one pass over the record. Each value of a field the topic
// defines is type-checked and stored into the Event as soon as it is lexed
// (store.go), leaving a good or bad bit; at the end a few mask operations
// decide whether the record is valid. Only when it is not does the
// table-driven validator (validate.go) run over the raw values it also
// recorded, to name the first broken rule in table order.
type Decoder struct {
	minTS, maxTS int64
	keyCheck     bool

	// Per record.
	rules   *[numFields]fastRule // the topic's rules, indexed by field
	ev      *Event
	present uint32 // bit f: vals[f] holds this record's (last) value of f
	good    uint32 // bit f: f's value is valid and stored in ev
	bad     uint32 // bit f: f's value breaks a rule (wrong type, enum, range, empty)
	inScr   uint32 // bit f: vals[f]'s string lives in scratch (see fixScratch)
	vals    [numFields]rawVal
	// scratch holds unescaped strings of the current record. Fields keep
	// offsets into it until the record is lexed, because appending for a
	// later field may move it.
	scratch []byte
}

// NewDecoder returns a Decoder with the defaults of SPEC §1 (ts in
// [DefaultMinTS, DefaultMaxTS), key check on), changed by opts.
func NewDecoder(opts ...DecoderOption) *Decoder {
	d := &Decoder{minTS: DefaultMinTS, maxTS: DefaultMaxTS, keyCheck: true}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Decode decodes value, a record of topic with the given Kafka key, into
// ev. It returns nil or a *DecodeError. The []byte fields of ev are views
// into value, valid as long as value is not modified, and, for values
// that had to be unescaped, into d's scratch space, valid until the next
// Decode on d (HoldsScratch reports whether there are such); use
// Event.Clone to keep them. On error the content of ev is unspecified.
func (d *Decoder) Decode(topic Topic, key, value []byte, ev *Event) error {
	*ev = Event{Topic: topic}
	if !validTopic(topic) {
		return &DecodeError{Reason: ReasonUnknownTopic, Detail: fmt.Sprintf("topic %d", topic)}
	}
	if len(value) > math.MaxUint32 { // offsets are uint32; Kafka caps records far below
		return &DecodeError{Reason: ReasonNotJSON, Detail: "record larger than 4 GiB"}
	}
	d.begin(topic, ev)
	if pos, ok := d.lexObject(value, topicMask[topic]); !ok {
		return notJSON(value, pos)
	}
	d.fixScratch()
	return d.finish(topic, key)
}

// HoldsScratch reports whether the last decoded Event has strings in the
// decoder's scratch space (unescaped values), which the next Decode
// overwrites; without it the Event's views point only into the record.
func (d *Decoder) HoldsScratch() bool { return len(d.scratch) > 0 }

// begin resets the per-record state.
func (d *Decoder) begin(topic Topic, ev *Event) {
	d.rules, d.ev = &fastRules[topic], ev
	d.present, d.good, d.bad, d.inScr = 0, 0, 0, 0
	d.scratch = d.scratch[:0]
}

// finish decides validity from the bits left by the store functions, and
// checks the key. It is shared with the benchmark candidates built on
// other JSON libraries, so that all of them apply exactly the same rules.
func (d *Decoder) finish(topic Topic, key []byte) error {
	need := requiredMask[topic]
	for _, c := range conditions[topic] {
		if d.ev.code(c.field) == c.code {
			need |= c.mask
		}
	}
	if d.bad != 0 || need&^d.good != 0 {
		return d.explain(topic)
	}
	if d.keyCheck && !bytes.Equal(key, d.ev.ShopID) {
		return &DecodeError{Reason: ReasonKeyMismatch, Field: "shop_id",
			Detail: fmt.Sprintf("record key %q is not shop_id %q", key, d.ev.ShopID)}
	}
	return nil
}

// explain runs the table-driven validator over the raw values to report
// the first broken rule in table order. It only runs for invalid records.
func (d *Decoder) explain(topic Topic) error {
	*d.ev = Event{Topic: topic}
	if err := d.validate(topicRules[topic], d.ev); err != nil {
		return err
	}
	// Unreachable unless the fast path and the tables disagree; failing
	// loudly beats accepting a record the fast path found broken.
	return &DecodeError{Reason: ReasonNotJSON, Detail: "schemas: internal inconsistency, please report"}
}

func notJSON(value []byte, pos int) *DecodeError {
	if pos >= len(value) {
		return &DecodeError{Reason: ReasonNotJSON, Detail: fmt.Sprintf("unexpected end of input at offset %d", pos)}
	}
	return &DecodeError{Reason: ReasonNotJSON, Detail: fmt.Sprintf("invalid JSON or UTF-8 at offset %d (byte %#02x); a record must be one JSON object", pos, value[pos])}
}

// lexObject checks that data is exactly one JSON object and stores the
// values of the fields in mask. It returns the failing position on error.
//
// It is the hot loop, deliberately one function: the common member — a
// plain known key, then a plain string for a string field — runs without
// a call, because Go's calling convention spills every live register at a
// call, which at ~12 members per record cost more than the scanning. All
// else (escapes, non-ASCII, numbers, enums, literals, unknown fields,
// whitespace) leaves the fast path through a call.
func (d *Decoder) lexObject(data []byte, mask uint32) (int, bool) {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return i, false
	}
	if i = skipWS(data, i+1); i < len(data) && data[i] == '}' {
		return lexEnd(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return i, false
		}
		// Key: a plain key ending within 16 bytes is hashed as words
		// (keys.go); anything else goes to lexKey.
		i++
		end, id, known, ok := -1, fieldID(0), false, false
		if i+16 <= len(data) {
			b := data[i : i+16]
			w0, w1 := binary.LittleEndian.Uint64(b), uint64(0)
			if m := careMask(w0); m != 0 {
				p := bits.TrailingZeros64(m) >> 3
				end, w0 = i+p, lowBytes(w0, p)
			} else if w1 = binary.LittleEndian.Uint64(b[8:]); careMask(w1) != 0 {
				p := bits.TrailingZeros64(careMask(w1)) >> 3
				end, w1 = i+8+p, lowBytes(w1, p)
			}
			if end >= 0 && data[end] == '"' {
				s := &keyTable[keyHash(w0, keyMul)]
				id, known, i = s.id, s.w0 == w0 && s.w1 == w1, end+1
			} else {
				end = -1
			}
		}
		if end < 0 {
			if i, id, known, ok = d.lexKey(data, i); !ok {
				return i, false
			}
		}
		if i < len(data) && data[i] <= ' ' {
			i = skipWS(data, i)
		}
		if i >= len(data) || data[i] != ':' {
			return i, false
		}
		if i++; i < len(data) && data[i] <= ' ' {
			i = skipWS(data, i)
		}
		// Value.
		switch {
		case !known || mask&(1<<id) == 0:
			i, ok = skipValue(data, i, 0)
		case i < len(data) && data[i] == '"' && d.rules[id].kind == kindString:
			// Plain-string fast path: the closing quote, 8 bytes at a time.
			j := i + 1
			for ; j+8 <= len(data); j += 8 {
				if m := careMask(binary.LittleEndian.Uint64(data[j:])); m != 0 {
					j += bits.TrailingZeros64(m) >> 3
					break
				}
			}
			if j < len(data) && data[j] == '"' && j > i+1 {
				d.storePlain(id, data[i+1:j:j])
				i, ok = j+1, true
			} else {
				i, ok = d.lexValue(data, i, id) // rescan from the start
			}
		default:
			i, ok = d.lexValue(data, i, id)
		}
		if !ok {
			return i, false
		}
		// Separator.
		if i < len(data) && data[i] <= ' ' {
			i = skipWS(data, i)
		}
		if i >= len(data) {
			return i, false
		}
		switch data[i] {
		case ',':
			if i++; i < len(data) && data[i] <= ' ' {
				i = skipWS(data, i)
			}
		case '}':
			return lexEnd(data, i+1)
		default:
			return i, false
		}
	}
}

// lexEnd rejects anything but whitespace after the object.
func lexEnd(data []byte, i int) (int, bool) {
	i = skipWS(data, i)
	return i, i == len(data)
}

// lexKey scans a key the fast path could not match (escaped, longer than
// 16 bytes, or at the end of the record). i is after the opening quote.
func (d *Decoder) lexKey(data []byte, i int) (end int, id fieldID, known, ok bool) {
	end, escaped, ok := scanString(data, i)
	if !ok {
		return end, 0, false, false
	}
	id, known = d.lookupKey(data[i:end-1], escaped)
	return end, id, known, true
}

// lookupKey finds the field of a raw key. Escaped keys are legal JSON
// ("\u0074s" is "ts"), so they are unescaped into the tail of scratch,
// which is given back right after the lookup.
func (d *Decoder) lookupKey(raw []byte, escaped bool) (fieldID, bool) {
	if !escaped {
		return lookupField(raw)
	}
	mark := len(d.scratch)
	d.scratch = appendUnescaped(d.scratch, raw)
	id, ok := lookupField(d.scratch[mark:])
	d.scratch = d.scratch[:mark]
	return id, ok
}

// lexValue lexes the value of known field id at data[i] and stores it.
func (d *Decoder) lexValue(data []byte, i int, id fieldID) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	v := d.field(id)
	switch data[i] {
	case '"':
		end, escaped, ok := scanString(data, i+1)
		if ok {
			d.lexString(id, v, data[i+1:end-1], escaped)
		}
		return end, ok
	case '{':
		d.storeKind(id, v, jsonObject)
		return skipValue(data, i, 0)
	case '[':
		d.storeKind(id, v, jsonArray)
		return skipValue(data, i, 0)
	case 't':
		d.storeKind(id, v, jsonTrue)
		return literal(data, i, "true")
	case 'f':
		d.storeKind(id, v, jsonFalse)
		return literal(data, i, "false")
	case 'n':
		d.storeKind(id, v, jsonNull)
		return literal(data, i, "null")
	}
	end, num, flags, ok := scanNumber(data, i)
	d.storeNumber(id, v, num, flags)
	return end, ok
}

// lexString stores a string value. An escaped one is unescaped into
// scratch, except text, which nobody reads: it is only validated.
func (d *Decoder) lexString(id fieldID, v *rawVal, raw []byte, escaped bool) {
	if !escaped || id == fText {
		d.storeString(id, v, raw[:len(raw):len(raw)])
		return
	}
	v.off = uint32(len(d.scratch))
	d.scratch = appendUnescaped(d.scratch, raw)
	v.end = uint32(len(d.scratch))
	d.inScr |= 1 << id
	d.storeString(id, v, d.scratch[v.off:v.end]) // fixScratch re-points it
}

// fixScratch points the fields unescaped into scratch at its final array,
// now that it has stopped growing.
func (d *Decoder) fixScratch() {
	for m := d.inScr; m != 0; m &= m - 1 {
		id := fieldID(bits.TrailingZeros32(m))
		v := &d.vals[id]
		v.str = d.scratch[v.off:v.end:v.end]
		if d.good&(1<<id) != 0 && d.rules[id].kind == kindString {
			*d.ev.view(id) = v.str
		}
	}
}
