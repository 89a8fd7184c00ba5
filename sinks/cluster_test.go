package sinks

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/cspulse/cspulse/internal/testenv"
	"github.com/cspulse/cspulse/tables"
)

// The cluster tests run two more local ClickHouse servers, the shards of
// cluster cspulse_2shards, with scripts/clickhouse.sh (data under
// .local/clickhouse-shard1 and -shard2, native ports 19021 and 19022).
// They are stopped when the test binary ends unless CSPULSE_KEEP_SHARDS=1.
const testCluster = "cspulse_2shards"

var shardEnv struct {
	once  sync.Once
	err   error
	addrs []string
}

func shardAddrs(t *testing.T) []string {
	t.Helper()
	clickHouseAddr(t) // skips like every ClickHouse test
	shardEnv.once.Do(func() {
		ports := []string{"19021", "19022"}
		var members []string
		for _, p := range ports {
			members = append(members, "127.0.0.1:"+p)
		}
		for i, p := range ports {
			if err := shardScript(i+1, p, strings.Join(members, ","), "start"); err != nil {
				shardEnv.err = err
				return
			}
		}
		shardEnv.addrs = members
	})
	if shardEnv.err != nil {
		t.Fatalf("shard servers: %v", shardEnv.err)
	}
	return shardEnv.addrs
}

func shardScript(n int, port, members, cmd string) error {
	script, err := filepath.Abs(filepath.Join("..", "scripts", "clickhouse.sh"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", script, cmd)
	c.Env = append(os.Environ(),
		fmt.Sprintf("CSPULSE_CH_DIR=%s", filepath.Join(filepath.Dir(script), "..", ".local", fmt.Sprintf("clickhouse-shard%d", n))),
		"CSPULSE_CH_NATIVE_PORT="+port,
		fmt.Sprintf("CSPULSE_CH_HTTP_PORT=%d", 18140+n),
		"CSPULSE_CH_CLUSTER="+testCluster+"="+members)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("clickhouse.sh %s (shard %d): %w\n%s", cmd, n, err, out)
	}
	return nil
}

// stopShards is called by TestMain.
func stopShards() {
	if shardEnv.addrs == nil || os.Getenv("CSPULSE_KEEP_SHARDS") == "1" {
		return
	}
	for i, a := range shardEnv.addrs {
		_, port, _ := strings.Cut(a, ":")
		if err := shardScript(i+1, port, strings.Join(shardEnv.addrs, ","), "stop"); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// openCluster opens a writer in cluster mode on shard 1, with a fresh
// database migrated on both shards and dropped on both at the end.
func openCluster(t *testing.T, name string, log *zap.Logger) *ClickHouse {
	t.Helper()
	ctx := context.Background()
	addrs := shardAddrs(t)
	cfg := baseConfig()
	cfg.Addr = addrs[:1]
	cfg.Database = chEnv.runID + "_" + name
	cfg.Cluster = testCluster
	ch, err := OpenClickHouse(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, a := range addrs {
			c := cfg
			c.Addr = []string{a}
			if node, err := OpenClickHouse(context.Background(), c, nil); err == nil {
				_ = node.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database)
				_ = node.Close()
			}
		}
		_ = ch.Close()
	})
	return ch
}

func TestClusterStatements(t *testing.T) {
	c2 := clusterDDL{name: "c2"}
	got, err := clusterStatements("CREATE TABLE IF NOT EXISTS ${database}.cs_x\n(\n    shop_id String,\n    n UInt64\n)\nENGINE = ReplacingMergeTree(n)\nORDER BY shop_id", c2)
	want := []string{
		"CREATE TABLE IF NOT EXISTS ${database}.cs_x_local\n(\n    shop_id String,\n    n UInt64\n)\nENGINE = ReplacingMergeTree(n)\nORDER BY shop_id",
		"CREATE TABLE IF NOT EXISTS ${database}.cs_x AS ${database}.cs_x_local\nENGINE = Distributed(c2, ${database}, cs_x_local, cityHash64(shop_id))",
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("create: %q, %v\nwant %q", got, err, want)
	}
	got, err = clusterStatements("ALTER TABLE ${database}.cs_x ADD COLUMN m UInt8", c2)
	want = []string{"ALTER TABLE ${database}.cs_x_local ADD COLUMN m UInt8", "ALTER TABLE ${database}.cs_x ADD COLUMN m UInt8"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("alter: %q, %v", got, err)
	}
	runner := "CREATE TABLE IF NOT EXISTS ${database}.schema_migrations (version UInt32) ENGINE = MergeTree ORDER BY version"
	if got, err := clusterStatements(runner, c2); err != nil || !reflect.DeepEqual(got, []string{runner}) {
		t.Errorf("schema_migrations: %q, %v; want it unchanged", got, err)
	}
	if _, err := clusterStatements("CREATE TABLE IF NOT EXISTS ${database}.t (x UInt8) ENGINE = TinyLog", c2); err == nil {
		t.Errorf("a table without shop_id was accepted")
	}
	if _, err := clusterStatements("CREATE VIEW IF NOT EXISTS ${database}.v AS SELECT 1", c2); err == nil {
		t.Errorf("a view was accepted")
	}
}

// TestClusterStatementsReplicated: with replicas, each shard's local table
// is a ReplicatedReplacingMergeTree under a path of its own shard, database
// and table, the servers' {shard} and {replica} macros filling it in, the
// version column kept; the Distributed table and the ALTERs are as without
// replicas. Only generated here: this machine has no ZooKeeper or Keeper.
func TestClusterStatementsReplicated(t *testing.T) {
	rep := clusterDDL{name: "c2", replicated: true}
	got, err := clusterStatements("CREATE TABLE IF NOT EXISTS ${database}.cs_x\n(\n    shop_id String,\n    v UInt64\n)\nENGINE = ReplacingMergeTree(v)\nPARTITION BY tuple()\nORDER BY shop_id", rep)
	want := []string{
		"CREATE TABLE IF NOT EXISTS ${database}.cs_x_local\n(\n    shop_id String,\n    v UInt64\n)\n" +
			"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/${database}/cs_x_local', '{replica}', v)\nPARTITION BY tuple()\nORDER BY shop_id",
		"CREATE TABLE IF NOT EXISTS ${database}.cs_x AS ${database}.cs_x_local\nENGINE = Distributed(c2, ${database}, cs_x_local, cityHash64(shop_id))",
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("create: %q, %v\nwant %q", got, err, want)
	}
	if _, err := clusterStatements("CREATE TABLE IF NOT EXISTS ${database}.t (shop_id String) ENGINE = MergeTree ORDER BY shop_id", rep); err == nil {
		t.Error("a table of another engine was accepted for replicas")
	}
	// Every shipped migration's table can be replicated.
	files, _ := filepath.Glob(filepath.Join("..", "deploy", "clickhouse", "migrations", "*.sql"))
	if len(files) == 0 {
		t.Fatal("no migrations found")
	}
	for _, f := range files {
		m, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range splitStatements(string(m)) {
			if _, err := clusterStatements(stmt, rep); err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
			}
		}
	}
}

// clusterSeed writes the same deterministic rows — 8 shops over ten days
// of November 2026, two versions of many rows — to a writer.
func clusterSeed(t *testing.T, ch *ClickHouse) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(13, 16))
	n := func(max int) uint64 { return uint64(rng.IntN(max)) }
	var agent, shop, inquiry, robot, sessions [][]any
	shopTable := Table{Name: "cs_shop_hourly", Columns: []string{"shop_id", "hour", "day", "hour_of_day",
		"consult_sessions", "transferred_sessions", "transferred_picked_sessions", "received_sessions", "abandoned_sessions",
		"buyer_msgs", "agent_msgs", "paid_amount_total", "paid_amount_agents", "paid_amount_silent", "paid_orders", "version"}}
	inquiryTable := Table{Name: "cs_inquiry_daily", Columns: []string{"shop_id", "agent_id", "day", "inquiry_buyers", "ordered_buyers", "paid_buyers", "paid_amount", "version"}}
	robotTable := Table{Name: "cs_robot_hourly", Columns: []string{"shop_id", "task_id", "robot_id", "hour", "day", "hour_of_day", "intent", "calls", "connected", "version"}}
	for s := 1; s <= 8; s++ {
		shopID := fmt.Sprintf("shop-%04d", s)
		for d := 1; d <= 10; d++ {
			day := time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC)
			for h := 8; h < 23; h += 3 {
				hour := day.Add(time.Duration(h-8) * time.Hour) // local h in Asia/Shanghai
				for versions := 1 + rng.IntN(2); versions > 0; versions-- {
					v := uint64(versions)
					for a := 1; a <= 3; a++ {
						row := []any{shopID, []string{"pre-sales", "after-sales"}[a%2], fmt.Sprintf("%s-a%02d", shopID, a), hour, day, uint8(h)}
						buyer := n(40) + 1
						window := buyer
						row = append(row, buyer, window, n(int(window)+1), n(int(buyer)+1), n(900_000), n(50), n(10), n(10), n(6)+1, n(6), n(300_000), n(6), n(600_000), n(6), n(4), n(4), n(4), n(4), n(3), int64(n(100_000)), v)
						agent = append(agent, row)
					}
					shop = append(shop, []any{shopID, hour, day, uint8(h), n(30), n(20), n(20), n(20), n(5), n(200), n(200),
						int64(n(500_000)), int64(n(300_000)), int64(n(200_000)), n(10), v})
					robot = append(robot, []any{shopID, "t1", "r1", hour, day, uint8(h), []string{"A", "B", "", "E"}[rng.IntN(4)], n(20), n(10), v})
				}
			}
			for a := 1; a <= 3; a++ {
				inquiry = append(inquiry, []any{shopID, fmt.Sprintf("%s-a%02d", shopID, a), day, n(20), n(10), n(5), int64(n(100_000)), uint64(1)})
			}
			for k := 1; k <= 4; k++ {
				start := day.Add(time.Duration(1+k) * time.Hour)
				end := start.Add(time.Duration(n(3600)) * time.Second)
				agentID := fmt.Sprintf("%s-a%02d", shopID, 1+k%3)
				sessions = append(sessions, []any{shopID, fmt.Sprintf("%s-s%d-%d", shopID, d, k), fmt.Sprintf("%s-b%d", shopID, k), "buyer", "app",
					start, start.UnixMilli(), end, end.UnixMilli(), end.Sub(start).Milliseconds(), day,
					[]string{"ended", "timeout"}[k%2], agentID, []string{agentID}, "pre-sales",
					uint32(n(20)), uint32(n(20)), uint32(0), uint8(k % 2), uint8(0), int64(n(60_000)),
					int64(n(200_000)) - 1, uint8(1), uint8(1), uint8(n(6)), []string{"", "adverts"}[k/4], uint64(1)})
			}
		}
	}
	for _, w := range []struct {
		t    Table
		rows [][]any
	}{{agentHourlyTable, agent}, {shopTable, shop}, {inquiryTable, inquiry}, {robotTable, robot}, {sessionsTable, sessions}} {
		if err := writeAny(ctx, ch, w.t, w.rows); err != nil {
			t.Fatalf("seed %s: %v", w.t.Name, err)
		}
	}
	// Rankings and alerts: the hand-made rows of docs/queries.md §9.
	for _, h := range testenv.HandMadeRankingsAndAlerts(t) {
		if err := writeAny(ctx, ch, Table{Name: h.Name, Columns: h.Columns}, h.Rows); err != nil {
			t.Fatalf("seed %s: %v", h.Name, err)
		}
	}
}

// queryRows runs sql and returns its rows as sorted lines of text.
func queryRows(conn driver.Conn, sql string) ([]string, error) {
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	types := rows.ColumnTypes()
	for rows.Next() {
		vals := make([]any, len(types))
		for i, ct := range types {
			vals[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		var line []string
		for _, v := range vals {
			rv := reflect.ValueOf(v).Elem()
			for rv.Kind() == reflect.Pointer && !rv.IsNil() {
				rv = rv.Elem()
			}
			if rv.Kind() == reflect.Pointer {
				line = append(line, "NULL")
				continue
			}
			line = append(line, fmt.Sprint(rv.Interface()))
		}
		out = append(out, strings.Join(line, "\t"))
	}
	slices.Sort(out)
	return out, rows.Err()
}

// TestClusterQueriesMatchOneServer writes the same rows to one server and
// to a cluster of two shards, and checks that every query of
// docs/queries.md and deploy/clickhouse/README.md gives the same answer on
// both: versions collapse per shard (a shop lives on one), and sums,
// rates, joins and leaderboards combine across shards.
func TestClusterQueriesMatchOneServer(t *testing.T) {
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	ctx := context.Background()
	single := openMigrated(t, log)
	cluster := openCluster(t, "cluster_two", log)
	if n, err := cluster.Migrate(ctx, log); err != nil || n == 0 {
		t.Fatalf("cluster Migrate = %d, %v", n, err)
	}
	if n, err := cluster.Migrate(ctx, log); err != nil || n != 0 {
		t.Fatalf("second cluster Migrate = %d, %v; want 0, nil", n, err)
	}
	clusterSeed(t, single)
	clusterSeed(t, cluster)

	// Both shards hold some of the rows, and together all of them.
	var total uint64
	if err := single.Conn().QueryRow(ctx, "SELECT count() FROM "+single.Database()+".cs_agent_hourly").Scan(&total); err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for i, addr := range shardAddrs(t) {
		cfg := cluster.cfg
		cfg.Addr = []string{addr}
		node, err := OpenClickHouse(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		var n uint64
		err = node.Conn().QueryRow(ctx, "SELECT count() FROM "+cfg.Database+".cs_agent_hourly_local").Scan(&n)
		_ = node.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || n == total {
			t.Errorf("shard %d holds %d of %d agent rows: want a share", i+1, n, total)
		}
		sum += n
	}
	if sum != total {
		t.Errorf("the shards hold %d agent rows, one server %d", sum, total)
	}

	singleConn := testenv.Conn(t, clickHouseAddr(t), single.Database())
	clusterConn, err := clickhouse.Open(&clickhouse.Options{
		Addr: shardAddrs(t)[:1],
		Auth: clickhouse.Auth{Database: cluster.Database(), Username: "default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer clusterConn.Close()
	page := readDoc(t, "docs", "queries.md")
	blocks := map[string]string{}
	for _, m := range namedQueryRE.FindAllStringSubmatch(page, -1) {
		blocks["docs/queries.md "+m[1]] = strings.TrimSpace(m[2])
	}
	for i, m := range sqlBlockRE.FindAllStringSubmatch(readDoc(t, "deploy", "clickhouse", "README.md"), -1) {
		blocks[fmt.Sprintf("deploy/clickhouse/README.md block %d", i+1)] = strings.TrimSpace(m[1])
	}
	if len(blocks) < 25 {
		t.Fatalf("%d documented queries found", len(blocks))
	}
	nonEmpty := 0
	for _, name := range slices.Sorted(maps.Keys(blocks)) {
		want, err := queryRows(singleConn, blocks[name])
		if err != nil {
			t.Errorf("%s on one server: %v", name, err)
			continue
		}
		got, err := queryRows(clusterConn, blocks[name])
		if err != nil {
			t.Errorf("%s on two shards: %v", name, err)
			continue
		}
		if len(want) > 0 {
			nonEmpty++
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: two shards give %d rows, one server %d; first difference:\n%s", name, len(got), len(want), firstDiff(got, want))
		}
	}
	if nonEmpty < len(blocks)*2/3 {
		t.Errorf("only %d of %d queries return rows on the seed data: the comparison says little", nonEmpty, len(blocks))
	}
	t.Logf("%d queries compared, %d with rows", len(blocks), nonEmpty)
}

func firstDiff(got, want []string) string {
	for i := range max(len(got), len(want)) {
		g, w := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return "  two shards: " + g + "\n  one server: " + w
		}
	}
	return ""
}

// TestClusterMigrateAddColumn: a later ADD COLUMN reaches the local and
// the Distributed table on every shard, and runs again harmlessly.
func TestClusterMigrateAddColumn(t *testing.T) {
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	ctx := context.Background()
	cluster := openCluster(t, "cluster_alter", log)
	fsys := migrationsWith(t, map[string]string{
		"0101_probe_add.sql": "ALTER TABLE ${database}.cs_shop_hourly ADD COLUMN probe_note String DEFAULT '';\n",
	})
	for i := 0; i < 2; i++ {
		if _, err := cluster.MigrateFS(ctx, fsys, log); err != nil {
			t.Fatalf("cluster MigrateFS run %d: %v", i+1, err)
		}
	}
	for i, addr := range shardAddrs(t) {
		cfg := cluster.cfg
		cfg.Addr = []string{addr}
		node, err := OpenClickHouse(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		var n, engines uint64
		err = node.Conn().QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND name = 'probe_note' AND table IN ('cs_shop_hourly', 'cs_shop_hourly_local')",
			cfg.Database).Scan(&n)
		if err == nil {
			err = node.Conn().QueryRow(ctx, "SELECT countIf(engine = 'Distributed') FROM system.tables WHERE database = ?", cfg.Database).Scan(&engines)
		}
		_ = node.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(len(tables.All)); n != 2 || engines != want {
			t.Errorf("shard %d: probe_note on %d of the 2 tables, %d Distributed tables (want %d, one per output table)", i+1, n, engines, want)
		}
	}
	if err := writeAny(ctx, cluster, Table{Name: "cs_shop_hourly", Columns: []string{"shop_id", "hour", "day", "probe_note", "version"}},
		[][]any{{"shop-0001", docsHour, docsDay, "hello", uint64(1)}}); err != nil {
		t.Fatalf("write the new column through the Distributed table: %v", err)
	}
}
