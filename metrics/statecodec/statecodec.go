// Package statecodec holds the writer and reader of the metric core's
// changelog values: varints, strings, fixed-width words and a per-value
// table of names, with the first error kept. The families of package
// metrics lay out their own keys and values with it, next to their types.
package statecodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Writer appends values. Names go to a table of the value's own (Names,
// the engine's interned ids in order of first use); Base is the instant
// times are written relative to.
type Writer struct {
	B     []byte
	Base  int64
	Names []uint32
}

func (w *Writer) Byte(v byte)    { w.B = append(w.B, v) }
func (w *Writer) Uint(v uint64)  { w.B = binary.AppendUvarint(w.B, v) }
func (w *Writer) Int(v int64)    { w.B = binary.AppendVarint(w.B, v) }
func (w *Writer) Time(v int64)   { w.Int(v - w.Base) }
func (w *Writer) Str(s string)   { w.Uint(uint64(len(s))); w.B = append(w.B, s...) }
func (w *Writer) Fixed(v uint32) { w.B = binary.LittleEndian.AppendUint32(w.B, v) }

func (w *Writer) Bool(v bool) {
	if v {
		w.Byte(1)
	} else {
		w.Byte(0)
	}
}

// Name writes an interned id as its index in the value's table (0: the
// empty name); the table itself is written by the caller.
func (w *Writer) Name(id uint32) {
	if id == 0 {
		w.Uint(0)
		return
	}
	for i, x := range w.Names {
		if x == id {
			w.Uint(uint64(i + 1))
			return
		}
	}
	w.Names = append(w.Names, id)
	w.Uint(uint64(len(w.Names)))
}

// Reader reads values. The first error sticks (Err) and every later read
// returns zero, so decoding runs to its end and reports that error.
type Reader struct {
	B     []byte
	Base  int64
	Names []uint32 // the value's name table, as this engine's ids
	Err   error
	Ver   byte // the value's format version
}

// ErrTruncated is a value that ends before its last field.
var ErrTruncated = errors.New("truncated")

func (r *Reader) Fail(err error) {
	if r.Err == nil {
		r.Err = err
	}
	r.B = nil
}

func (r *Reader) Failf(format string, args ...any) { r.Fail(fmt.Errorf(format, args...)) }

func (r *Reader) Byte() byte {
	if len(r.B) == 0 {
		r.Fail(ErrTruncated)
		return 0
	}
	v := r.B[0]
	r.B = r.B[1:]
	return v
}

func (r *Reader) Uint() uint64 {
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Fail(ErrTruncated)
		return 0
	}
	r.B = r.B[n:]
	return v
}

func (r *Reader) Int() int64 {
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.Fail(ErrTruncated)
		return 0
	}
	r.B = r.B[n:]
	return v
}

func (r *Reader) Time() int64 { return r.Int() + r.Base }

func (r *Reader) Fixed() uint32 {
	if len(r.B) < 4 {
		r.Fail(ErrTruncated)
		return 0
	}
	v := binary.LittleEndian.Uint32(r.B)
	r.B = r.B[4:]
	return v
}

func (r *Reader) Bool() bool {
	switch b := r.Byte(); b {
	case 0, 1:
		return b == 1
	default:
		r.Failf("bad boolean %d", b)
		return false
	}
}

// UintMax reads a uvarint of at most max.
func (r *Reader) UintMax(max uint64, what string) uint64 {
	v := r.Uint()
	if v > max {
		r.Failf("%s %d out of range", what, v)
		return 0
	}
	return v
}

func (r *Reader) Int32(what string) int32 {
	v := r.Int()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.Failf("%s %d out of range", what, v)
		return 0
	}
	return int32(v)
}

func (r *Reader) Uint32(what string) uint32 {
	return uint32(r.UintMax(math.MaxUint32, what))
}

// Count reads a number of items, each of which takes at least a byte: a
// larger count than the bytes left is a truncated value.
func (r *Reader) Count() int {
	n := r.Uint()
	if n > uint64(len(r.B)) {
		r.Fail(fmt.Errorf("%w: %d items in %d bytes", ErrTruncated, n, len(r.B)))
		return 0
	}
	return int(n)
}

// Bytes reads a Str; the result points into the value.
func (r *Reader) Bytes() []byte {
	n := r.Count()
	v := r.B[:n:n]
	r.B = r.B[n:]
	return v
}

// Name reads a name reference as an id of Names.
func (r *Reader) Name() uint32 {
	i := r.UintMax(uint64(len(r.Names)), "name reference")
	if i == 0 {
		return 0
	}
	return r.Names[i-1]
}

// Version reads byte 0, the value's format version, which must be one of
// accepted.
func (r *Reader) Version(accepted ...byte) {
	r.Ver = r.Byte()
	if r.Err != nil {
		return
	}
	for _, v := range accepted {
		if r.Ver == v {
			return
		}
	}
	r.Failf("state format version %d; this build reads versions %v", r.Ver, accepted)
}

// Done reports the first error, or bytes left over.
func (r *Reader) Done() error {
	if r.Err == nil && len(r.B) > 0 {
		return fmt.Errorf("%d bytes after the value", len(r.B))
	}
	return r.Err
}
