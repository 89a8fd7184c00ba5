package schemas

import (
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// bytesOf views a string as bytes without copying; appendString only reads
// it.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// views lists the Event's []byte fields, for Clone.
func (e *Event) views() [13]*[]byte {
	return [...]*[]byte{
		&e.EventID, &e.ShopID, &e.SessionID, &e.BuyerID, &e.Channel, &e.TaskID, &e.RobotID,
		&e.Intent, &e.GroupID, &e.AgentID, &e.FromAgentID, &e.ContentType, &e.OrderID,
	}
}

// Clone returns a deep copy of e whose []byte fields no longer alias the
// decoder's buffers or the record, for code that keeps events past the next
// Decode. All fields share one allocation.
func (e *Event) Clone() Event {
	c := *e
	n := 0
	for _, p := range c.views() {
		n += len(*p)
	}
	buf := make([]byte, 0, n)
	for _, p := range c.views() {
		if *p == nil {
			continue
		}
		start := len(buf)
		buf = append(buf, *p...)
		*p = buf[start:len(buf):len(buf)]
	}
	return c
}

// AppendJSON appends the canonical JSON of e for its topic: the topic's
// fields in contract order, no whitespace, nil strings and zero enums
// omitted, is_ad only when true, ts/score/amount always. Decoding the
// result with the key e.ShopID gives back an equal Event. Fields that the
// topic does not define are not written, and neither is the message text,
// which Event does not hold (see AppendJSONWithText).
func AppendJSON(dst []byte, e *Event) []byte {
	return appendJSON(dst, e, nil)
}

// AppendJSONWithText is AppendJSON for a cs.messages event plus its text,
// which the synthetic generator needs for realistic record sizes. For other
// topics text is ignored.
func AppendJSONWithText(dst []byte, e *Event, text string) []byte {
	return appendJSON(dst, e, &text)
}

func appendJSON(dst []byte, e *Event, text *string) []byte {
	if !validTopic(e.Topic) {
		return append(dst, "{}"...)
	}
	dst = append(dst, '{')
	first := true
	for i := range topicRules[e.Topic] {
		r := &topicRules[e.Topic][i]
		n := len(dst)
		dst = appendField(dst, r, e, text, first)
		first = first && len(dst) == n
	}
	return append(dst, '}')
}

// appendField writes `"name":value` (with a leading comma unless first) or
// nothing when the field is to be omitted.
func appendField(dst []byte, r *fieldRule, e *Event, text *string, first bool) []byte {
	key := func(dst []byte) []byte {
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, r.id.String()...)
		return append(dst, '"', ':')
	}
	switch r.kind {
	case kindString:
		if v := *e.view(r.id); v != nil {
			dst = appendString(key(dst), v)
		}
	case kindSkip:
		if text != nil {
			dst = appendString(key(dst), bytesOf(*text))
		}
	case kindEnum:
		if c := e.code(r.id); c != 0 {
			dst = appendString(key(dst), bytesOf(enumName(r.enum, c)))
		}
	case kindInt:
		dst = strconv.AppendInt(key(dst), e.intField(r.id), 10)
	case kindBool:
		if e.IsAd {
			dst = append(key(dst), "true"...)
		}
	}
	return dst
}

func enumName(vals []enumValue, code uint8) string {
	for _, v := range vals {
		if v.code == code {
			return v.name
		}
	}
	return "" // a code outside the topic's set; decoding will reject it
}

func (e *Event) intField(f fieldID) int64 {
	switch f {
	case fTS:
		return e.TS
	case fScore:
		return int64(e.Score)
	}
	return e.Amount
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string with minimal escaping: quote,
// backslash and control characters. Raw UTF-8 stays raw (the decoder and
// every consumer handle it); invalid UTF-8 becomes U+FFFD, as in
// encoding/json, so the output is always valid.
func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || n != 1 {
				i += n
				continue
			}
		}
		dst = append(dst, s[start:i]...)
		dst = appendEscape(dst, c)
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscape writes the escape for one byte that cannot appear raw.
func appendEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if c >= utf8.RuneSelf { // a byte of invalid UTF-8
		return append(dst, `\ufffd`...)
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
