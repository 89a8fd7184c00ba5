// Package clickhouse holds cspulse's ClickHouse schema: the ordered,
// versioned DDL files under migrations/, embedded so the binary can migrate
// the database it writes to (see sinks.Migrate and README.md here).
package clickhouse

import "embed"

// Migrations holds migrations/NNNN_name.sql. Files are applied in NNNN
// order, each once; ${database} in them stands for the target database.
//
//go:embed migrations/*.sql
var Migrations embed.FS
