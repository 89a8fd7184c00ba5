package sinks

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var sqlBlockRE = regexp.MustCompile("(?s)```sql\n(.*?)```")

// TestReadmeQueriesRun runs every sql block of deploy/clickhouse/README.md
// on a migrated database holding several versions of some rows, so the
// documented queries cannot drift from the schema or from what 18.16 parses.
func TestReadmeQueriesRun(t *testing.T) {
	ctx := context.Background()
	src, err := os.ReadFile(filepath.Join("..", "deploy", "clickhouse", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, m := range sqlBlockRE.FindAllStringSubmatch(string(src), -1) {
		// Blocks inside list items are indented; ClickHouse does not mind.
		queries = append(queries, strings.TrimSpace(m[1]))
	}
	if len(queries) < 10 {
		t.Fatalf("found %d sql blocks in the README, expected the worked examples", len(queries))
	}

	ch := openMigrated(t, "docs", nil)
	seedDocsData(t, ch)
	conn := openWithDefaultDB(t, ch.Database())
	for i, q := range queries {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Errorf("README sql block %d fails: %v\n%s", i+1, err, q)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Errorf("README sql block %d: %v", i+1, err)
		}
		rows.Close()
		if n == 0 {
			t.Errorf("README sql block %d returned no rows on the sample data:\n%s", i+1, q)
		}
	}

	// Blocks 1 and 2 are the FINAL and argMax shapes of one query.
	var sums [2]uint64
	for i := range sums {
		if err := conn.QueryRow(ctx, "SELECT sum(buyer_msgs) FROM ("+queries[i]+")").Scan(&sums[i]); err != nil {
			t.Fatal(err)
		}
	}
	if sums[0] != sums[1] || sums[0] != 40 {
		t.Errorf("FINAL shape sums %d, argMax shape %d; want both 40", sums[0], sums[1])
	}
}

// seedDocsData writes two versions of two agent rows and one row of every
// other table, enough for each README query to return something.
func seedDocsData(t *testing.T, ch *ClickHouse) {
	t.Helper()
	ctx := context.Background()
	write := func(tbl Table, rows ...[]any) {
		if err := ch.Write(ctx, tbl, rows); err != nil {
			t.Fatalf("seed %s: %v", tbl.Name, err)
		}
	}
	write(agentHourlyTable, agentRow("a1", 10, 1), agentRow("a2", 20, 2))
	write(agentHourlyTable, agentRow("a1", 20, 2), agentRow("a2", 10, 1))
	write(Table{Name: "cs_shop_hourly", Columns: []string{"shop_id", "hour", "day", "hour_of_day",
		"consult_sessions", "transferred_sessions", "transferred_picked_sessions", "paid_amount_total", "version"}},
		[]any{"s1", shanghai09, day0105, uint8(9), uint64(5), uint64(4), uint64(3), int64(1000), uint64(1)})
	write(Table{Name: "cs_inquiry_daily", Columns: []string{"shop_id", "agent_id", "day", "inquiry_buyers", "paid_buyers", "version"}},
		[]any{"s1", "a1", day0105, uint64(4), uint64(1), uint64(1)})
	robot := Table{Name: "cs_robot_hourly", Columns: []string{"shop_id", "task_id", "robot_id", "hour", "day", "hour_of_day", "intent", "calls", "connected", "version"}}
	at10 := shanghai09.Add(time.Hour)
	write(robot, []any{"s1", "t1", "r1", at10, day0105, uint8(10), "A", uint64(3), uint64(2), uint64(1)})
	write(sessionsTable, sessionRow("sess1", shanghai09, "ended", 1))
}
