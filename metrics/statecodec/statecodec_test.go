package statecodec

import (
	"errors"
	"math"
	"testing"
)

// TestRoundTrip: every value written is read back as it was, names as
// their ids through the value's table, times relative to Base.
func TestRoundTrip(t *testing.T) {
	w := Writer{Base: 1_000}
	w.Byte(7)
	w.Uint(math.MaxUint64)
	w.Int(math.MinInt64)
	w.Time(999)
	w.Str("店铺 shop")
	w.Fixed(0xdeadbeef)
	w.Bool(true)
	w.Name(42)
	w.Name(0)
	w.Name(42)
	w.Int(-5)
	if len(w.Names) != 1 || w.Names[0] != 42 {
		t.Fatalf("name table %v, want [42]", w.Names)
	}
	r := Reader{B: w.B, Base: 1_000, Names: w.Names}
	if v := r.Byte(); v != 7 {
		t.Errorf("byte %d", v)
	}
	if v := r.Uint(); v != math.MaxUint64 {
		t.Errorf("uint %d", v)
	}
	if v := r.Int(); v != math.MinInt64 {
		t.Errorf("int %d", v)
	}
	if v := r.Time(); v != 999 {
		t.Errorf("time %d", v)
	}
	if v := string(r.Bytes()); v != "店铺 shop" {
		t.Errorf("str %q", v)
	}
	if v := r.Fixed(); v != 0xdeadbeef {
		t.Errorf("fixed %x", v)
	}
	if !r.Bool() {
		t.Error("bool false")
	}
	if a, b, c := r.Name(), r.Name(), r.Name(); a != 42 || b != 0 || c != 42 {
		t.Errorf("names %d %d %d", a, b, c)
	}
	if v := r.Int32("small"); v != -5 {
		t.Errorf("int32 %d", v)
	}
	if err := r.Done(); err != nil {
		t.Error(err)
	}
}

// TestFirstErrorSticks: a read past the end, a bad boolean, an out of
// range number or a wrong version fail the value; later reads give zero
// and Done reports the first error.
func TestFirstErrorSticks(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		read func(r *Reader)
		want string
	}{
		{"truncated", []byte{0x80}, func(r *Reader) { r.Uint() }, "truncated"},
		{"bad bool", []byte{2, 1}, func(r *Reader) { r.Bool() }, "bad boolean 2"},
		{"range", []byte{0x80, 0x80, 0x80, 0x80, 0x10}, func(r *Reader) { r.Uint32("count") }, "count 4294967296 out of range"},
		{"count beyond the bytes", []byte{5, 1}, func(r *Reader) { r.Bytes() }, "truncated: 5 items in 1 bytes"},
		{"version", []byte{3}, func(r *Reader) { r.Version(1, 2) }, "state format version 3; this build reads versions [1 2]"},
		{"left over", []byte{1, 1}, func(r *Reader) { r.Byte() }, "1 bytes after the value"},
	} {
		r := Reader{B: tc.b}
		tc.read(&r)
		if tc.name != "left over" {
			if v := r.Uint(); v != 0 {
				t.Errorf("%s: a read after the error gave %d", tc.name, v)
			}
		}
		err := r.Done()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: Done() = %v, want %q", tc.name, err, tc.want)
		}
		if tc.name == "truncated" && !errors.Is(err, ErrTruncated) {
			t.Errorf("truncated: %v is not ErrTruncated", err)
		}
	}
}
