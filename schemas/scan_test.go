package schemas

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// naivePlainEnd is the obvious definition skipPlain and careMask implement.
func naivePlainEnd(data []byte, i int) int {
	for i < len(data) && data[i] >= 0x20 && data[i] < utf8.RuneSelf && data[i] != '"' && data[i] != '\\' {
		i++
	}
	return i
}

// TestSkipPlainExhaustive puts every byte value at every position of a
// 16-byte window, after plain bytes and before other special bytes, so
// that borrows between lanes of the SWAR mask are exercised.
func TestSkipPlainExhaustive(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 16; pos++ {
			for _, after := range []byte{'a', '"', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff, '\\'} {
				buf := []byte(strings.Repeat("x", 20))
				buf[pos] = byte(c)
				for k := pos + 1; k < len(buf); k++ {
					buf[k] = after
				}
				for start := 0; start <= pos; start++ {
					if got, want := skipPlain(buf, start), naivePlainEnd(buf, start); got != want {
						t.Fatalf("skipPlain(%q, %d) = %d, want %d", buf, start, got, want)
					}
				}
			}
		}
	}
}

// TestScanString compares scanString's verdict with a simple
// reference for strings with every kind of byte and escape.
func TestScanString(t *testing.T) {
	parts := []string{"a", "é", "中", "😀", `\"`, `\\`, `\/`, `\b`, `\u00e9`, `\uD83D\uDE00`, "\x7f",
		`\x`, `\u12g`, `\uZZZZ`, "\x01", "\xff", "\xe4\xb8", "\xed\xa0\x80", "\xc0\xaf"}
	valid := func(p string) bool {
		switch p {
		case `\x`, `\u12g`, `\uZZZZ`, "\x01", "\xff", "\xe4\xb8", "\xed\xa0\x80", "\xc0\xaf":
			return false
		}
		return true
	}
	for _, a := range parts {
		for _, b := range parts {
			for _, pad := range []string{"", "0123456789abcdef"} {
				body := pad + a + b + pad
				data := []byte(`"` + body + `"}`)
				end, escaped, ok := scanString(data, 1)
				want := valid(a) && valid(b)
				if ok != want {
					t.Errorf("scanString(%q) ok = %v, want %v", data, ok, want)
				}
				if ok && (end != len(data)-1 || escaped != strings.Contains(body, `\`)) {
					t.Errorf("scanString(%q) = %d, %v", data, end, escaped)
				}
			}
		}
	}
}

func TestScanNumber(t *testing.T) {
	tests := []struct {
		in    string
		end   int
		v     int64
		flags uint8
		ok    bool
	}{
		{"0", 1, 0, 0, true}, {"-0", 2, 0, 0, true}, {"7,", 1, 7, 0, true}, {"-12}", 3, -12, 0, true},
		{"9223372036854775807", 19, 1<<63 - 1, 0, true},
		{"-9223372036854775808", 20, -1 << 63, 0, true},
		{"9223372036854775808", 19, 0, numOverflow, true},
		{"-9223372036854775809", 20, 0, numOverflow, true},
		{"18446744073709551615", 20, 0, numOverflow, true},
		{"99999999999999999999", 20, 0, numOverflow, true},
		{"1.5", 3, 0, numFrac, true}, {"1e5", 3, 0, numFrac, true}, {"1E+5", 4, 0, numFrac, true},
		{"1.0e-5", 6, 0, numFrac, true},
		{"-", 1, 0, 0, false}, {"1.", 2, 0, 0, false}, {"1e", 2, 0, 0, false}, {"1e+", 3, 0, 0, false},
		{".5", 0, 0, 0, false}, {"+1", 0, 0, 0, false},
		{"01", 1, 0, 0, true}, // "0", then the caller rejects the stray "1"
	}
	for _, tt := range tests {
		end, v, flags, ok := scanNumber([]byte(tt.in), 0)
		if ok != tt.ok || ok && (end != tt.end || v != tt.v || flags != tt.flags) {
			t.Errorf("scanNumber(%q) = %d, %d, %b, %v; want %d, %d, %b, %v",
				tt.in, end, v, flags, ok, tt.end, tt.v, tt.flags, tt.ok)
		}
	}
}

// TestKeyTable checks key matching on the hashed fast path (records long
// enough for a 16-byte window) and on the general path (a short record),
// and prints another multiplier if keyMul ever collides.
func TestKeyTable(t *testing.T) {
	if _, ok := buildKeyTable(keyMul); !ok {
		for seed := uint64(1); ; seed++ {
			if _, ok := buildKeyTable(splitmix(seed) | 1); ok {
				t.Fatalf("keyMul collides; use %#x", splitmix(seed)|1)
			}
		}
	}
	for _, pad := range []string{`,"padding_padding_padding":0`, ""} {
		for f := fieldID(0); f < numFields; f++ {
			if got := keyFields(t, fieldNames[f], pad); got != 1<<f {
				t.Errorf("key %q (pad %v): fields %b", fieldNames[f], pad != "", got)
			}
		}
		for _, k := range []string{"", "t", "tss", "event_i", "event_idd", "session_i", "session_idx",
			"Type", "from_agent_id_x", "content_typ", "tex\u0074x"} {
			if got := keyFields(t, k, pad); got != 0 {
				t.Errorf("key %q (pad %v) matched fields %b", k, pad != "", got)
			}
		}
	}
}

// keyFields lexes {"key":null<pad>} with every field known and returns
// the fields it recorded.
func keyFields(t *testing.T, key, pad string) uint32 {
	t.Helper()
	d := NewDecoder()
	var ev Event
	d.begin(TopicSessions, &ev)
	if _, ok := d.lexObject([]byte(`{"`+key+`":null`+pad+`}`), ^uint32(0)); !ok {
		t.Fatalf("lexObject failed for key %q", key)
	}
	return d.present
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

func TestViewPtr(t *testing.T) {
	var e Event
	n := 0
	for f := fieldID(0); f < numFields; f++ {
		if !isStringField(f) {
			continue
		}
		n++
		if e.viewPtr(f) != e.view(f) {
			t.Errorf("viewPtr(%s) differs from view", f)
		}
	}
	if n != len(e.views()) {
		t.Errorf("%d string fields, Event has %d views", n, len(e.views()))
	}
	for _, rules := range topicRules {
		for _, r := range rules {
			if (r.kind == kindString) != isStringField(r.id) {
				t.Errorf("%s: rule kind %d, isStringField %v", r.id, r.kind, isStringField(r.id))
			}
		}
	}
}

// naiveMultiByte is the definition skipMultiByte implements.
func naiveMultiByte(data []byte, i int) int {
	for i < len(data) && data[i] >= utf8.RuneSelf {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		i += n
	}
	return i
}

// TestSkipMultiByte checks every lead and two following bytes (the inline
// three-byte path), then random runs of two sequences and more (the 64-bit
// path), against utf8.DecodeRune.
func TestSkipMultiByte(t *testing.T) {
	buf := []byte("xxx\"0123456789")
	for lead := 0x80; lead < 0x100; lead++ {
		for b1 := 0; b1 < 0x100; b1++ {
			for b2 := 0; b2 < 0x100; b2++ {
				buf[0], buf[1], buf[2] = byte(lead), byte(b1), byte(b2)
				if got, want := skipMultiByte(buf, 0), naiveMultiByte(buf, 0); got != want {
					t.Fatalf("skipMultiByte(% x) = %d, want %d", buf[:3], got, want)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := []byte{0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 'a', '"'}
	for n := 0; n < 1_000_000; n++ {
		var run [14]byte
		for k := range run {
			if rng.IntN(2) == 0 {
				run[k] = pick[rng.IntN(len(pick))]
			} else {
				run[k] = byte(rng.IntN(256))
			}
		}
		data := append(append([]byte{}, "中文"...), run[:]...)
		if got, want := skipMultiByte(data, 0), naiveMultiByte(data, 0); got != want {
			t.Fatalf("skipMultiByte(% x) = %d, want %d", data, got, want)
		}
	}
}
