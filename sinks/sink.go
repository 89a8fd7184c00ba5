// Package sinks delivers results out of cspulse: rows to ClickHouse, alerts
// and dead letters to Kafka. Sinks know nothing of metrics: they take rows
// and own the batch life cycle (buffer, send, retry).
package sinks

import (
	"context"

	"github.com/cspulse/cspulse/tables"
)

// Table is an output table's definition (package tables).
type Table = tables.Table

// RowWriter writes whole rows. When Write returns nil the rows are durable
// in the store; a caller may then commit the input they were derived from.
type RowWriter interface {
	Write(ctx context.Context, t Table, rows [][]any) error
}
