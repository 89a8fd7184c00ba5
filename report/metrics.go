// Package report builds the figures of `cspulse report` and the session
// export of `cspulse export sessions` from the ClickHouse tables.
//
// Metrics is the one place that names each report metric, its title, its
// definition and its SQL expression: the report's queries, `report
// --explain` and the metric table of docs/queries.md all come from it (a
// test keeps the page equal to MarkdownTable).
package report

import (
	"fmt"
	"sort"
	"strings"
)

// Tables a metric can come from.
const (
	AgentHourly  = "cs_agent_hourly"
	ShopHourly   = "cs_shop_hourly"
	InquiryDaily = "cs_inquiry_daily"
	RobotHourly  = "cs_robot_hourly"
	// ExclusiveDaily is SPEC §3.7 (专属客服), a daily table like InquiryDaily.
	ExclusiveDaily = "cs_exclusive_daily"
)

// Kind is how a figure is shown.
type Kind int

const (
	Count   Kind = iota // an integer
	Rate                // a fraction 0..1, rounded to 4 places; a percentage in tables
	Seconds             // seconds, rounded to 0.1
	Yuan                // yuan, rounded to 0.01
	Ratio               // a plain ratio, rounded to 4 places
)

// Metric is one report figure: an aggregate SQL expression over one table,
// read with FINAL. Rates are a sum divided by a sum, nullIf(…, 0) in the
// divisor: NULL (shown "–") means there was nothing to measure.
type Metric struct {
	Name       string
	Title      string
	Definition string
	Table      string
	SQL        string
	Kind       Kind
}

// Metrics is every report metric, in the order --explain and the docs list
// them. The SQL expressions are the ones of the documented queries in
// docs/queries.md, so that each figure equals them to the last digit.
var Metrics = []Metric{
	// cs_shop_hourly: session counts and sales of the shop.
	{"consult_sessions", "consult", "用户咨询量: sessions the buyer opened (origin buyer), in the hour they started; a shop figure", ShopHourly,
		"sum(consult_sessions)", Count},
	{"transferred_sessions", "transferred", "转人工会话量: sessions with at least one queued (asked for a human), in the hour of the first queued", ShopHourly,
		"sum(transferred_sessions)", Count},
	{"received_sessions", "received", "人工已接待量: sessions with a reception (a picked assignment the reception filters keep), in the hour of its assignment", ShopHourly,
		"sum(received_sessions)", Count},
	{"abandoned_sessions", "abandoned", "排队放弃: sessions whose buyer left the queue before an agent was assigned, in the hour of the abandonment", ShopHourly,
		"sum(abandoned_sessions)", Count},
	{"pickup_rate", "pickup", "接起率 (shop): transferred sessions with at least one picked assignment ÷ transferred sessions", ShopHourly,
		"round(sum(transferred_picked_sessions) / nullIf(sum(transferred_sessions), 0), 4)", Rate},
	{"abandon_share", "abandon share", "abandoned sessions ÷ transferred sessions", ShopHourly,
		"round(sum(abandoned_sessions) / nullIf(sum(transferred_sessions), 0), 4)", Rate},
	{"sales_yuan", "sales ¥", "the shop's paid amount in the hour of payment, agents' and silent, in yuan", ShopHourly,
		"round(sum(paid_amount_total) / 100, 2)", Yuan},
	{"silent_sales_yuan", "silent ¥", "静默销售额: paid amount credited to no agent, in yuan", ShopHourly,
		"round(sum(paid_amount_silent) / 100, 2)", Yuan},
	{"silent_share", "silent share", "silent sales ÷ the shop's sales", ShopHourly,
		"round(sum(paid_amount_silent) / nullIf(sum(paid_amount_total), 0), 4)", Rate},

	// cs_agent_hourly: the agents' figures (a shop's, group's: the sum over its agents).
	{"buyer_msgs", "buyer msgs", "buyer messages of the human phase, all hours, in the hour they were sent", AgentHourly,
		"sum(buyer_msgs)", Count},
	{"reply_3min_rate", "3-min reply", "三分钟回复率: buyer messages between 08:00 and 23:00 answered within 3 minutes ÷ buyer messages between 08:00 and 23:00", AgentHourly,
		"round(sum(replied_3min_window) / nullIf(sum(buyer_msgs_window), 0), 4)", Rate},
	{"reply_3min_rate_session", "3-min reply (sessions)", "三分钟回复率（会话）: (session, agent) pairs whose every buyer message between 08:00 and 23:00 was answered within 3 minutes ÷ such pairs", AgentHourly,
		"round(sum(session_pairs_3min_ok) / nullIf(sum(session_pairs_window), 0), 4)", Rate},
	{"avg_response_s", "avg response s", "平均响应时长: Σ response time ÷ replied buyer messages, all hours, in seconds", AgentHourly,
		"round(sum(response_ms_sum) / nullIf(sum(replied_msgs), 0) / 1000, 1)", Seconds},
	{"avg_first_response_s", "avg first response s", "首次响应时长: per assignment, the agent's first message − assigned; the average in seconds", AgentHourly,
		"round(sum(first_response_ms_sum) / nullIf(sum(first_response_count), 0) / 1000, 1)", Seconds},
	{"qa_ratio", "Q/A", "问答比: agent messages ÷ buyer messages of the human phase", AgentHourly,
		"round(sum(agent_msgs) / nullIf(sum(buyer_msgs), 0), 4)", Ratio},
	{"agent_pickup_rate", "pickup (assignments)", "接起率 (agent): assignments the agent answered at least once ÷ assignments", AgentHourly,
		"round(sum(picked_assignments) / nullIf(sum(assignments), 0), 4)", Rate},
	{"avg_wait_s", "avg wait s", "平均等待时长: queued → assigned for the first assignment after each queued; the average in seconds", AgentHourly,
		"round(sum(wait_ms_sum) / nullIf(sum(wait_count), 0) / 1000, 1)", Seconds},
	{"satisfaction_rate", "satisfied", "满意率: ratings of 4 or 5 given between 08:00 and 23:00 ÷ ratings given between 08:00 and 23:00", AgentHourly,
		"round(sum(satisfied_window) / nullIf(sum(ratings_window), 0), 4)", Rate},
	{"ratings", "ratings", "ratings given, all hours, in the hour they were given", AgentHourly,
		"sum(ratings)", Count},
	{"agent_paid_orders", "agent orders", "paid orders credited to agents (业绩判定规则), in the hour of payment", AgentHourly,
		"sum(paid_orders)", Count},
	{"agent_sales_yuan", "agent sales ¥", "客服销售额: the amount of those orders, in yuan", AgentHourly,
		"round(sum(paid_amount) / 100, 2)", Yuan},

	// cs_inquiry_daily: conversion of inquiries (buyer-days over several days).
	{"inquiry_buyers", "inquiry buyers", "询单人数: buyers with an inquiry to the agent, per inquiry day (summed over days: buyer-days)", InquiryDaily,
		"sum(inquiry_buyers)", Count},
	{"inquiry_conversion", "inquiry conv.", "询单转化率: buyers who paid an order credited through the inquiry within its validity ÷ inquiry buyers", InquiryDaily,
		"round(sum(paid_buyers) / nullIf(sum(inquiry_buyers), 0), 4)", Rate},
	{"order_conversion", "order conv.", "下单转化率: buyers with an order credited through the inquiry ÷ inquiry buyers", InquiryDaily,
		"round(sum(ordered_buyers) / nullIf(sum(inquiry_buyers), 0), 4)", Rate},
	{"payment_conversion", "payment conv.", "付款转化率: paying buyers ÷ ordering buyers", InquiryDaily,
		"round(sum(paid_buyers) / nullIf(sum(ordered_buyers), 0), 4)", Rate},

	// cs_exclusive_daily: proactive follow-up of exclusive customers (buyer-days over several days).
	{"exclusive_sent", "sent", "发送客户数: exclusive customers the agent wrote in a proactive session that day (summed over days: buyer-days)", ExclusiveDaily,
		"sum(sent_customers)", Count},
	{"exclusive_read", "read", "阅读客户数: of them, those who read a proactive message of the day, after the first one and before midnight", ExclusiveDaily,
		"sum(read_customers)", Count},
	{"exclusive_read_rate", "read rate", "阅读率: read ÷ sent customers", ExclusiveDaily,
		"round(sum(read_customers) / nullIf(sum(sent_customers), 0), 4)", Rate},
	{"exclusive_visited", "visited", "引导进店客户数: of the sent customers, those who entered the shop that day after the first message", ExclusiveDaily,
		"sum(visited_customers)", Count},
	{"exclusive_bought", "bought", "引导购买客户数: of the sent customers, those who paid that day after the first message (a presale deposit is no purchase)", ExclusiveDaily,
		"sum(bought_customers)", Count},
	{"exclusive_bought_rate", "bought rate", "bought ÷ sent customers", ExclusiveDaily,
		"round(sum(bought_customers) / nullIf(sum(sent_customers), 0), 4)", Rate},
	{"guided_orders", "guided orders", "引导成交订单数: payments of the day after the first proactive message, read before paying, by a customer of the agent since an earlier day", ExclusiveDaily,
		"sum(guided_orders)", Count},
	{"guided_yuan", "guided sales", "引导成交金额: the amounts of the guided orders, yuan; a presale counts deposit and final on the final payment's day", ExclusiveDaily,
		"round(sum(guided_amount) / 100, 2)", Yuan},

	// cs_robot_hourly: robot outbound calls.
	{"robot_calls", "calls", "机器人外呼: the robot's outbound calls, in the hour they started", RobotHourly,
		"sum(calls)", Count},
	{"robot_connected", "connected", "calls in which the buyer said anything", RobotHourly,
		"sum(connected)", Count},
	{"connect_rate", "connect rate", "接通率: connected calls ÷ calls", RobotHourly,
		"round(sum(connected) / nullIf(sum(calls), 0), 4)", Rate},
	{"intent_ab_share", "intent A/B", "客户意向: calls that ended with intent level A or B ÷ calls", RobotHourly,
		"round(sumIf(calls, intent IN ('A', 'B')) / nullIf(sum(calls), 0), 4)", Rate},
	{"intent_a", "intent A", "客户意向 A: calls that ended with intent level A (the platforms grade A–F)", RobotHourly,
		"sumIf(calls, intent = 'A')", Count},
	{"intent_b", "intent B", "客户意向 B: calls that ended with intent level B (the platforms grade A–F)", RobotHourly,
		"sumIf(calls, intent = 'B')", Count},
	{"intent_c", "intent C", "客户意向 C: calls that ended with intent level C (the platforms grade A–F)", RobotHourly,
		"sumIf(calls, intent = 'C')", Count},
	{"intent_d", "intent D", "客户意向 D: calls that ended with intent level D (the platforms grade A–F)", RobotHourly,
		"sumIf(calls, intent = 'D')", Count},
	{"intent_e", "intent E", "客户意向 E: calls that ended with intent level E (the platforms grade A–F)", RobotHourly,
		"sumIf(calls, intent = 'E')", Count},
	{"intent_f", "intent F", "客户意向 F: calls that ended with intent level F (the platforms grade A–F)", RobotHourly,
		"sumIf(calls, intent = 'F')", Count},
	{"intent_none", "no intent", "calls that ended with no intent level (timed out, or the ended named none)", RobotHourly,
		"sumIf(calls, intent = '')", Count},
	{"intent_other", "other intent", "calls that ended with a level other than A–F", RobotHourly,
		"sumIf(calls, intent NOT IN ('A', 'B', 'C', 'D', 'E', 'F', ''))", Count},
}

// Lookup returns the metric called name.
func Lookup(name string) (Metric, bool) {
	for _, m := range Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Names lists every metric name, sorted.
func Names() []string {
	out := make([]string, len(Metrics))
	for i, m := range Metrics {
		out[i] = m.Name
	}
	sort.Strings(out)
	return out
}

// CheckNames returns an error for the first name that is not a metric or
// comes twice.
func CheckNames(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("no metric: list at least one of %s", strings.Join(Names(), ", "))
	}
	seen := map[string]bool{}
	for _, n := range names {
		if _, ok := Lookup(n); !ok {
			return fmt.Errorf("%q is not a metric; metrics: %s", n, strings.Join(Names(), ", "))
		}
		if seen[n] {
			return fmt.Errorf("metric %q is listed twice", n)
		}
		seen[n] = true
	}
	return nil
}

// MarkdownTable is the metric reference of docs/queries.md ("Report
// metrics"): name, title, definition, table and SQL of every metric.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| metric | title | definition | table | SQL (read with FINAL) |\n|---|---|---|---|---|\n")
	for _, m := range Metrics {
		fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` | `%s` |\n", m.Name, m.Title, m.Definition, m.Table, m.SQL)
	}
	return b.String()
}

// Explain writes each named metric's definition, as `report --explain`
// prints it.
func Explain(names []string) string {
	var b strings.Builder
	for _, n := range names {
		m, ok := Lookup(n)
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%s — %s\n  %s\n  %s FROM %s FINAL\n\n", m.Name, m.Title, m.Definition, m.SQL, m.Table)
	}
	return b.String()
}

// MaxExportDays is the most days one session export may cover (SPEC §4.4).
const MaxExportDays = 31
