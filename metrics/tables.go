package metrics

import "github.com/cspulse/cspulse/tables"

// The tables the engine writes (package tables defines them).
var (
	AgentHourlyTable  = tables.AgentHourly
	ShopHourlyTable   = tables.ShopHourly
	SessionsTable     = tables.Sessions
	InquiryDailyTable = tables.InquiryDaily
	RobotHourlyTable  = tables.RobotHourly
	AlertsTable       = tables.Alerts
	RankingsTable     = tables.AgentRankings
	ExclusiveTable    = tables.ExclusiveDaily
	Tables            = tables.All
)

// RowSink receives full output rows: Rows returns the rows of t to append
// one row to, a typed append per column in t.Columns order, then End. The
// pipeline's row batch (sinks.Buffer) is one.
type RowSink interface {
	Rows(t tables.Table) *tables.Rows
}
