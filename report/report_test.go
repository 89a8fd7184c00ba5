package report_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cspulse/cspulse/internal/pipetest"
	"github.com/cspulse/cspulse/internal/testenv"
	. "github.com/cspulse/cspulse/report"
)

var docQueryRE = regexp.MustCompile("(?s)<!-- query: ([a-z0-9_]+) -->\n```sql\n(.*?)```")

// DocQueries returns the named sql blocks of docs/queries.md.
func docQueries(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "queries.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range docQueryRE.FindAllStringSubmatch(string(src), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// docRows runs a documented query and returns its rows as column → value
// (Value.String: the shortest number, NULL, the text).
func docRows(t *testing.T, conn driver.Conn, sql string) []map[string]string {
	t.Helper()
	var out []map[string]string
	err := ScanQuery(context.Background(), conn, sql, func(vals []Value, names []string) {
		row := map[string]string{}
		for i, v := range vals {
			row[names[i]] = v.String()
		}
		out = append(out, row)
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return out
}

// reportCase compares one report with one documented query: the doc rows
// that match where, keyed by keys (a column, or "=literal"), must equal
// the report's rows, column by column as cols maps them (doc column →
// metric).
type reportCase struct {
	name  string
	query string
	req   Request
	where map[string]string
	keys  []string
	cols  map[string]string
	// extra: the report may show rows the query leaves out (its HAVING
	// keeps fewer rows than the report's).
	extra bool
}

func cols(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

const (
	nov1, nov2, nov8, nov30 = "2026-11-01", "2026-11-02", "2026-11-08", "2026-11-30"
	shop1                   = "shop-0001"
)

var agentWeekCols = cols("reply_3min_rate", "reply_3min_rate", "reply_3min_rate_session", "reply_3min_rate_session",
	"avg_response_s", "avg_response_s", "avg_first_response_s", "avg_first_response_s", "qa_ratio", "qa_ratio",
	"pickup_rate", "agent_pickup_rate", "avg_wait_s", "avg_wait_s", "satisfaction_rate", "satisfaction_rate")

var reportCases = []reportCase{
	{"agent, one day", "reply_3min_rate_agent_day", Request{By: "agent", Shops: []string{shop1}, From: nov2, To: nov2},
		map[string]string{"day": nov2}, []string{"=" + shop1, "agent_id"}, cols("replied_3min", "", "reply_3min_rate", "reply_3min_rate"), false},
	{"agent, a week, every agent metric", "agent_week_dashboard", Request{By: "agent", Shops: []string{shop1}, From: nov2, To: nov8},
		map[string]string{"week": nov2}, []string{"=" + shop1, "agent_id"}, agentWeekCols, false},
	{"agent, office hours", "agent_day_office_hours", Request{By: "agent", Shops: []string{shop1}, From: nov2, To: nov2, Hours: &Hours{9, 18}},
		map[string]string{"day": nov2}, []string{"=" + shop1, "agent_id"},
		cols("reply_3min_rate", "reply_3min_rate", "avg_response_s", "avg_response_s", "pickup_rate", "agent_pickup_rate", "satisfaction_rate", "satisfaction_rate"), false},
	{"agent filter, by day", "avg_wait_agent_day", Request{By: "day", Shops: []string{shop1}, Agents: []string{"shop-0001-a01"}, From: nov1, To: nov30},
		map[string]string{"agent_id": "shop-0001-a01"}, []string{"day"}, cols("avg_wait_s", "avg_wait_s"), false},
	{"shop, one day", "shop_day_dashboard", Request{By: "shop", From: nov2, To: nov2},
		map[string]string{"day": nov2}, []string{"shop_id"},
		cols("consult", "consult_sessions", "transferred", "transferred_sessions", "received", "received_sessions", "abandoned", "abandoned_sessions",
			"pickup_rate", "pickup_rate", "reply_3min_rate", "reply_3min_rate", "avg_response_s", "avg_response_s",
			"avg_wait_s", "avg_wait_s", "satisfaction_rate", "satisfaction_rate"), false},
	{"shop, sales of a month", "shop_sales_month", Request{By: "shop", From: nov1, To: nov30},
		nil, []string{"shop_id"}, cols("shop_yuan", "sales_yuan", "silent_yuan", "silent_sales_yuan", "silent_share", "silent_share"), false},
	{"group, a month", "group_month_dashboard", Request{By: "group", Shops: []string{shop1}, From: nov1, To: nov30},
		map[string]string{"month": nov1}, []string{"=" + shop1, "group_id"},
		cols("reply_3min_rate", "reply_3min_rate", "reply_3min_rate_session", "reply_3min_rate_session", "pickup_rate", "agent_pickup_rate",
			"avg_wait_s", "avg_wait_s", "satisfaction_rate", "satisfaction_rate"), true},
	{"group, sales of a week", "group_sales_week", Request{By: "group", Shops: []string{shop1}, From: nov2, To: nov8},
		map[string]string{"week": nov2}, []string{"=" + shop1, "group_id"},
		cols("paid_orders_n", "agent_paid_orders", "sales_yuan", "agent_sales_yuan"), true},
	{"shop, abandoned share", "abandoned_sessions_shop_day", Request{By: "shop", From: nov2, To: nov2},
		map[string]string{"day": nov2}, []string{"shop_id"},
		cols("abandoned", "abandoned_sessions", "transferred", "transferred_sessions", "abandon_share", "abandon_share"), false},
	{"shop, Q/A", "qa_ratio_shop_day", Request{By: "shop", From: nov2, To: nov2},
		map[string]string{"day": nov2}, []string{"shop_id"}, cols("buyer_msgs_n", "buyer_msgs", "qa_ratio", "qa_ratio"), false},
	{"agent, ratings of a week", "satisfaction_rate_agent_week", Request{By: "agent", Shops: []string{shop1}, From: nov2, To: nov8},
		map[string]string{"week": nov2}, []string{"=" + shop1, "agent_id"},
		cols("ratings_all_hours", "ratings", "satisfaction_rate", "satisfaction_rate"), false},
	{"day", "reply_3min_rate_shop_day", Request{By: "day", Shops: []string{"shop-0002"}, From: nov1, To: nov30},
		map[string]string{"shop_id": "shop-0002"}, []string{"day"}, cols("reply_3min_rate", "reply_3min_rate"), false},
	{"week", "first_response_shop_week", Request{By: "week", Shops: []string{shop1}, From: nov1, To: nov30},
		map[string]string{"shop_id": shop1}, []string{"week"}, cols("avg_first_response_s", "avg_first_response_s"), false},
	{"month, inquiry conversion", "inquiry_conversion_shop_month", Request{By: "month", Shops: []string{shop1}, From: nov1, To: nov30},
		map[string]string{"shop_id": shop1}, []string{"month"},
		cols("inquiry_buyer_days", "inquiry_buyers", "inquiry_conversion", "inquiry_conversion", "order_conversion", "order_conversion",
			"payment_conversion", "payment_conversion"), false},
	{"agent, inquiry conversion of a week", "inquiry_conversion_agent_week", Request{By: "agent", Shops: []string{shop1}, From: nov2, To: nov8},
		map[string]string{"week": nov2}, []string{"=" + shop1, "agent_id"},
		cols("inquiry_buyer_days", "inquiry_buyers", "inquiry_conversion", "inquiry_conversion"), false},
	{"task", "robot_task_week", Request{By: "task", Shops: []string{shop1}, From: nov2, To: nov8},
		map[string]string{"week": nov2}, []string{"=" + shop1, "task_id"},
		cols("calls_n", "robot_calls", "connected_n", "robot_connected", "connect_rate", "connect_rate",
			"intent_a", "intent_a", "intent_b", "intent_b", "intent_c", "intent_c", "intent_d", "intent_d",
			"intent_e", "intent_e", "intent_f", "intent_f", "intent_none", "intent_none", "intent_other", "intent_other"), false},
	{"week+task", "robot_task_week", Request{By: "week+task", Shops: []string{shop1}, From: nov1, To: nov30},
		nil, []string{"week", "=" + shop1, "task_id"},
		cols("calls_n", "robot_calls", "connect_rate", "connect_rate"), false},
	{"robot", "robot_robot_task_day", Request{By: "robot", Shops: []string{shop1}, From: nov2, To: nov2},
		map[string]string{"day": nov2}, []string{"=" + shop1, "robot_id", "task_id"},
		cols("calls_n", "robot_calls", "connected_n", "robot_connected", "connect_rate", "connect_rate", "intent_ab_share", "intent_ab_share"), false},
	{"robot, hours 10-12", "robot_hours_10_12_month", Request{By: "robot", Shops: []string{shop1}, From: nov1, To: nov30, Hours: &Hours{10, 12}},
		map[string]string{"month": nov1}, []string{"=" + shop1, "robot_id", "task_id"},
		cols("calls_n", "robot_calls", "connect_rate", "connect_rate"), false},
	{"agent, exclusive follow-up of a day", "exclusive_agent_day", Request{By: "agent", Shops: []string{shop1}, From: nov2, To: nov2},
		map[string]string{"day": nov2}, []string{"=" + shop1, "agent_id"},
		cols("sent_n", "exclusive_sent", "read_n", "exclusive_read", "visited_n", "exclusive_visited", "bought_n", "exclusive_bought",
			"guided_orders_n", "guided_orders", "guided_yuan", "guided_yuan", "read_rate", "exclusive_read_rate"), false},
	{"day, exclusive follow-up of the shop", "exclusive_shop_day", Request{By: "day", Shops: []string{shop1}, From: nov1, To: nov30},
		nil, []string{"day"}, cols("sent_n", "exclusive_sent", "bought_rate", "exclusive_bought_rate", "guided_yuan", "guided_yuan"), false},
	{"day, robot calls", "robot_calls_day", Request{By: "day", Shops: []string{shop1}, From: nov1, To: nov30},
		nil, []string{"day"}, cols("calls_n", "robot_calls", "connected_n", "robot_connected", "connect_rate", "connect_rate"), false},
}

// TestReportEqualsDocQueries: on a generated day loaded through the whole
// pipeline, every figure of a report equals the documented query of
// docs/queries.md that defines it, for every dimension and filter.
func TestReportEqualsDocQueries(t *testing.T) {
	gen := pipetest.DemoDay()
	addr, db := pipetest.GeneratedDay(t, gen)
	conn := testenv.Conn(t, addr, db)
	docs := docQueries(t)
	ctx := context.Background()

	covered := map[string]bool{}
	for _, c := range reportCases {
		for _, m := range c.cols {
			covered[m] = true
		}
	}
	for _, m := range Metrics {
		if !covered[m.Name] {
			t.Errorf("metric %s is compared with no documented query: add a case to reportCases", m.Name)
		}
	}
	for _, c := range reportCases {
		t.Run(c.name, func(t *testing.T) {
			sql, ok := docs[c.query]
			if !ok {
				t.Fatalf("docs/queries.md has no query %s", c.query)
			}
			req := c.req
			for col, m := range c.cols {
				if m != "" {
					req.Metrics = append(req.Metrics, m)
				}
				_ = col
			}
			res, err := Run(ctx, conn, db, req)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Row{}
			for _, r := range res.Rows {
				got[strings.Join(r.Keys, "|")] = r
			}
			idx := map[string]int{}
			for i, m := range res.Metrics {
				idx[m.Name] = i
			}
			matched, nonNull := 0, 0
			for _, d := range docRows(t, conn, sql) {
				skip := false
				for k, v := range c.where {
					skip = skip || d[k] != v
				}
				if skip {
					continue
				}
				var key []string
				for _, k := range c.keys {
					if lit, ok := strings.CutPrefix(k, "="); ok {
						key = append(key, lit)
					} else {
						key = append(key, d[k])
					}
				}
				id := strings.Join(key, "|")
				r, ok := got[id]
				empty := true
				for col, m := range c.cols {
					if m != "" && d[col] != "NULL" && d[col] != "0" {
						empty = false
					}
				}
				if !ok {
					if !empty {
						t.Errorf("%s: no report row %s; the query has %v", c.query, id, d)
					}
					continue
				}
				delete(got, id)
				matched++
				for col, m := range c.cols {
					if m == "" {
						continue
					}
					v := r.Values[idx[m]]
					if v.String() != d[col] {
						t.Errorf("%s %s: %s = %s, the query's %s = %s", c.query, id, m, v, col, d[col])
					}
					if !v.Null && v.Num != 0 {
						nonNull++
					}
				}
			}
			if matched == 0 || nonNull == 0 {
				t.Fatalf("%s: nothing compared (%d rows, %d non-zero figures): the case tests nothing", c.query, matched, nonNull)
			}
			if len(got) > 0 && !c.extra {
				for id := range got {
					t.Errorf("%s: the report has a row %s the query has not", c.query, id)
				}
			}
		})
	}

	t.Run("group filter", func(t *testing.T) {
		ms := []string{"reply_3min_rate", "avg_wait_s", "agent_sales_yuan"}
		byGroup, err := Run(ctx, conn, db, Request{By: "group", Metrics: ms, Shops: []string{shop1}})
		if err != nil {
			t.Fatal(err)
		}
		one, err := Run(ctx, conn, db, Request{By: "shop", Metrics: ms, Shops: []string{shop1}, Groups: []string{"pre-sales"}})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range byGroup.Rows {
			if r.Keys[1] == "pre-sales" {
				found = true
				if len(one.Rows) != 1 || !equalValues(one.Rows[0].Values, r.Values) {
					t.Errorf("--group pre-sales by shop: %+v, the group's row by group: %+v", one.Rows, r.Values)
				}
			}
		}
		if !found {
			t.Fatal("no pre-sales group in generated traffic")
		}
	})
}

func equalValues(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].String() != b[i].String() {
			return false
		}
	}
	return true
}
