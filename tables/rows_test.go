package tables

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

var testTable = Table{Name: "t", Columns: []string{"s", "n", "at", "r"}}

// TestRowsTypedAndUntyped: rows built with the typed appends and with
// Append are the same rows, column by column, as the driver takes them.
func TestRowsTypedAndUntyped(t *testing.T) {
	at := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	five := uint8(5)
	typed := NewRows(testTable)
	typed.String("a")
	typed.UInt64(1)
	typed.Time(at)
	typed.NullUInt8(&five)
	typed.End()
	typed.String("b")
	typed.UInt64(2)
	typed.Time(at.Add(time.Hour))
	typed.NullUInt8(nil)
	typed.End()
	untyped, err := RowsOf(testTable, [][]any{{"a", uint64(1), at, &five}, {"b", uint64(2), at.Add(time.Hour), (*uint8)(nil)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Rows{typed, untyped} {
		if r.Len() != 2 {
			t.Fatalf("Len %d", r.Len())
		}
		if got := r.Column(1, 0, 2); !reflect.DeepEqual(got, []uint64{1, 2}) {
			t.Errorf("column n %#v", got)
		}
		if got := r.Column(0, 1, 2); !reflect.DeepEqual(got, []string{"b"}) {
			t.Errorf("column s of row 1 %#v", got)
		}
		if got := r.Row(1); !reflect.DeepEqual(got, []any{"b", uint64(2), at.Add(time.Hour), (*uint8)(nil)}) {
			t.Errorf("row 1 %#v", got)
		}
	}
}

// TestRowsRefuseMixedTypes: a column keeps the type of its first value;
// a row of another type, or of the wrong length, is refused whole.
func TestRowsRefuseMixedTypes(t *testing.T) {
	r, err := RowsOf(testTable, [][]any{{"a", uint64(1), time.Time{}, (*uint8)(nil)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Append([]any{"b", int64(2), time.Time{}, (*uint8)(nil)}); err == nil || !strings.Contains(err.Error(), "t.n") {
		t.Errorf("an int64 in a uint64 column: %v", err)
	}
	if err := r.Append([]any{"b"}); err == nil {
		t.Error("a short row was accepted")
	}
	if r.Len() != 1 || !reflect.DeepEqual(r.Column(0, 0, 1), []string{"a"}) {
		t.Errorf("a refused row left values behind: %d rows, %#v", r.Len(), r.Column(0, 0, r.Len()))
	}
	defer func() {
		if recover() == nil {
			t.Error("a typed append of the wrong type did not panic")
		}
	}()
	r.String("c")
	r.Int64(3)
}

// TestRowsEndChecksTheRow: a row ended early is a programming error.
func TestRowsEndChecksTheRow(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("End after 1 of 4 columns did not panic")
		}
	}()
	r := NewRows(testTable)
	r.String("a")
	r.End()
}

// TestAppendRows: rows of two buffers join, column by column.
func TestAppendRows(t *testing.T) {
	a, _ := RowsOf(testTable, [][]any{{"a", uint64(1), time.Time{}, (*uint8)(nil)}})
	b, _ := RowsOf(testTable, [][]any{{"b", uint64(2), time.Time{}, (*uint8)(nil)}, {"c", uint64(3), time.Time{}, (*uint8)(nil)}})
	if err := a.AppendRows(b); err != nil {
		t.Fatal(err)
	}
	if a.Len() != 3 || b.Len() != 0 || !reflect.DeepEqual(a.Column(0, 0, 3), []string{"a", "b", "c"}) {
		t.Errorf("joined %d rows (%#v), left %d", a.Len(), a.Column(0, 0, a.Len()), b.Len())
	}
	if err := a.AppendRows(NewRows(Table{Name: "other", Columns: []string{"x"}})); err == nil {
		t.Error("rows of another table were joined")
	}
}

// TestTypedAppendDoesNotAllocate: once a column has room, a typed append
// allocates nothing (the []any rows it replaces boxed every value).
func TestTypedAppendDoesNotAllocate(t *testing.T) {
	r := NewRows(testTable)
	at := time.Now()
	for range 1000 {
		r.String("s")
		r.UInt64(1)
		r.Time(at)
		r.NullUInt8(nil)
		r.End()
	}
	r.truncate(0)
	r.n = 0
	allocs := testing.AllocsPerRun(100, func() {
		r.String("s")
		r.UInt64(1)
		r.Time(at)
		r.NullUInt8(nil)
		r.End()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per row", allocs)
	}
}

// BenchmarkAgentRow builds cs_agent_hourly rows (27 columns) the way the
// engine did before typed columns (a []any per row, every value boxed)
// and the way it does now (typed appends into the table's columns).
func BenchmarkAgentRow(b *testing.B) {
	at := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	b.Run("boxed", func(b *testing.B) {
		b.ReportAllocs()
		rows := make([][]any, 0, b.N)
		for i := range b.N {
			row := make([]any, 0, len(AgentHourly.Columns))
			row = append(row, "shop-0001", "g1", "shop-0001-a01", at, at, uint8(11))
			for c := range 19 {
				row = append(row, uint64(i+c+1000))
			}
			rows = append(rows, append(row, int64(i+7000), uint64(i)))
		}
	})
	b.Run("typed", func(b *testing.B) {
		b.ReportAllocs()
		r := NewRows(AgentHourly)
		for i := range b.N {
			r.String("shop-0001")
			r.String("g1")
			r.String("shop-0001-a01")
			r.Time(at)
			r.Time(at)
			r.UInt8(11)
			for c := range 19 {
				r.UInt64(uint64(i + c + 1000))
			}
			r.Int64(int64(i + 7000))
			r.UInt64(uint64(i))
			r.End()
		}
	})
}
