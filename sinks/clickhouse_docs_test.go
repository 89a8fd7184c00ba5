package sinks

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/internal/testenv"
)

var (
	sqlBlockRE   = regexp.MustCompile("(?s)```sql\n(.*?)```")
	namedQueryRE = regexp.MustCompile("(?s)<!-- query: ([a-z0-9_]+) -->\n```sql\n(.*?)```")
)

// docSQL is one sql block of a documentation page.
type docSQL struct {
	where string // file and block name or number
	sql   string
}

// TestDocQueriesRun runs every sql block of docs/queries.md (the analysts'
// page, one place for queries) and of deploy/clickhouse/README.md (the read
// shapes next to the DDL) on a migrated database holding several versions
// of some rows, so the documented queries cannot drift from the schema or
// from what 18.16 parses. Their results are checked on the whole path by
// pipeline/queries_test.go: on a hand-made scenario against figures worked
// out from the SPEC, and on generated traffic, where each must return rows.
func TestDocQueriesRun(t *testing.T) {
	ctx := context.Background()
	page := readDoc(t, "docs", "queries.md")
	named := map[string]string{}
	var blocks []docSQL
	for _, m := range namedQueryRE.FindAllStringSubmatch(page, -1) {
		if _, dup := named[m[1]]; dup {
			t.Errorf("docs/queries.md: query name %q used twice", m[1])
		}
		named[m[1]] = strings.TrimSpace(m[2])
		blocks = append(blocks, docSQL{"docs/queries.md " + m[1], named[m[1]]})
	}
	if n := len(sqlBlockRE.FindAllString(page, -1)); n != len(named) {
		t.Errorf("docs/queries.md: %d sql blocks, %d named: put <!-- query: name --> before each", n, len(named))
	}
	if len(named) < 25 {
		t.Fatalf("docs/queries.md: %d named queries, expected the worked examples of every SPEC §3.1–3.3 metric", len(named))
	}
	readme := readDoc(t, "deploy", "clickhouse", "README.md")
	readmeBlocks := sqlBlockRE.FindAllStringSubmatch(readme, -1)
	if len(readmeBlocks) < 2 {
		t.Fatalf("deploy/clickhouse/README.md: %d sql blocks, expected the FINAL and argMax read shapes", len(readmeBlocks))
	}
	for i, m := range readmeBlocks {
		// Blocks inside list items are indented; ClickHouse does not mind.
		blocks = append(blocks, docSQL{"deploy/clickhouse/README.md block " + strconv.Itoa(i+1), strings.TrimSpace(m[1])})
	}

	ch := openMigrated(t, nil)
	seedDocsData(t, ch)
	conn := testenv.Conn(t, clickHouseAddr(t), ch.Database())
	for _, b := range blocks {
		rows, err := conn.Query(ctx, b.sql)
		if err != nil {
			t.Errorf("%s fails: %v\n%s", b.where, err, b.sql)
			continue
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", b.where, err)
		}
		rows.Close()
	}

	// Section 9 on the hand-made alerts and rankings: an alert written
	// twice shows once, a row with ranked = 0 or an older version never.
	for name, want := range map[string]int{"alerts_recent": 5, "alerts_open_breaches": 3,
		"ranking_shop_day": 3, "ranking_group_day": 2, "ranking_agent_history": 2} {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM ("+named[name]+")").Scan(&n); err != nil {
			t.Errorf("%s: %v", name, err)
		} else if n != uint64(want) {
			t.Errorf("%s: %d rows on the hand-made alerts and rankings, want %d", name, n, want)
		}
	}

	// The FINAL and argMax shapes, on both pages, read the same: the
	// newest version of each row (20 + 20), never a sum of versions.
	shapes := []docSQL{
		{"docs/queries.md read_final", named["read_final"]},
		{"docs/queries.md read_argmax", named["read_argmax"]},
		{"README block 1", strings.TrimSpace(readmeBlocks[0][1])},
		{"README block 2", strings.TrimSpace(readmeBlocks[1][1])},
	}
	for _, s := range shapes {
		var got uint64
		if err := conn.QueryRow(ctx, "SELECT toUInt64(sum(buyer_msgs_n)) FROM ("+s.sql+")").Scan(&got); err != nil {
			t.Errorf("%s: %v", s.where, err)
		} else if got != 40 {
			t.Errorf("%s sums buyer_msgs to %d on two versions of two rows; want 40 (the newest versions)", s.where, got)
		}
	}
}

func readDoc(t *testing.T, path ...string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(append([]string{".."}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// The literals of the documented queries: shop-0001 in Asia/Shanghai,
// local 2026-11-02 09:00 (01:00 UTC).
var (
	docsHour = time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
	docsDay  = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
)

// docsAgentRow is a cs_agent_hourly row of shop-0001 whose counters all
// equal n, so a read shows at once which version survived.
func docsAgentRow(agent string, n uint64, version uint64) []any {
	row := []any{"shop-0001", "pre-sales", agent, docsHour, docsDay, uint8(9)}
	for range 19 {
		row = append(row, n)
	}
	return append(row, int64(n)*100, version)
}

// seedDocsData writes two versions of two agent rows and one row of every
// other table.
func seedDocsData(t *testing.T, ch *ClickHouse) {
	t.Helper()
	ctx := context.Background()
	write := func(tbl Table, rows ...[]any) {
		if err := writeAny(ctx, ch, tbl, rows); err != nil {
			t.Fatalf("seed %s: %v", tbl.Name, err)
		}
	}
	write(agentHourlyTable, docsAgentRow("shop-0001-a01", 10, 1), docsAgentRow("shop-0001-a02", 20, 2))
	write(agentHourlyTable, docsAgentRow("shop-0001-a01", 20, 2), docsAgentRow("shop-0001-a02", 10, 1))
	write(Table{Name: "cs_shop_hourly", Columns: []string{"shop_id", "hour", "day", "hour_of_day",
		"consult_sessions", "transferred_sessions", "transferred_picked_sessions", "paid_amount_total", "version"}},
		[]any{"shop-0001", docsHour, docsDay, uint8(9), uint64(5), uint64(4), uint64(3), int64(1000), uint64(1)})
	write(Table{Name: "cs_inquiry_daily", Columns: []string{"shop_id", "agent_id", "day", "inquiry_buyers", "paid_buyers", "version"}},
		[]any{"shop-0001", "shop-0001-a01", docsDay, uint64(4), uint64(1), uint64(1)})
	robot := Table{Name: "cs_robot_hourly", Columns: []string{"shop_id", "task_id", "robot_id", "hour", "day", "hour_of_day", "intent", "calls", "connected", "version"}}
	write(robot, []any{"shop-0001", "t1", "r1", docsHour.Add(time.Hour), docsDay, uint8(10), "A", uint64(3), uint64(2), uint64(1)})
	end := docsHour.Add(90 * time.Second)
	write(sessionsTable, []any{"shop-0001", "shop-0001-s2", "shop-0001-b2", "buyer", "app",
		docsHour, docsHour.UnixMilli(), end, end.UnixMilli(), int64(90_000), docsDay,
		"ended", "shop-0001-a01", []string{"shop-0001-a02", "shop-0001-a01"}, "pre-sales",
		uint32(3), uint32(4), uint32(0), uint8(1), uint8(0), int64(5_000),
		int64(12_000), uint8(1), uint8(0), uint8(3), "agent_single_sentence", uint64(1)})
	// Rankings and alerts: the hand-made rows the read side is tested on.
	for _, h := range testenv.HandMadeRankingsAndAlerts(t) {
		write(Table{Name: h.Name, Columns: h.Columns}, h.Rows...)
	}
}
