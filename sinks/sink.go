// Package sinks writes results to ClickHouse: migrations, batched inserts
// with retries, retention. Sinks know nothing of metrics: they take rows of
// the tables package's definitions and own the batch life cycle (buffer,
// send, retry). What goes to Kafka (dead letters, the changelog) belongs to
// the Kafka runtime, package pipeline.
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
	Write(ctx context.Context, rows *tables.Rows) error
}
