package tables

import (
	"fmt"
	"time"
)

// Rows holds rows of one table as typed columns, in the order of its
// Columns: the metric core appends each value with the method of its Go
// type (no boxing), and the ClickHouse writer hands each column to the
// driver as one slice. A column's type is set by its first value; a value
// of another type is a programming error (the typed methods panic, Append
// returns an error). The Go types are the driver's for the column types
// of the migrations (TestTablesMatchMigrations checks them): string,
// []string, time.Time, uint8, uint16, uint32, uint64, int32, int64,
// float64, and pointers to the numbers for Nullable columns (nil: NULL).
type Rows struct {
	Table Table
	// OnRow, when set, is called by End with the index of the row just
	// completed: for observers that want rows one by one (tests, tools).
	OnRow func(i int)
	cols  []column
	n     int // complete rows
	at    int // the next column of the row being appended
}

// NewRows returns an empty set of rows of t.
func NewRows(t Table) *Rows {
	return &Rows{Table: t, cols: make([]column, len(t.Columns))}
}

// Len is the number of complete rows.
func (r *Rows) Len() int { return r.n }

// The typed appends: each gives the next column of the row being built.
func (r *Rows) String(v string)      { push(r, v) }
func (r *Rows) Strings(v []string)   { push(r, v) }
func (r *Rows) Time(v time.Time)     { push(r, v) }
func (r *Rows) UInt8(v uint8)        { push(r, v) }
func (r *Rows) UInt16(v uint16)      { push(r, v) }
func (r *Rows) UInt32(v uint32)      { push(r, v) }
func (r *Rows) UInt64(v uint64)      { push(r, v) }
func (r *Rows) Int32(v int32)        { push(r, v) }
func (r *Rows) Int64(v int64)        { push(r, v) }
func (r *Rows) Float64(v float64)    { push(r, v) }
func (r *Rows) NullInt64(v *int64)   { push(r, v) }
func (r *Rows) NullUInt8(v *uint8)   { push(r, v) }
func (r *Rows) NullUInt32(v *uint32) { push(r, v) }
func (r *Rows) NullInt32(v *int32)   { push(r, v) }
func (r *Rows) NullFloat64(v *float64) {
	push(r, v)
}

// End completes the row being built; it panics unless every column got
// its value.
func (r *Rows) End() {
	if r.at != len(r.cols) {
		panic(fmt.Sprintf("tables: %s row ended after %d of %d columns", r.Table.Name, r.at, len(r.cols)))
	}
	r.at = 0
	r.n++
	if r.OnRow != nil {
		r.OnRow(r.n - 1)
	}
}

// Reset drops every row, keeping the columns' room.
func (r *Rows) Reset() {
	r.truncate(0)
	r.n = 0
}

func push[T any](r *Rows, v T) {
	if r.at >= len(r.cols) {
		panic(fmt.Sprintf("tables: %s row has more than %d values", r.Table.Name, len(r.cols)))
	}
	c, ok := r.cols[r.at].(*typed[T])
	if !ok {
		if r.cols[r.at] != nil {
			panic(fmt.Sprintf("tables: %s.%s is %s, not %T", r.Table.Name, r.Table.Columns[r.at], r.cols[r.at].typeName(), v))
		}
		c = &typed[T]{}
		r.cols[r.at] = c
	}
	c.v = append(c.v, v)
	r.at++
}

// Append adds one row of values of the columns' Go types: the untyped
// path, for rows read back from the changelog and for tests. A value whose
// type differs from its column's fails, and nothing of the row is kept.
func (r *Rows) Append(row []any) error {
	if r.at != 0 {
		return fmt.Errorf("%s: a row is being built", r.Table.Name)
	}
	if len(row) != len(r.cols) {
		return fmt.Errorf("%s: %d values for %d columns", r.Table.Name, len(row), len(r.cols))
	}
	for i, v := range row {
		if r.cols[i] == nil {
			c, err := newColumn(v)
			if err != nil {
				r.truncate(r.n)
				return fmt.Errorf("%s.%s: %w", r.Table.Name, r.Table.Columns[i], err)
			}
			r.cols[i] = c
		}
		if err := r.cols[i].appendAny(v); err != nil {
			r.truncate(r.n)
			return fmt.Errorf("%s.%s: %w", r.Table.Name, r.Table.Columns[i], err)
		}
	}
	r.n++
	return nil
}

// truncate drops everything after the first n rows (a row half built).
func (r *Rows) truncate(n int) {
	for _, c := range r.cols {
		if c != nil {
			c.truncate(n)
		}
	}
	r.at = 0
}

// Row returns row i's values, boxed: for the changelog's encoder, error
// messages and tests, not for the hot path.
func (r *Rows) Row(i int) []any {
	row := make([]any, len(r.cols))
	for c, col := range r.cols {
		row[c] = col.value(i)
	}
	return row
}

// Column returns column c of rows [from, to) as its typed slice ([]string,
// []uint64, ...), as the driver takes it; nil when there are no rows.
func (r *Rows) Column(c, from, to int) any {
	if r.cols[c] == nil {
		return nil
	}
	return r.cols[c].slice(from, to)
}

// AppendRows moves every row of o (rows of the same table) after r's; o
// is left empty.
func (r *Rows) AppendRows(o *Rows) error {
	if o.Table.Name != r.Table.Name || len(o.cols) != len(r.cols) {
		return fmt.Errorf("tables: rows of %s appended to %s", o.Table.Name, r.Table.Name)
	}
	if o.at != 0 || r.at != 0 {
		return fmt.Errorf("%s: a row is being built", r.Table.Name)
	}
	if o.n == 0 {
		return nil
	}
	for i, c := range o.cols {
		if r.cols[i] == nil || r.n == 0 {
			r.cols[i] = c
			continue
		}
		if err := r.cols[i].appendColumn(c); err != nil {
			return fmt.Errorf("%s.%s: %w", r.Table.Name, r.Table.Columns[i], err)
		}
	}
	r.n += o.n
	o.cols, o.n = make([]column, len(o.cols)), 0
	return nil
}

// RowsOf builds rows of t from values (tests, tools).
func RowsOf(t Table, rows [][]any) (*Rows, error) {
	r := NewRows(t)
	for i, row := range rows {
		if err := r.Append(row); err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
	}
	return r, nil
}

// column is one typed column.
type column interface {
	value(i int) any
	slice(from, to int) any
	appendAny(v any) error
	appendColumn(o column) error
	truncate(n int)
	typeName() string
}

type typed[T any] struct{ v []T }

func (c *typed[T]) value(i int) any        { return c.v[i] }
func (c *typed[T]) slice(from, to int) any { return c.v[from:to:to] }
func (c *typed[T]) truncate(n int)         { c.v = c.v[:n] }
func (c *typed[T]) typeName() string       { return fmt.Sprintf("%T", *new(T)) }
func (c *typed[T]) appendAny(v any) error {
	x, ok := v.(T)
	if !ok {
		return fmt.Errorf("a %T where the column holds %s", v, c.typeName())
	}
	c.v = append(c.v, x)
	return nil
}
func (c *typed[T]) appendColumn(o column) error {
	x, ok := o.(*typed[T])
	if !ok {
		return fmt.Errorf("a column of %s where the column holds %s", o.typeName(), c.typeName())
	}
	c.v = append(c.v, x.v...)
	return nil
}

// newColumn is an empty column of v's type.
func newColumn(v any) (column, error) {
	switch v.(type) {
	case string:
		return &typed[string]{}, nil
	case []string:
		return &typed[[]string]{}, nil
	case time.Time:
		return &typed[time.Time]{}, nil
	case uint8:
		return &typed[uint8]{}, nil
	case uint16:
		return &typed[uint16]{}, nil
	case uint32:
		return &typed[uint32]{}, nil
	case uint64:
		return &typed[uint64]{}, nil
	case int32:
		return &typed[int32]{}, nil
	case int64:
		return &typed[int64]{}, nil
	case float64:
		return &typed[float64]{}, nil
	case *int64:
		return &typed[*int64]{}, nil
	case *uint8:
		return &typed[*uint8]{}, nil
	case *uint16:
		return &typed[*uint16]{}, nil
	case *uint32:
		return &typed[*uint32]{}, nil
	case *uint64:
		return &typed[*uint64]{}, nil
	case *int32:
		return &typed[*int32]{}, nil
	case *float64:
		return &typed[*float64]{}, nil
	case *string:
		return &typed[*string]{}, nil
	case *time.Time:
		return &typed[*time.Time]{}, nil
	}
	return nil, fmt.Errorf("a value of type %T, which no column type takes", v)
}
