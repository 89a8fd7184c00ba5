package operators

import "github.com/cspulse/cspulse/sinks"

// The tables the engine writes, with the columns of each row in the
// order Flush fills them. They match deploy/clickhouse/migrations
// (0002_cs_agent_hourly, 0003_cs_shop_hourly, 0006_cs_sessions and 0007); inserts
// name their columns, so the DDL may order them differently.
var (
	AgentHourlyTable = sinks.Table{Name: "cs_agent_hourly", Columns: []string{
		"shop_id", "group_id", "agent_id", "hour", "day", "hour_of_day",
		"buyer_msgs", "buyer_msgs_window", "replied_3min_window", "replied_msgs",
		"response_ms_sum", "agent_msgs", "session_pairs_window", "session_pairs_3min_ok",
		"assignments", "picked_assignments", "first_response_ms_sum", "first_response_count",
		"wait_ms_sum", "wait_count", "ratings_window", "satisfied_window", "ratings", "satisfied",
		"paid_orders", "paid_amount", "version",
	}}

	ShopHourlyTable = sinks.Table{Name: "cs_shop_hourly", Columns: []string{
		"shop_id", "hour", "day", "hour_of_day",
		"consult_sessions", "transferred_sessions", "transferred_picked_sessions",
		"received_sessions", "abandoned_sessions", "buyer_msgs", "agent_msgs",
		"paid_amount_total", "paid_amount_agents", "paid_amount_silent", "paid_orders",
		"version",
	}}

	// SessionsTable's first_response_ms and rating are Nullable (0007):
	// their values are *int64 and *uint8, nil for NULL.
	SessionsTable = sinks.Table{Name: "cs_sessions", Columns: []string{
		"shop_id", "session_id", "buyer_id", "origin", "channel",
		"started_at", "started_at_ms", "ended_at", "ended_at_ms", "duration_ms", "day",
		"close_reason", "last_agent_id", "agent_ids", "group_id",
		"buyer_msgs", "agent_msgs", "robot_msgs", "queued", "abandoned",
		"queue_wait_ms", "first_response_ms", "picked", "received", "rating",
		"filtered_by", "version",
	}}
)

// The tables of the attribution and robot operators (attribution.go,
// robot.go): 0004_cs_inquiry_daily and 0005_cs_robot_hourly.
var (
	InquiryDailyTable = sinks.Table{Name: "cs_inquiry_daily", Columns: []string{
		"shop_id", "agent_id", "day",
		"inquiry_buyers", "ordered_buyers", "paid_buyers", "paid_amount",
		"version",
	}}

	RobotHourlyTable = sinks.Table{Name: "cs_robot_hourly", Columns: []string{
		"shop_id", "task_id", "robot_id", "hour", "day", "hour_of_day", "intent",
		"calls", "connected",
		"version",
	}}
)

// Tables lists the tables the engine writes.
var Tables = []sinks.Table{AgentHourlyTable, ShopHourlyTable, SessionsTable, InquiryDailyTable, RobotHourlyTable}

// RowSink receives full output rows; each row's values follow t.Columns.
// The pipeline's row batch is one.
type RowSink interface {
	Add(t sinks.Table, row []any)
}
