// Package sinks delivers results out of cspulse: rows to ClickHouse, alerts
// and dead letters to Kafka. Sinks know nothing of metrics: they take rows
// and own the batch life cycle (buffer, send, retry).
package sinks

import "context"

// Table names a ClickHouse table and the columns an insert fills, in the
// order of each row's values. Every INSERT names its columns: ClickHouse
// 18.16 over the native protocol needs it, and it keeps inserts valid when
// a migration adds a column.
type Table struct {
	Name    string
	Columns []string
}

// RowWriter writes whole rows. When Write returns nil the rows are durable
// in the store; a caller may then commit the input they were derived from.
type RowWriter interface {
	Write(ctx context.Context, t Table, rows [][]any) error
}
