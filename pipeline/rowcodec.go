package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cspulse/cspulse/sinks"
)

// The rows of a checkpoint travel in the changelog with the state that
// produced them (write-ahead: docs/architecture.md, "Checkpoints"), so
// that a crash after the state write and before the insert leaves rows a
// restore can insert. The encoding is self-describing — table name,
// columns, then type-tagged values — so a restore needs nothing but the
// bytes, and a row is decoded to exactly the Go values that were encoded.

const rowsCodecVersion = 1

// Value tags. A pointer type is the value of a Nullable column; nil is
// NULL.
const (
	tagString byte = iota + 1
	tagStrings
	tagTime
	tagUint8
	tagUint16
	tagUint32
	tagUint64
	tagInt64
	tagInt32
	tagFloat64
	tagNull // followed by the tag of the pointer's type
	tagPtr  // followed by a tagged value
)

// rowChunkBytes bounds one encoded chunk: far below the brokers' default
// 1 MB message size, whatever the row mix.
const rowChunkBytes = 256 << 10

// encodeRows splits the rows of buf into chunks of at most about
// rowChunkBytes each (a single larger row makes a chunk of its own). The
// values are read from the typed columns (appendCell), not boxed.
func encodeRows(buf *sinks.Buffer) ([][]byte, error) {
	var chunks [][]byte
	var cur []byte         // the chunk being filled
	var curTable string    // its table
	var count, countAt int // rows of that table in it, and where their count goes
	finishTable := func() {
		if cur != nil && countAt > 0 {
			binary.BigEndian.PutUint32(cur[countAt:], uint32(count))
		}
	}
	startTable := func(t sinks.Table) {
		cur = appendString(cur, t.Name)
		cur = binary.AppendUvarint(cur, uint64(len(t.Columns)))
		for _, c := range t.Columns {
			cur = appendString(cur, c)
		}
		countAt = len(cur)
		cur = append(cur, 0, 0, 0, 0)
		count, curTable = 0, t.Name
	}
	var cols []any
	for _, rows := range buf.Tables() {
		t, n := rows.Table, rows.Len()
		cols = cols[:0]
		for c := range t.Columns {
			cols = append(cols, rows.Column(c, 0, n))
		}
		for i := range n {
			if cur == nil {
				cur = make([]byte, 1, min(rowChunkBytes+4<<10, 1+buf.Len()*160))
				cur[0] = rowsCodecVersion
				curTable, countAt = "", 0
			}
			if curTable != t.Name {
				finishTable()
				startTable(t)
			}
			for c, col := range cols {
				var err error
				if cur, err = appendCell(cur, col, i); err != nil {
					return nil, fmt.Errorf("encode %s row %d, column %s: %w", t.Name, i, t.Columns[c], err)
				}
			}
			count++
			if len(cur) >= rowChunkBytes {
				finishTable()
				chunks = append(chunks, cur)
				cur = nil
			}
		}
	}
	if cur != nil {
		finishTable()
		chunks = append(chunks, cur)
	}
	return chunks, nil
}

// decodeRows adds the rows of one chunk to buf.
func decodeRows(b []byte, buf *sinks.Buffer) error {
	if len(b) == 0 || b[0] != rowsCodecVersion {
		return errors.New("pending rows: unknown encoding version")
	}
	d := rowDecoder{b: b[1:]}
	for len(d.b) > 0 {
		var t sinks.Table
		t.Name = d.string()
		cols := d.uvarint()
		if d.err == nil && cols > 1024 {
			d.err = fmt.Errorf("%d columns", cols)
		}
		for range int(cols) {
			t.Columns = append(t.Columns, d.string())
		}
		n := d.uint32()
		for range int(n) {
			row := make([]any, len(t.Columns))
			for i := range row {
				row[i] = d.value()
			}
			if d.err != nil {
				break
			}
			if err := buf.Add(t, row); err != nil {
				return fmt.Errorf("pending rows: %w", err)
			}
		}
		if d.err != nil {
			return fmt.Errorf("pending rows of %s: %w", t.Name, d.err)
		}
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendCell appends row i of a typed column (the slices tables.Rows
// hands out) with the same tags as appendValue, without boxing the value.
func appendCell(b []byte, col any, i int) ([]byte, error) {
	switch s := col.(type) {
	case []string:
		return appendString(append(b, tagString), s[i]), nil
	case [][]string:
		b = binary.AppendUvarint(append(b, tagStrings), uint64(len(s[i])))
		for _, x := range s[i] {
			b = appendString(b, x)
		}
		return b, nil
	case []time.Time:
		return binary.AppendVarint(append(b, tagTime), s[i].UnixNano()), nil
	case []uint8:
		return append(b, tagUint8, s[i]), nil
	case []uint16:
		return binary.AppendUvarint(append(b, tagUint16), uint64(s[i])), nil
	case []uint32:
		return binary.AppendUvarint(append(b, tagUint32), uint64(s[i])), nil
	case []uint64:
		return binary.AppendUvarint(append(b, tagUint64), s[i]), nil
	case []int64:
		return binary.AppendVarint(append(b, tagInt64), s[i]), nil
	case []int32:
		return binary.AppendVarint(append(b, tagInt32), int64(s[i])), nil
	case []float64:
		return binary.BigEndian.AppendUint64(append(b, tagFloat64), math.Float64bits(s[i])), nil
	case []*string:
		return appendPtr(b, s[i], tagString)
	case []*uint8:
		return appendPtr(b, s[i], tagUint8)
	case []*uint16:
		return appendPtr(b, s[i], tagUint16)
	case []*uint32:
		return appendPtr(b, s[i], tagUint32)
	case []*uint64:
		return appendPtr(b, s[i], tagUint64)
	case []*int64:
		return appendPtr(b, s[i], tagInt64)
	case []*int32:
		return appendPtr(b, s[i], tagInt32)
	case []*float64:
		return appendPtr(b, s[i], tagFloat64)
	case []*time.Time:
		return appendPtr(b, s[i], tagTime)
	}
	return nil, fmt.Errorf("a column of %T has no encoding", col)
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(append(b, tagString), x), nil
	case []string:
		b = binary.AppendUvarint(append(b, tagStrings), uint64(len(x)))
		for _, s := range x {
			b = appendString(b, s)
		}
		return b, nil
	case time.Time:
		return binary.AppendVarint(append(b, tagTime), x.UnixNano()), nil
	case uint8:
		return append(b, tagUint8, x), nil
	case uint16:
		return binary.AppendUvarint(append(b, tagUint16), uint64(x)), nil
	case uint32:
		return binary.AppendUvarint(append(b, tagUint32), uint64(x)), nil
	case uint64:
		return binary.AppendUvarint(append(b, tagUint64), x), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt64), x), nil
	case int32:
		return binary.AppendVarint(append(b, tagInt32), int64(x)), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, tagFloat64), math.Float64bits(x)), nil
	case *string:
		return appendPtr(b, x, tagString)
	case *uint8:
		return appendPtr(b, x, tagUint8)
	case *uint16:
		return appendPtr(b, x, tagUint16)
	case *uint32:
		return appendPtr(b, x, tagUint32)
	case *uint64:
		return appendPtr(b, x, tagUint64)
	case *int64:
		return appendPtr(b, x, tagInt64)
	case *int32:
		return appendPtr(b, x, tagInt32)
	case *float64:
		return appendPtr(b, x, tagFloat64)
	case *time.Time:
		return appendPtr(b, x, tagTime)
	}
	return nil, fmt.Errorf("value of type %T has no encoding", v)
}

func appendPtr[T any](b []byte, p *T, tag byte) ([]byte, error) {
	if p == nil {
		return append(b, tagNull, tag), nil
	}
	return appendValue(append(b, tagPtr), *p)
}

type rowDecoder struct {
	b   []byte
	err error
}

func (d *rowDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("truncated %s", what)
	}
	d.b = nil
}

func (d *rowDecoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("value")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *rowDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *rowDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *rowDecoder) uint32() uint32 {
	if len(d.b) < 4 {
		d.fail("row count")
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *rowDecoder) string() string {
	n := d.uvarint()
	if uint64(len(d.b)) < n {
		d.fail("string")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *rowDecoder) value() any {
	tag := d.byte()
	switch tag {
	case tagNull:
		return nullOf(d.byte(), d)
	case tagPtr:
		return pointerTo(d.value(), d)
	}
	return d.scalar(tag)
}

func (d *rowDecoder) scalar(tag byte) any {
	switch tag {
	case tagString:
		return d.string()
	case tagStrings:
		n := d.uvarint()
		if uint64(len(d.b)) < n {
			d.fail("array")
			return []string(nil)
		}
		ss := make([]string, n)
		for i := range ss {
			ss[i] = d.string()
		}
		return ss
	case tagTime:
		return time.Unix(0, d.varint()).UTC()
	case tagUint8:
		return d.byte()
	case tagUint16:
		return uint16(d.uvarint())
	case tagUint32:
		return uint32(d.uvarint())
	case tagUint64:
		return d.uvarint()
	case tagInt64:
		return d.varint()
	case tagInt32:
		return int32(d.varint())
	case tagFloat64:
		if len(d.b) < 8 {
			d.fail("float")
			return 0.0
		}
		v := math.Float64frombits(binary.BigEndian.Uint64(d.b))
		d.b = d.b[8:]
		return v
	}
	if d.err == nil {
		d.err = fmt.Errorf("unknown value tag %d", tag)
	}
	d.b = nil
	return nil
}

func nullOf(tag byte, d *rowDecoder) any {
	switch tag {
	case tagString:
		return (*string)(nil)
	case tagUint8:
		return (*uint8)(nil)
	case tagUint16:
		return (*uint16)(nil)
	case tagUint32:
		return (*uint32)(nil)
	case tagUint64:
		return (*uint64)(nil)
	case tagInt64:
		return (*int64)(nil)
	case tagInt32:
		return (*int32)(nil)
	case tagFloat64:
		return (*float64)(nil)
	case tagTime:
		return (*time.Time)(nil)
	}
	if d.err == nil {
		d.err = fmt.Errorf("unknown NULL tag %d", tag)
	}
	return nil
}

func pointerTo(v any, d *rowDecoder) any {
	switch x := v.(type) {
	case string:
		return &x
	case uint8:
		return &x
	case uint16:
		return &x
	case uint32:
		return &x
	case uint64:
		return &x
	case int64:
		return &x
	case int32:
		return &x
	case float64:
		return &x
	case time.Time:
		return &x
	}
	if d.err == nil {
		d.err = fmt.Errorf("no pointer form for %T", v)
	}
	return nil
}
