package sinks

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/cspulse/cspulse/config"
)

func TestRetentionCutoff(t *testing.T) {
	cases := []struct {
		now    time.Time
		months int
		want   int
	}{
		{time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), 3, 202609},
		{time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), 1, 202611},
		{time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), 1, 202512},
		{time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), 12, 202503},
	}
	for _, tc := range cases {
		if got := RetentionCutoff(tc.now, tc.months); got != tc.want {
			t.Errorf("RetentionCutoff(%s, %d) = %d, want %d", tc.now.Format(time.DateOnly), tc.months, got, tc.want)
		}
	}
}

// monthRows writes one cs_sessions row and one cs_agent_hourly row per
// month from 2026-06 to 2026-12.
func monthRows(t *testing.T, ch *ClickHouse) {
	t.Helper()
	var sessions, agents [][]any
	for m := time.June; m <= time.December; m++ {
		for s := 1; s <= 4; s++ { // four shops, so both shards of a cluster get some
			shop := fmt.Sprintf("shop-%04d", s)
			day := time.Date(2026, m, 10, 0, 0, 0, 0, time.UTC)
			start := day.Add(2 * time.Hour)
			sessions = append(sessions, []any{shop, fmt.Sprintf("%s-s%d", shop, m), "b", "buyer", "app",
				start, start.UnixMilli(), start, start.UnixMilli(), int64(0), day,
				"ended", "a", []string{"a"}, "g", uint32(1), uint32(1), uint32(0), uint8(0), uint8(0), int64(0),
				int64(-1), uint8(0), uint8(0), uint8(0), "", uint64(1)})
			row := []any{shop, "g", "a", start, day, uint8(10)}
			for range 19 {
				row = append(row, uint64(1))
			}
			agents = append(agents, append(row, int64(1), uint64(1)))
		}
	}
	ctx := context.Background()
	if err := writeAny(ctx, ch, sessionsTable, sessions); err != nil {
		t.Fatal(err)
	}
	if err := writeAny(ctx, ch, agentHourlyTable, agents); err != nil {
		t.Fatal(err)
	}
}

// months lists the distinct YYYYMM of day in a table, read through conn.
func monthsOf(t *testing.T, ch *ClickHouse, table string) []string {
	t.Helper()
	rows, err := ch.Conn().Query(context.Background(), "SELECT DISTINCT toString(toYYYYMM(day)) AS m FROM "+ch.Database()+"."+table+" ORDER BY m")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

var retentionNow = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func checkRetention(t *testing.T, ch *ClickHouse, nodes int) {
	t.Helper()
	ctx := context.Background()
	keep := map[string]int{"cs_sessions": 3, "cs_agent_hourly": 0}
	all := []string{"202606", "202607", "202608", "202609", "202610", "202611", "202612"}

	dry, err := ch.DropOldPartitions(ctx, keep, retentionNow, true)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if got := monthsOf(t, ch, "cs_sessions"); !slices.Equal(got, all) {
		t.Fatalf("a dry run changed cs_sessions: months %v", got)
	}
	dropped, err := ch.DropOldPartitions(ctx, keep, retentionNow, false)
	if err != nil {
		t.Fatalf("retention: %v", err)
	}
	if !slices.Equal(dry, dropped) {
		t.Errorf("the dry run listed %v, the run dropped %v", dry, dropped)
	}
	parts := map[string]bool{}
	var rows uint64
	servers := map[string]bool{}
	for _, p := range dropped {
		if !strings.HasPrefix(p.Table, "cs_sessions") {
			t.Errorf("dropped %s of %s, which keeps everything", p.Partition, p.Table)
		}
		parts[p.Partition] = true
		rows += p.Rows
		servers[p.Node] = true
	}
	if want := []string{"202606", "202607", "202608"}; !slices.Equal(slices.Sorted(maps.Keys(parts)), want) || rows != 12 || len(servers) != nodes {
		t.Errorf("dropped partitions %v (%d rows) on %d servers; want %v, 12 rows, on %d", slices.Sorted(maps.Keys(parts)), rows, len(servers), want, nodes)
	}
	if got := monthsOf(t, ch, "cs_sessions"); !slices.Equal(got, all[3:]) {
		t.Errorf("cs_sessions keeps months %v, want %v", got, all[3:])
	}
	if got := monthsOf(t, ch, "cs_agent_hourly"); !slices.Equal(got, all) {
		t.Errorf("cs_agent_hourly (keep 0) has months %v, want all of %v", got, all)
	}
	again, err := ch.DropOldPartitions(ctx, keep, retentionNow, false)
	if err != nil || len(again) != 0 {
		t.Errorf("second run: %v, %v; want nothing to drop", again, err)
	}
}

func TestDropOldPartitions(t *testing.T) {
	ch := openMigrated(t, nil)
	monthRows(t, ch)
	checkRetention(t, ch, 1)

	// A table whose partitions are not months is refused, not guessed at.
	ctx := context.Background()
	if err := ch.Conn().Exec(ctx, "CREATE TABLE "+ch.Database()+".daily (shop_id String, day Date) ENGINE = MergeTree PARTITION BY day ORDER BY shop_id"); err != nil {
		t.Fatal(err)
	}
	_, err := ch.DropOldPartitions(ctx, map[string]int{"daily": 1}, retentionNow, false)
	if err == nil || !strings.Contains(err.Error(), "not toYYYYMM(day)") {
		t.Errorf("retention on a table partitioned by day: %v", err)
	}
}

func TestDropOldPartitionsCluster(t *testing.T) {
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	ch := openCluster(t, "retention_cluster", log)
	if _, err := ch.Migrate(context.Background(), log); err != nil {
		t.Fatal(err)
	}
	monthRows(t, ch)
	checkRetention(t, ch, 2)
}

// TestRetentionCoversTables: every table that retention can prune has a
// retention.<table> key, so a new table cannot be forgotten.
func TestRetentionCoversTables(t *testing.T) {
	ch := openMigrated(t, nil)
	rows, err := ch.Conn().Query(context.Background(), "SELECT name FROM system.tables WHERE database = ? AND partition_key = ? ORDER BY name",
		ch.Database(), retentionPartitionKey)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	keys := slices.Sorted(maps.Keys(config.Defaults().Retention.Months()))
	if !slices.Equal(tables, keys) {
		t.Errorf("tables partitioned by month %v, retention keys %v: add retention.<table> to config", tables, keys)
	}
}
