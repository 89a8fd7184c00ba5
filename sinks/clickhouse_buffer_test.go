package sinks

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cspulse/cspulse/tables"
)

// failingRowWriter fails the next `failures` writes of table `table` (of
// every table when empty), then delegates to next.
type failingRowWriter struct {
	next     RowWriter
	table    string
	failures int
	calls    []string
}

var errInjected = errors.New("injected write failure")

func (f *failingRowWriter) Write(ctx context.Context, rows *tables.Rows) error {
	t := rows.Table
	f.calls = append(f.calls, t.Name)
	if f.failures > 0 && (f.table == "" || f.table == t.Name) {
		f.failures--
		return errInjected
	}
	if f.next == nil {
		return nil
	}
	return f.next.Write(ctx, rows)
}

func TestBufferKeepsRowsAfterFailedWrite(t *testing.T) {
	ctx := context.Background()
	ch := openMigrated(t, nil)
	w := &failingRowWriter{next: ch, failures: 1}
	b := NewBuffer(w)
	b.Add(agentHourlyTable, agentRow("a1", 1, 1))
	b.Add(agentHourlyTable, agentRow("a2", 1, 1))

	err := b.Flush(ctx)
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "flush cs_agent_hourly") {
		t.Fatalf("first Flush err = %v, want the injected failure with the table name", err)
	}
	if b.Len() != 2 {
		t.Fatalf("after failed Flush Len = %d, want 2", b.Len())
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("second Flush: %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("after Flush Len = %d, want 0", b.Len())
	}
	var n uint64
	if err := ch.Conn().QueryRow(ctx, "SELECT count() FROM "+ch.Database()+".cs_agent_hourly FINAL").Scan(&n); err != nil || n != 2 {
		t.Errorf("stored %d rows, %v; want 2", n, err)
	}
	if err := b.Flush(ctx); err != nil || len(w.calls) != 2 {
		t.Errorf("empty Flush: %v, %d writes in all; want no write", err, len(w.calls))
	}
}

func TestBufferFlushStopsAtFailingTable(t *testing.T) {
	a, c := Table{Name: "a", Columns: []string{"x"}}, Table{Name: "c", Columns: []string{"x"}}
	bT := Table{Name: "b", Columns: []string{"x"}}
	w := &failingRowWriter{table: "b", failures: 1}
	buf := NewBuffer(w)
	buf.Add(a, []any{uint64(1)})
	buf.Add(bT, []any{uint64(2)})
	buf.Add(c, []any{uint64(3)})
	buf.Add(a, []any{uint64(4)})

	if err := buf.Flush(context.Background()); !errors.Is(err, errInjected) {
		t.Fatalf("Flush err = %v", err)
	}
	if got := strings.Join(w.calls, ","); got != "a,b" {
		t.Errorf("writes = %s, want a,b (one per table, in order, stop at failure)", got)
	}
	if buf.Len() != 2 {
		t.Errorf("Len = %d, want 2: b and c stay, a is written", buf.Len())
	}
	if err := buf.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.calls, ","); got != "a,b,b,c" || buf.Len() != 0 {
		t.Errorf("writes = %s, Len %d; want a,b,b,c and 0", got, buf.Len())
	}
}

func TestBufferAppendKeepsOrderAndEmptiesTheOther(t *testing.T) {
	a, b := NewBuffer(nil), NewBuffer(nil)
	t1, t2 := Table{Name: "t1", Columns: []string{"x"}}, Table{Name: "t2", Columns: []string{"x"}}
	a.Add(t1, []any{uint64(1)})
	b.Add(t2, []any{uint64(2)})
	b.Add(t1, []any{uint64(3)})
	a.Append(b)
	if a.Len() != 3 || b.Len() != 0 {
		t.Fatalf("Len after Append: a=%d b=%d, want 3 and 0", a.Len(), b.Len())
	}
	if got := a.byName["t1"].Column(0, 0, 2); !reflect.DeepEqual(got, []uint64{1, 3}) {
		t.Errorf("t1 rows = %v, want [1 3]", got)
	}
	if len(a.tables) != 2 || a.tables[1].Table.Name != "t2" {
		t.Errorf("tables = %v, want t1 then t2", a.tables)
	}
}
