package sinks

import (
	"context"
	"fmt"

	"github.com/cspulse/cspulse/internal/failpoint"
)

// Buffer collects rows per table until Flush writes them. The pipeline
// decides when to flush (at each checkpoint); Buffer only keeps the
// rows until a Write succeeds, so a failed flush loses nothing and the next
// Flush sends the same rows again.
//
// A Buffer belongs to one goroutine (one task) and takes no locks.
type Buffer struct {
	w      RowWriter
	tables []*bufferedTable // in order of first Add: flushes are deterministic
	byName map[string]*bufferedTable
	n      int
}

type bufferedTable struct {
	t    Table
	rows [][]any
}

// NewBuffer returns a Buffer that writes to w.
func NewBuffer(w RowWriter) *Buffer {
	return &Buffer{w: w, byName: map[string]*bufferedTable{}}
}

// Add buffers row for t and takes ownership of it. All rows of one table
// name must use the same Table.Columns.
func (b *Buffer) Add(t Table, row []any) {
	bt := b.byName[t.Name]
	if bt == nil {
		bt = &bufferedTable{t: t}
		b.byName[t.Name] = bt
		b.tables = append(b.tables, bt)
	}
	bt.rows = append(bt.rows, row)
	b.n++
}

// Append moves every row of other into b, table by table; other is left
// empty. Tasks fill buffers of their own in parallel and the checkpoint
// joins them, so each table still gets one INSERT.
func (b *Buffer) Append(other *Buffer) {
	for _, bt := range other.tables {
		for _, row := range bt.rows {
			b.Add(bt.t, row)
		}
		bt.rows = nil
	}
	other.n = 0
}

// Len is the number of buffered rows over all tables.
func (b *Buffer) Len() int { return b.n }

// Flush writes the rows of each table with one Write per table, in order
// of first Add. It stops at the first failing table: that table's rows and
// those of the tables after it stay buffered, the tables already written are
// dropped. Rewriting them on a retry would be harmless too (rows are whole
// and versioned), but it is not needed.
func (b *Buffer) Flush(ctx context.Context) error {
	for _, bt := range b.tables {
		if len(bt.rows) == 0 {
			continue
		}
		if err := b.w.Write(ctx, bt.t, bt.rows); err != nil {
			return fmt.Errorf("flush %s: %w", bt.t.Name, err)
		}
		b.n -= len(bt.rows)
		// A new slice rather than rows[:0]: the writer may still hold the old one.
		bt.rows = nil
		failpoint.Hit(failpoint.CheckpointAfterInsert)
	}
	return nil
}

// Each calls fn for every buffered row, table by table in order of first
// Add.
func (b *Buffer) Each(fn func(t Table, row []any)) {
	for _, bt := range b.tables {
		for _, row := range bt.rows {
			fn(bt.t, row)
		}
	}
}
