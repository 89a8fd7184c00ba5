package sinks

import (
	"context"
	"fmt"

	"github.com/cspulse/cspulse/internal/failpoint"
	"github.com/cspulse/cspulse/tables"
)

// Buffer collects rows per table until Flush writes them. The pipeline
// decides when to flush (at each checkpoint); Buffer only keeps the
// rows until a Write succeeds, so a failed flush loses nothing and the next
// Flush sends the same rows again.
//
// Rows are kept as typed columns (tables.Rows): the metric core appends
// to them without boxing a value, and each column goes to the driver as
// one slice.
//
// A Buffer belongs to one goroutine (one task) and takes no locks.
type Buffer struct {
	w      RowWriter
	tables []*tables.Rows // in order of first use: flushes are deterministic
	byName map[string]*tables.Rows
}

// NewBuffer returns a Buffer that writes to w.
func NewBuffer(w RowWriter) *Buffer {
	return &Buffer{w: w, byName: map[string]*tables.Rows{}}
}

// Rows returns the rows of t to append to. All rows of one table name
// must use the same Table.Columns.
func (b *Buffer) Rows(t Table) *tables.Rows {
	r := b.byName[t.Name]
	if r == nil {
		r = tables.NewRows(t)
		b.byName[t.Name] = r
		b.tables = append(b.tables, r)
	}
	return r
}

// Add buffers one row of values of the columns' Go types: the untyped
// path, for rows read back from the changelog and for tests.
func (b *Buffer) Add(t Table, row []any) error {
	return b.Rows(t).Append(row)
}

// Append moves every row of other into b, table by table; other is left
// empty. Tasks fill buffers of their own in parallel and the checkpoint
// joins them, so each table still gets one INSERT.
func (b *Buffer) Append(other *Buffer) {
	for _, r := range other.tables {
		if err := b.Rows(r.Table).AppendRows(r); err != nil {
			// Rows of one table have one column type each: the core's
			// rows are built by one function per table.
			panic(fmt.Sprintf("sinks: %v", err))
		}
	}
}

// Len is the number of buffered rows over all tables.
func (b *Buffer) Len() int {
	n := 0
	for _, r := range b.tables {
		n += r.Len()
	}
	return n
}

// Tables returns the buffered rows, table by table in order of first use.
func (b *Buffer) Tables() []*tables.Rows { return b.tables }

// Flush writes the rows of each table with one Write per table, in order
// of first use. It stops at the first failing table: that table's rows
// and those of the tables after it stay buffered, the tables already
// written are dropped. Rewriting them on a retry would be harmless too
// (rows are whole and versioned), but it is not needed.
func (b *Buffer) Flush(ctx context.Context) error {
	for i, r := range b.tables {
		if r.Len() == 0 {
			continue
		}
		if err := b.w.Write(ctx, r); err != nil {
			return fmt.Errorf("flush %s: %w", r.Table.Name, err)
		}
		// New rows rather than the old ones emptied: the writer may still
		// hold the old columns.
		fresh := tables.NewRows(r.Table)
		b.tables[i], b.byName[r.Table.Name] = fresh, fresh
		failpoint.Hit(failpoint.CheckpointAfterInsert)
	}
	return nil
}

// Each calls fn for every buffered row, as values, table by table in order
// of first use: for tools and tests (it boxes every value).
func (b *Buffer) Each(fn func(t Table, row []any)) {
	for _, r := range b.tables {
		for i := range r.Len() {
			fn(r.Table, r.Row(i))
		}
	}
}
