// Package tables defines the output tables once: each table's name and
// the columns of its rows, in the order the metric core fills them. The
// core builds rows against these definitions and the sinks insert them,
// so neither needs the other; a test checks them against the SQL
// migrations in deploy/clickhouse/migrations.
package tables

// Table names a ClickHouse table and the columns an insert fills, in the
// order of each row's values. Every INSERT names its columns: ClickHouse
// 18.16 over the native protocol needs it, and it keeps inserts valid when
// a migration adds a column.
type Table struct {
	Name    string
	Columns []string
}

// The tables of the sessions engine, matching deploy/clickhouse/migrations
// (0002_cs_agent_hourly, 0003_cs_shop_hourly, 0006_cs_sessions and 0007);
// inserts name their columns, so the DDL may order them differently.
var (
	AgentHourly = Table{Name: "cs_agent_hourly", Columns: []string{
		"shop_id", "group_id", "agent_id", "hour", "day", "hour_of_day",
		"buyer_msgs", "buyer_msgs_window", "replied_3min_window", "replied_msgs",
		"response_ms_sum", "agent_msgs", "session_pairs_window", "session_pairs_3min_ok",
		"assignments", "picked_assignments", "first_response_ms_sum", "first_response_count",
		"wait_ms_sum", "wait_count", "ratings_window", "satisfied_window", "ratings", "satisfied",
		"paid_orders", "paid_amount", "version",
	}}

	ShopHourly = Table{Name: "cs_shop_hourly", Columns: []string{
		"shop_id", "hour", "day", "hour_of_day",
		"consult_sessions", "transferred_sessions", "transferred_picked_sessions",
		"received_sessions", "abandoned_sessions", "buyer_msgs", "agent_msgs",
		"paid_amount_total", "paid_amount_agents", "paid_amount_silent", "paid_orders",
		"version",
	}}

	// Sessions' first_response_ms and rating are Nullable (0007):
	// their values are *int64 and *uint8, nil for NULL.
	Sessions = Table{Name: "cs_sessions", Columns: []string{
		"shop_id", "session_id", "buyer_id", "origin", "channel",
		"started_at", "started_at_ms", "ended_at", "ended_at_ms", "duration_ms", "day",
		"close_reason", "last_agent_id", "agent_ids", "group_id",
		"buyer_msgs", "agent_msgs", "robot_msgs", "queued", "abandoned",
		"queue_wait_ms", "first_response_ms", "picked", "received", "rating",
		"filtered_by", "version",
	}}
)

// The tables of sales attribution and robot outbound sessions:
// 0004_cs_inquiry_daily and 0005_cs_robot_hourly.
var (
	InquiryDaily = Table{Name: "cs_inquiry_daily", Columns: []string{
		"shop_id", "agent_id", "day",
		"inquiry_buyers", "ordered_buyers", "paid_buyers", "paid_amount",
		"version",
	}}

	RobotHourly = Table{Name: "cs_robot_hourly", Columns: []string{
		"shop_id", "task_id", "robot_id", "hour", "day", "hour_of_day", "intent",
		"calls", "connected",
		"version",
	}}
)

// The tables of alerts and rankings: 0009_cs_alerts and
// 0010_cs_agent_rankings. A ranking's ranks, means and rank changes, and
// its rates, are Nullable: *uint32, *float64, *int32, nil for NULL.
var (
	Alerts = Table{Name: "cs_alerts", Columns: []string{
		"alert_id", "shop_id", "rule", "scope", "scope_id", "group_id", "metric", "alert_window",
		"window_start", "window_end", "value", "numerator", "denominator", "threshold",
		"direction", "state", "evaluated_at", "day", "version",
	}}

	AgentRankings = Table{Name: "cs_agent_rankings", Columns: rankingColumns()}
)

// RankedMetrics are the four figures of a ranking (SPEC §4.3), in column
// order; each has the columns <name>, <name>_rank, <name>_mean and
// <name>_rank_change, and a rate its numerator and denominator after them.
var RankedMetrics = []string{"received_buyers", "reply_3min_rate_session", "satisfaction_rate", "received_sessions"}

func rankingColumns() []string {
	cols := []string{"shop_id", "day", "scope", "group_id", "agent_id", "ranked", "agents"}
	for _, m := range RankedMetrics {
		cols = append(cols, m, m+"_rank", m+"_mean", m+"_rank_change")
		switch m {
		case "reply_3min_rate_session":
			cols = append(cols, "session_pairs_window", "session_pairs_3min_ok")
		case "satisfaction_rate":
			cols = append(cols, "ratings_window", "satisfied_window")
		}
	}
	return append(cols, "version")
}

// ExclusiveDaily is SPEC §3.7, exclusive customers and proactive
// follow-up (专属客服): 0011_cs_exclusive_daily.
var ExclusiveDaily = Table{Name: "cs_exclusive_daily", Columns: []string{
	"shop_id", "agent_id", "day",
	"customers", "ended", "invited", "accepted", "rejected",
	"sent_customers", "read_customers", "replied_customers", "visited_customers", "bought_customers",
	"guided_orders", "guided_amount",
	"version",
}}

// All lists every output table.
var All = []Table{AgentHourly, ShopHourly, Sessions, InquiryDaily, RobotHourly, Alerts, AgentRankings, ExclusiveDaily}
