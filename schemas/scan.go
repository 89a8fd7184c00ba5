package schemas

import (
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the JSON lexer of the decoder. Every function takes the
// whole record and a position and returns the position after what it
// consumed; on a syntax error it returns ok=false and the position of the
// offending byte, which ends up in the not_json detail.

// maxDepth bounds the nesting of unknown values we skip, so that a hostile
// record cannot make the recursive skipper use unbounded stack.
const maxDepth = 512

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// careMask flags (in bit 7 of each byte) the bytes of w that end a run of
// plain string content: a quote, a backslash, a control character or a
// non-ASCII byte. Only the lowest flag is exact (a borrow can set flags
// above it), which is all skipPlain needs.
//
// It is the usual "has zero byte" test, (t-0x01..)&^t, simplified: the
// &^t only matters for bytes >= 0x80, which the final |w flags anyway, and
// (w-0x20..)&^w | w equals (w-0x20..) | w. Nine ALU operations per 8 bytes.
func careMask(w uint64) uint64 {
	// Parenthesised in full: in Go, -, | and ^ share one precedence level.
	quote := (w ^ (lsb * '"')) - lsb
	bslash := (w ^ (lsb * '\\')) - lsb
	ctrl := w - lsb*0x20
	return (quote | bslash | ctrl | w) & msb
}

// skipPlain returns the index of the first byte at or after i that is not
// plain printable ASCII other than quote and backslash, or len(data). It
// looks at 8 bytes per step, which matters for the long ASCII runs of ids.
func skipPlain(data []byte, i int) int {
	for ; i+8 <= len(data); i += 8 {
		if m := careMask(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(data) && data[i] >= 0x20 && data[i] < utf8.RuneSelf && data[i] != '"' && data[i] != '\\' {
		i++
	}
	return i
}

// skipWS skips JSON whitespace. Producers mostly send compact JSON, so the
// first test (every whitespace byte is <= ' ') usually ends it at once.
func skipWS(data []byte, i int) int {
	for i < len(data) && data[i] <= ' ' && isWS(data[i]) {
		i++
	}
	return i
}

func isWS(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// scanString validates a string whose opening quote is at data[i-1] and
// returns the index after its closing quote, and whether it holds escapes.
// It rejects control characters, bad escapes and invalid UTF-8. The SWAR
// loop of skipPlain is repeated here because the call, which the compiler
// does not inline, costs as much as scanning a short key.
func scanString(data []byte, i int) (end int, escaped, ok bool) {
	for {
		for ; i+8 <= len(data); i += 8 {
			if m := careMask(binary.LittleEndian.Uint64(data[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
		}
		if i+8 > len(data) { // the last few bytes of the record
			if i = skipPlain(data, i); i >= len(data) {
				return i, escaped, false
			}
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			n := escapeLen(data, i)
			if n == 0 {
				return i, escaped, false
			}
			escaped = true
			i += n
		case c < 0x20:
			return i, escaped, false
		default:
			n := skipMultiByte(data, i)
			if n == i {
				return i, escaped, false
			}
			i = n
		}
	}
}

// skipMultiByte consumes a run of valid non-ASCII UTF-8 sequences at
// data[i] and returns the index after it (i when the first one is
// invalid). Chinese text is runs of three-byte sequences, so those are
// checked by mask, two per 64-bit load while they last: lead 1110xxxx,
// then two 10xxxxxx. Leads E0 and ED allow only part of the second byte's
// range (no overlongs, no surrogates), so they, and everything else, go
// through utf8.DecodeRune.
func skipMultiByte(data []byte, i int) int {
	for i+8 <= len(data) {
		w := binary.LittleEndian.Uint64(data[i:])
		if w&0xC0C0F0_C0C0F0 != 0x8080E0_8080E0 || !plainLead3(w) || !plainLead3(w>>24) {
			break
		}
		i += 6
	}
	for i < len(data) && data[i] >= utf8.RuneSelf {
		if i+4 <= len(data) {
			if w := uint64(binary.LittleEndian.Uint32(data[i:])); w&0xC0C0F0 == 0x8080E0 && plainLead3(w) {
				i += 3
				continue
			}
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return i
}

// plainLead3 reports whether the low byte of w, a three-byte lead
// E0..EF, is one whose second byte may be any continuation byte: all but
// E0 and ED. Bit k of 0xDFFE is set for the allowed low nibbles k.
func plainLead3(w uint64) bool { return 0xDFFE>>(w&0xF)&1 != 0 }

// escapeLen returns the length of the escape sequence at data[i] (a
// backslash), or 0 when it is not valid JSON. Table lookups keep it small
// enough to inline: producers that escape all non-ASCII (Python's default)
// put one of these every six bytes.
func escapeLen(data []byte, i int) int {
	if i+1 >= len(data) {
		return 0
	}
	n := int(escapeLens[data[i+1]])
	if n == 6 && (i+6 > len(data) || hexVal[data[i+2]]|hexVal[data[i+3]]|hexVal[data[i+4]]|hexVal[data[i+5]] < 0) {
		return 0
	}
	return n
}

// escapeLens maps the byte after a backslash to the escape's length.
var escapeLens = [256]uint8{'"': 2, '\\': 2, '/': 2, 'b': 2, 'f': 2, 'n': 2, 'r': 2, 't': 2, 'u': 6}

// hexVal maps a hex digit to its value and anything else to -1.
var hexVal = func() (t [256]int8) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = int8(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = int8(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			t[c] = int8(c - 'A' + 10)
		default:
			t[c] = -1
		}
	}
	return t
}()

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	h0, h1, h2, h3 := hexVal[b[0]], hexVal[b[1]], hexVal[b[2]], hexVal[b[3]]
	if h0|h1|h2|h3 < 0 {
		return -1
	}
	return rune(h0)<<12 | rune(h1)<<8 | rune(h2)<<4 | rune(h3)
}

// appendUnescaped appends the decoded content of a string body that
// scanString has already validated. Surrogates are handled like
// encoding/json: a valid pair becomes one rune, anything else U+FFFD.
func appendUnescaped(dst, s []byte) []byte {
	for len(s) > 0 {
		j := 0
		for j < len(s) && s[j] != '\\' {
			j++
		}
		dst = append(dst, s[:j]...)
		if j == len(s) {
			break
		}
		var r rune
		r, s = unescapeOne(s[j+1:])
		if r < utf8.RuneSelf {
			dst = append(dst, byte(r))
		} else {
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// unescapeOne decodes the escape whose backslash precedes s and returns the
// rune and the rest of s.
func unescapeOne(s []byte) (rune, []byte) {
	switch s[0] {
	case 'b':
		return '\b', s[1:]
	case 'f':
		return '\f', s[1:]
	case 'n':
		return '\n', s[1:]
	case 'r':
		return '\r', s[1:]
	case 't':
		return '\t', s[1:]
	case 'u':
		r := hex4(s[1:5])
		s = s[5:]
		if !utf16.IsSurrogate(r) {
			return r, s
		}
		if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
			if dec := utf16.DecodeRune(r, hex4(s[2:6])); dec != unicode.ReplacementChar {
				return dec, s[6:]
			}
		}
		return unicode.ReplacementChar, s
	}
	return rune(s[0]), s[1:] // '"', '\\', '/'
}

// Number flags.
const (
	numFrac     uint8 = 1 << iota // has a fraction or an exponent
	numOverflow                   // an integer outside int64
)

// scanNumber validates the JSON number at data[i] and, when it is an
// integer, also computes its value in the same pass.
func scanNumber(data []byte, i int) (end int, v int64, flags uint8, ok bool) {
	neg := i < len(data) && data[i] == '-'
	if neg {
		i++
	}
	if i >= len(data) || !isDigit(data[i]) {
		return i, 0, 0, false
	}
	start := i
	var u uint64 // wraps harmlessly past 19 digits; the count catches that
	if data[i] == '0' {
		i++ // JSON forbids leading zeros: "01" fails at the caller's delimiter check
	} else {
		for ; i < len(data) && isDigit(data[i]); i++ {
			u = u*10 + uint64(data[i]-'0')
		}
	}
	digits := i - start
	if i < len(data) && data[i] == '.' {
		flags |= numFrac
		if i = skipDigits(data, i+1); i < 0 {
			return -i, 0, 0, false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		flags |= numFrac
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i = skipDigits(data, i); i < 0 {
			return -i, 0, 0, false
		}
	}
	if flags != 0 {
		return i, 0, flags, true
	}
	v, ok = toInt64(u, neg, digits)
	if !ok {
		flags = numOverflow
	}
	return i, v, flags, true
}

// toInt64 applies the sign to a magnitude of the given number of decimal
// digits (at most 19 digits always fit in a uint64).
func toInt64(u uint64, neg bool, digits int) (int64, bool) {
	switch {
	case digits > 19:
		return 0, false
	case neg && u <= 1<<63:
		return int64(-u), true // -u wraps to the right two's-complement value
	case !neg && u <= maxInt64:
		return int64(u), true
	}
	return 0, false
}

// skipDigits consumes one or more digits from data[i]. On failure it
// returns minus the failing position, keeping the happy path to one value.
func skipDigits(data []byte, i int) int {
	start := i
	for i < len(data) && isDigit(data[i]) {
		i++
	}
	if i == start {
		return -i
	}
	return i
}

func isDigit(c byte) bool { return c-'0' < 10 }

// skipValue validates any JSON value at data[i] and returns the position
// after it. It is used for unknown fields and for known fields whose value
// is a container (which is always a wrong type).
func skipValue(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	switch c := data[i]; c {
	case '"':
		end, _, ok := scanString(data, i+1)
		return end, ok
	case '{', '[':
		if depth >= maxDepth {
			return i, false
		}
		return skipContainer(data, i, depth+1)
	case 't':
		return literal(data, i, "true")
	case 'f':
		return literal(data, i, "false")
	case 'n':
		return literal(data, i, "null")
	}
	end, _, _, ok := scanNumber(data, i)
	return end, ok
}

// skipContainer validates the object or array opening at data[i].
func skipContainer(data []byte, i, depth int) (int, bool) {
	isObj := data[i] == '{'
	closing := byte(']')
	if isObj {
		closing = '}'
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == closing {
		return i + 1, true
	}
	for {
		var ok bool
		if isObj {
			if i >= len(data) || data[i] != '"' {
				return i, false
			}
			if i, _, ok = scanString(data, i+1); !ok {
				return i, false
			}
			if i = skipWS(data, i); i >= len(data) || data[i] != ':' {
				return i, false
			}
			i = skipWS(data, i+1)
		}
		if i, ok = skipValue(data, i, depth); !ok {
			return i, false
		}
		i = skipWS(data, i)
		switch {
		case i >= len(data):
			return i, false
		case data[i] == ',':
			i = skipWS(data, i+1)
		case data[i] == closing:
			return i + 1, true
		default:
			return i, false
		}
	}
}

func literal(data []byte, i int, lit string) (int, bool) {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}
