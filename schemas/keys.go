package schemas

import "encoding/binary"

// Known keys are matched as little-endian words. lexObject finds a plain
// key's closing quote with the SWAR mask; the key's first 8 bytes (w0) and
// the next 8 (w1), zero-padded, then identify it through a perfect hash
// table: one multiply, one load, two compares, no call. A key's bytes are
// never zero (raw control characters are invalid JSON), so the padded
// words also fix its length. Keys longer than 16 bytes, escaped keys and
// keys at the very end of a record go through lookupField instead.

type keySlot struct {
	w0, w1 uint64
	id     fieldID
}

const (
	keyHashBits = 6
	// keyMul hashes the 23 known keys into 64 slots without collision. If
	// a new field collides, init panics; pick another odd constant (the
	// search in TestKeyTable prints one).
	keyMul = 0x6ba8674fe24001fb
	// noKey marks an empty slot: 0xFF bytes never occur in a plain key,
	// because the SWAR mask stops at any byte >= 0x80.
	noKey = ^uint64(0)
)

var keyTable = *mustKeyTable(keyMul) // an array, not a pointer: no nil check per key

func keyHash(w0, mul uint64) uint64 { return (w0 * mul) >> (64 - keyHashBits) }

// keyWords returns the padded words of a key of up to 16 bytes.
func keyWords(key string) (w0, w1 uint64) {
	var buf [16]byte
	copy(buf[:], key)
	return binary.LittleEndian.Uint64(buf[:8]), binary.LittleEndian.Uint64(buf[8:])
}

func mustKeyTable(mul uint64) *[1 << keyHashBits]keySlot {
	t, ok := buildKeyTable(mul)
	if !ok {
		panic("schemas: keyMul collides; see keys.go")
	}
	return t
}

func buildKeyTable(mul uint64) (*[1 << keyHashBits]keySlot, bool) {
	var t [1 << keyHashBits]keySlot
	for i := range t {
		t[i].w0 = noKey
	}
	for f := fieldID(0); f < numFields; f++ {
		w0, w1 := keyWords(fieldNames[f])
		s := &t[keyHash(w0, mul)]
		if s.w0 != noKey {
			return nil, false
		}
		*s = keySlot{w0, w1, f}
	}
	return &t, true
}

// lowBytes keeps the lowest n (0..7) bytes of w. The &63 tells the
// compiler the shift is in range, sparing it the shift-overflow fixup.
func lowBytes(w uint64, n int) uint64 { return w & (1<<(8*uint(n)&63) - 1) }
