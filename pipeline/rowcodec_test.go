package pipeline

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/metrics"
	"github.com/cspulse/cspulse/sinks"
)

func ptr[T any](v T) *T { return &v }

// TestRowCodecRoundTrip: every value type a row may hold comes back as the
// same Go value, tables keep their columns, and the order of rows is kept.
func TestRowCodecRoundTrip(t *testing.T) {
	a := sinks.Table{Name: "a", Columns: []string{"s", "ss", "t", "u8", "u16", "u32", "u64", "i64", "i32", "f"}}
	b := sinks.Table{Name: "b", Columns: []string{"ps", "pu8", "pu16", "pu32", "pu64", "pi64", "pi32", "pf", "pt", "nil64", "nilu8", "nils"}}
	at := time.Date(2026, 3, 29, 1, 30, 0, 123_000_000, time.UTC)
	rowsA := [][]any{
		{"shop-1", []string{"a1", "甲"}, at, uint8(7), uint16(300), uint32(1 << 20), uint64(1<<63 + 5), int64(-42), int32(-7), 1.5},
		{"", []string{}, time.Unix(0, 0).UTC(), uint8(0), uint16(0), uint32(0), uint64(0), int64(0), int32(0), 0.0},
	}
	rowsB := [][]any{{ptr("x"), ptr(uint8(1)), ptr(uint16(2)), ptr(uint32(3)), ptr(uint64(4)), ptr(int64(-5)), ptr(int32(-6)),
		ptr(2.25), ptr(at), (*int64)(nil), (*uint8)(nil), (*string)(nil)}}
	in := sinks.NewBuffer(nil)
	for _, r := range append(rowsA, rowsB...) {
		tb := a
		if len(r) == len(b.Columns) {
			tb = b
		}
		if err := in.Add(tb, r); err != nil {
			t.Fatal(err)
		}
	}
	chunks, err := encodeRows(in)
	if err != nil {
		t.Fatal(err)
	}
	out := sinks.NewBuffer(nil)
	for _, c := range chunks {
		if err := decodeRows(c, out); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var gotRows [][]any
	out.Each(func(tb sinks.Table, row []any) {
		got = append(got, tb.Name+"("+strings.Join(tb.Columns, ",")+")")
		gotRows = append(gotRows, row)
	})
	want := []string{"a(" + strings.Join(a.Columns, ",") + ")", "a(" + strings.Join(a.Columns, ",") + ")", "b(" + strings.Join(b.Columns, ",") + ")"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tables = %v, want %v", got, want)
	}
	if wantRows := append(rowsA, rowsB...); !reflect.DeepEqual(gotRows, wantRows) {
		t.Fatalf("rows differ:\n got %#v\nwant %#v", gotRows, wantRows)
	}
}

// TestRowCodecChunks: many rows split into chunks of bounded size, each
// decodable alone, and together they hold every row once, in order.
func TestRowCodecChunks(t *testing.T) {
	tb := metrics.AgentHourlyTable
	in := sinks.NewBuffer(nil)
	const n = 20_000
	for i := range n {
		row := make([]any, len(tb.Columns))
		for j := range row {
			row[j] = uint64(i*100 + j)
		}
		row[0] = strings.Repeat("s", 20)
		in.Add(tb, row)
	}
	chunks, err := encodeRows(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) < 2 {
		t.Fatalf("%d rows made %d chunk(s); the test needs several", n, len(chunks))
	}
	out := sinks.NewBuffer(nil)
	for i, c := range chunks {
		if len(c) > rowChunkBytes+4096 {
			t.Errorf("chunk %d is %d bytes, over the bound %d", i, len(c), rowChunkBytes)
		}
		if err := decodeRows(c, out); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	if out.Len() != n {
		t.Fatalf("decoded %d rows, want %d", out.Len(), n)
	}
	i := 0
	out.Each(func(_ sinks.Table, row []any) {
		if row[1] != uint64(i*100+1) {
			t.Fatalf("row %d out of order: %v", i, row[1])
		}
		i++
	})
}

// TestRowCodecRejects: a type without an encoding is an error, not a
// silent loss; a truncated chunk is an error, not a short read.
func TestRowCodecRejects(t *testing.T) {
	in := sinks.NewBuffer(nil)
	if err := in.Add(sinks.Table{Name: "x", Columns: []string{"c"}}, []any{struct{}{}}); err == nil {
		t.Error("a struct value was buffered: no column type takes it")
	}
	in = sinks.NewBuffer(nil)
	in.Add(sinks.Table{Name: "x", Columns: []string{"c", "d"}}, []any{"abc", uint64(1)})
	chunks, err := encodeRows(in)
	if err != nil {
		t.Fatal(err)
	}
	for cut := 2; cut < len(chunks[0]); cut++ { // 1: the version byte alone, an empty chunk
		if err := decodeRows(chunks[0][:cut], sinks.NewBuffer(nil)); err == nil {
			t.Errorf("a chunk cut at %d of %d decoded without error", cut, len(chunks[0]))
		}
	}
}

// TestTaskStateVersions: the current task entry round-trips, an entry
// written before row versions were kept (version 1) still loads, and row
// versions only grow.
func TestTaskStateVersions(t *testing.T) {
	st := taskState{next: [6]int64{1, 2, 3, 4, 5, 6}, watermark: -9, version: 1_790_000_000_077, rowChunks: 3}
	got, err := decodeTaskState(st.encode())
	if err != nil || got != st {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, st)
	}
	v1 := []byte{taskStateV1}
	for _, n := range []int64{10, 20, 30, 40, 50, 1234} {
		v1 = appendVarint(v1, n)
	}
	got, err = decodeTaskState(v1)
	want := taskState{next: [6]int64{10, 20, 30, 40, 50}, watermark: 1234}
	if err != nil || got != want {
		t.Fatalf("version 1: %+v, %v; want %+v", got, err, want)
	}
	if _, err := decodeTaskState(v1[:len(v1)-1]); err == nil {
		t.Error("a truncated entry decoded")
	}
	now := time.UnixMilli(1_790_000_000_000)
	for _, c := range []struct{ last, want uint64 }{
		{0, 1_790_000_000_000},                 // a new lineage starts at the clock
		{1_789_999_999_000, 1_790_000_000_000}, // the clock moved on
		{1_790_000_000_500, 1_790_000_000_501}, // a clock behind the last version: still one more
	} {
		if got := nextVersion(c.last, now); got != c.want {
			t.Errorf("nextVersion(%d) = %d, want %d", c.last, got, c.want)
		}
	}
}

func appendVarint(b []byte, v int64) []byte {
	return binary.AppendVarint(b, v)
}

// BenchmarkEncodeRows: the cost of carrying a checkpoint's rows in the
// changelog, per row of cs_agent_hourly's shape.
func BenchmarkEncodeRows(b *testing.B) {
	tb := metrics.AgentHourlyTable
	in := sinks.NewBuffer(nil)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		row := []any{"shop-0001", "pre-sales", "shop-0001-a06", at, at, uint8(9)}
		for len(row) < len(tb.Columns)-2 {
			row = append(row, uint64(i))
		}
		row = append(row, int64(i*100), uint64(1796396735778))
		in.Add(tb, row)
	}
	b.ReportAllocs()
	var bytes int
	for b.Loop() {
		chunks, err := encodeRows(in)
		if err != nil {
			b.Fatal(err)
		}
		bytes = 0
		for _, c := range chunks {
			bytes += len(c)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10_000, "ns/row")
	b.ReportMetric(float64(bytes)/10_000, "bytes/row")
}
