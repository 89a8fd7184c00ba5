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

// RowSink receives full output rows; each row's values follow t.Columns.
// The pipeline's row batch is one.
type RowSink interface {
	Add(t tables.Table, row []any)
}
