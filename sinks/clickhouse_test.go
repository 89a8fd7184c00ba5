package sinks

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cspulse/cspulse/internal/testenv"
	"github.com/cspulse/cspulse/tables"
)

var agentHourlyTable = Table{Name: "cs_agent_hourly", Columns: []string{
	"shop_id", "group_id", "agent_id", "hour", "day", "hour_of_day",
	"buyer_msgs", "buyer_msgs_window", "replied_3min_window", "replied_msgs",
	"response_ms_sum", "agent_msgs", "session_pairs_window", "session_pairs_3min_ok",
	"assignments", "picked_assignments", "first_response_ms_sum", "first_response_count",
	"wait_ms_sum", "wait_count", "ratings_window", "satisfied_window", "ratings", "satisfied",
	"paid_orders", "paid_amount", "version",
}}

var sessionsTable = Table{Name: "cs_sessions", Columns: []string{
	"shop_id", "session_id", "buyer_id", "origin", "channel",
	"started_at", "started_at_ms", "ended_at", "ended_at_ms", "duration_ms", "day",
	"close_reason", "last_agent_id", "agent_ids", "group_id",
	"buyer_msgs", "agent_msgs", "robot_msgs", "queued", "abandoned", "queue_wait_ms",
	"first_response_ms", "picked", "received", "rating", "filtered_by", "version",
}}

// shanghai09 is 2026-01-05 09:00 in Asia/Shanghai: hour holds the UTC
// instant, day and hour_of_day the local calendar.
var (
	shanghai09 = time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
	day0105    = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
)

// agentRow is a cs_agent_hourly row whose counters all equal n, so a read
// shows at once which version survived.
func agentRow(agent string, n uint64, version uint64) []any {
	row := []any{"s1", "g1", agent, shanghai09, day0105, uint8(9)}
	for range 19 {
		row = append(row, n)
	}
	return append(row, int64(n)*100, version)
}

func TestTableDefinitionsMatchSchema(t *testing.T) {
	ch := openMigrated(t, nil)
	for _, tbl := range []Table{agentHourlyTable, sessionsTable} {
		var cols []string
		err := ch.Conn().QueryRow(context.Background(),
			"SELECT groupArray(name) FROM (SELECT name FROM system.columns WHERE database = ? AND table = ?)",
			ch.Database(), tbl.Name).Scan(&cols)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cols, tbl.Columns) {
			t.Errorf("%s columns:\n got %v\nwant %v", tbl.Name, cols, tbl.Columns)
		}
	}
}

// readAgent reads one agent's row with FINAL, as analysts do.
func readAgent(t *testing.T, ch *ClickHouse, agent string, final string) (buyerMsgs, version uint64) {
	t.Helper()
	err := ch.Conn().QueryRow(context.Background(),
		"SELECT buyer_msgs, version FROM "+ch.Database()+".cs_agent_hourly "+final+
			" WHERE shop_id = 's1' AND agent_id = ?", agent).Scan(&buyerMsgs, &version)
	if err != nil {
		t.Fatalf("read %s: %v", agent, err)
	}
	return buyerMsgs, version
}

func TestWriteFinalKeepsHighestVersion(t *testing.T) {
	ctx := context.Background()
	ch := openMigrated(t, nil)

	// a1 gets versions in order, a2 out of order: a stale writer flushing
	// version 1 after version 2 must not win.
	for _, w := range []struct {
		agent      string
		n, version uint64
	}{{"a1", 10, 1}, {"a1", 20, 2}, {"a2", 20, 2}, {"a2", 10, 1}} {
		if err := writeAny(ctx, ch, agentHourlyTable, [][]any{agentRow(w.agent, w.n, w.version)}); err != nil {
			t.Fatalf("write %s v%d: %v", w.agent, w.version, err)
		}
	}
	for _, agent := range []string{"a1", "a2"} {
		if n, v := readAgent(t, ch, agent, "FINAL"); n != 20 || v != 2 {
			t.Errorf("%s FINAL = buyer_msgs %d version %d, want 20 and 2", agent, n, v)
		}
	}

	// The argMax shape reads the same without FINAL.
	var total uint64
	err := ch.Conn().QueryRow(ctx, "SELECT sum(b) FROM (SELECT argMax(buyer_msgs, version) AS b FROM "+
		ch.Database()+".cs_agent_hourly GROUP BY shop_id, hour, group_id, agent_id)").Scan(&total)
	if err != nil || total != 40 {
		t.Errorf("argMax sum = %d, %v; want 40", total, err)
	}

	// A merge keeps only the highest version of each key.
	if err := ch.Conn().Exec(ctx, "OPTIMIZE TABLE "+ch.Database()+".cs_agent_hourly FINAL"); err != nil {
		t.Fatalf("optimize: %v", err)
	}
	var rows, minVersion uint64
	err = ch.Conn().QueryRow(ctx, "SELECT count(), min(version) FROM "+ch.Database()+".cs_agent_hourly").Scan(&rows, &minVersion)
	if err != nil || rows != 2 || minVersion != 2 {
		t.Errorf("after OPTIMIZE FINAL: %d rows, min version %d, %v; want 2 rows of version 2", rows, minVersion, err)
	}
	for _, agent := range []string{"a1", "a2"} {
		if n, v := readAgent(t, ch, agent, ""); n != 20 || v != 2 {
			t.Errorf("%s after merge = %d, v%d; want 20, v2", agent, n, v)
		}
	}
}

// sessionRow is a cs_sessions row of shop s1 that started at start, with
// no first response (NULL) and rating 5.
func sessionRow(id string, start time.Time, closeReason string, version uint64) []any {
	end := start.Add(90 * time.Second)
	rating := uint8(5)
	return []any{"s1", id, "b1", "buyer", "app",
		start, start.UnixMilli(), end, end.UnixMilli(), int64(90_000), day0105,
		closeReason, "a2", []string{"a1", "a2"}, "g1",
		uint32(3), uint32(4), uint32(1), uint8(1), uint8(0), int64(5_000),
		(*int64)(nil), uint8(1), uint8(1), &rating, "", version}
}

// TestWriteNullableSessionColumns pins the native insert into the
// Nullable columns of 0007 on the running server (18.16 in this project):
// a typed nil pointer is NULL, a non-nil pointer its value, a plain value
// works too, and avg() skips the NULLs without a WHERE.
func TestWriteNullableSessionColumns(t *testing.T) {
	ctx := context.Background()
	ch := openMigrated(t, nil)
	start := time.Date(2026, 1, 5, 1, 2, 3, 0, time.UTC)
	fr, rating := int64(4_000), uint8(2)
	withValues := sessionRow("b", start, "ended", 1)
	withValues[21], withValues[24] = &fr, &rating
	plain := sessionRow("c", start, "ended", 1)
	plain[21], plain[24] = int64(8_000), uint8(4)
	none := sessionRow("a", start, "ended", 1)
	none[24] = (*uint8)(nil)
	if err := writeAny(ctx, ch, sessionsTable, [][]any{none, withValues}); err != nil {
		t.Fatal(err)
	}
	// Plain values in a Nullable column: a column of their own type.
	if err := writeAny(ctx, ch, sessionsTable, [][]any{plain}); err != nil {
		t.Fatal(err)
	}
	var (
		frNone   *int64
		rateNone *uint8
	)
	err := ch.Conn().QueryRow(ctx, "SELECT first_response_ms, rating FROM "+ch.Database()+
		".cs_sessions FINAL WHERE session_id = 'a'").Scan(&frNone, &rateNone)
	if err != nil || frNone != nil || rateNone != nil {
		t.Errorf("session a: first_response_ms %v, rating %v, %v; want NULL, NULL", frNone, rateNone, err)
	}
	var avgFR, avgRating float64
	var rated uint64
	err = ch.Conn().QueryRow(ctx, "SELECT avg(first_response_ms), avg(rating), count(rating) FROM "+
		ch.Database()+".cs_sessions FINAL").Scan(&avgFR, &avgRating, &rated)
	if err != nil || avgFR != 6_000 || avgRating != 3 || rated != 2 {
		t.Errorf("avg(first_response_ms) %v, avg(rating) %v, count(rating) %d, %v; want 6000, 3, 2", avgFR, avgRating, rated, err)
	}
}

func TestWriteSessionRowTypes(t *testing.T) {
	ctx := context.Background()
	ch := openMigrated(t, nil)
	start := time.Date(2026, 1, 5, 1, 2, 3, 456e6, time.UTC)
	if err := writeAny(ctx, ch, sessionsTable, [][]any{sessionRow("sess1", start, "timeout", 7)}); err != nil {
		t.Fatal(err)
	}
	var (
		agents    []string
		startedAt time.Time
		firstResp *int64
		startMs   int64
	)
	err := ch.Conn().QueryRow(ctx, "SELECT agent_ids, started_at, started_at_ms, first_response_ms FROM "+
		ch.Database()+".cs_sessions FINAL WHERE shop_id = 's1' AND session_id = 'sess1'").
		Scan(&agents, &startedAt, &startMs, &firstResp)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(agents, []string{"a1", "a2"}) || firstResp != nil || startMs != start.UnixMilli() {
		t.Errorf("read back agents %v first_response_ms %d started_at_ms %d", agents, firstResp, startMs)
	}
	// DateTime keeps whole seconds; the *_ms column keeps the rest.
	if !startedAt.Equal(start.Truncate(time.Second)) {
		t.Errorf("started_at = %v, want %v", startedAt, start.Truncate(time.Second))
	}
}

// TestFinalWhereFiltersAfterCollapse pins the read rule of the README: a
// WHERE on a column that changed between versions sees only the latest.
func TestFinalWhereFiltersAfterCollapse(t *testing.T) {
	ctx := context.Background()
	ch := openMigrated(t, nil)
	for _, row := range [][]any{sessionRow("x", shanghai09, "timeout", 1), sessionRow("x", shanghai09, "ended", 2)} {
		if err := writeAny(ctx, ch, sessionsTable, [][]any{row}); err != nil {
			t.Fatal(err)
		}
	}
	var n uint64
	err := ch.Conn().QueryRow(ctx, "SELECT count() FROM "+ch.Database()+".cs_sessions FINAL WHERE close_reason = 'timeout'").Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("FINAL WHERE on a superseded value = %d, %v; want 0", n, err)
	}
}

// countingConn counts INSERTs sent through it.
type countingConn struct {
	driver.Conn
	batches atomic.Int32
}

func (c *countingConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	c.batches.Add(1)
	return c.Conn.PrepareBatch(ctx, query, opts...)
}

func TestWriteSplitsIntoBatches(t *testing.T) {
	ctx := context.Background()
	ch := openMigrated(t, nil)
	counting := &countingConn{Conn: ch.conn}
	w := &ClickHouse{conn: counting, cfg: ch.cfg, log: zap.NewNop()}
	w.cfg.MaxBatchRows = 3

	var rows [][]any
	for i := range 10 {
		rows = append(rows, agentRow(string(rune('a'+i)), 1, 1))
	}
	if err := writeAny(ctx, w, agentHourlyTable, rows); err != nil {
		t.Fatal(err)
	}
	if got := counting.batches.Load(); got != 4 {
		t.Errorf("10 rows at 3 per batch took %d INSERTs, want 4", got)
	}
	var n uint64
	if err := ch.Conn().QueryRow(ctx, "SELECT count() FROM "+ch.Database()+".cs_agent_hourly FINAL").Scan(&n); err != nil || n != 10 {
		t.Errorf("stored %d rows, %v; want 10", n, err)
	}
}

// writeAny writes rows given as values (tests build rows that way).
func writeAny(ctx context.Context, w RowWriter, t Table, rows [][]any) error {
	r, err := tables.RowsOf(t, rows)
	if err != nil {
		return err
	}
	return w.Write(ctx, r)
}

func TestWriteBadRowIsPermanent(t *testing.T) {
	ctx := context.Background()
	core, logs := observer.New(zap.WarnLevel)
	ch := openMigrated(t, zap.New(core))

	bad := agentRow("a1", 1, 1)
	bad[6] = "not a number" // buyer_msgs UInt64
	start := time.Now()
	err := writeAny(ctx, ch, agentHourlyTable, [][]any{bad})
	if err == nil {
		t.Fatal("bad row written")
	}
	if !strings.Contains(err.Error(), "cs_agent_hourly") || !strings.Contains(err.Error(), "column buyer_msgs") {
		t.Errorf("error %q should name the table and the column", err)
	}
	if err := writeAny(ctx, ch, agentHourlyTable, [][]any{agentRow("a0", 1, 1), bad}); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("a row of other types than the rows before it: %v; want an error naming row 1", err)
	}
	if logs.Len() != 0 || time.Since(start) > 2*time.Second {
		t.Errorf("bad row was retried: %d retry logs in %v", logs.Len(), time.Since(start))
	}

	err = writeAny(ctx, ch, agentHourlyTable, [][]any{{"too", "short"}})
	if err == nil || !strings.Contains(err.Error(), "2 values for 27 columns") {
		t.Errorf("short row: err = %v", err)
	}
	err = writeAny(ctx, ch, Table{Name: "cs_agent_hourly; DROP", Columns: []string{"x"}}, [][]any{{uint8(1)}})
	if err == nil || !strings.Contains(err.Error(), "not a plain identifier") {
		t.Errorf("bad table name: err = %v", err)
	}
}

func TestWriteUnknownTableIsPermanent(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	ch := openMigrated(t, zap.New(core))
	err := writeAny(context.Background(), ch, Table{Name: "no_such_table", Columns: []string{"x"}}, [][]any{{uint8(1)}})
	if err == nil || !strings.Contains(err.Error(), "no_such_table") || logs.Len() != 0 {
		t.Fatalf("err = %v after %d retries; want a permanent error naming the table", err, logs.Len())
	}
}

// TestWriteRetriesThroughOutage cuts ClickHouse off mid-stream and brings
// it back while Write retries: the rows land once it is back.
func TestWriteRetriesThroughOutage(t *testing.T) {
	ctx := context.Background()
	direct := openMigrated(t, nil)
	proxy := testenv.StartProxy(t, clickHouseAddr(t))

	cfg := direct.cfg
	cfg.Addr = []string{proxy.Addr()}
	cfg.DialTimeout = time.Second
	core, logs := observer.New(zap.WarnLevel)
	ch, err := OpenClickHouse(ctx, cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if err := writeAny(ctx, ch, agentHourlyTable, [][]any{agentRow("a1", 1, 1)}); err != nil {
		t.Fatalf("write before outage: %v", err)
	}

	proxy.SetUp(false)
	time.AfterFunc(time.Second, func() { proxy.SetUp(true) })
	if err := writeAny(ctx, ch, agentHourlyTable, [][]any{agentRow("a1", 2, 2)}); err != nil {
		t.Fatalf("write across outage: %v", err)
	}
	if logs.FilterMessage("clickhouse insert failed, retrying").Len() == 0 {
		t.Error("no retry was logged")
	}
	if n, v := readAgent(t, direct, "a1", "FINAL"); n != 2 || v != 2 {
		t.Errorf("after outage FINAL = %d v%d, want 2 v2", n, v)
	}
}

func TestWriteGivesUpAfterMaxElapsed(t *testing.T) {
	ctx := context.Background()
	direct := openMigrated(t, nil)
	proxy := testenv.StartProxy(t, clickHouseAddr(t))
	cfg := direct.cfg
	cfg.Addr = []string{proxy.Addr()}
	cfg.Retry.MaxElapsed = 500 * time.Millisecond
	ch, err := OpenClickHouse(ctx, cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()

	proxy.SetUp(false)
	start := time.Now()
	err = writeAny(ctx, ch, agentHourlyTable, [][]any{agentRow("a1", 1, 1)})
	if err == nil {
		t.Fatal("write succeeded with ClickHouse down")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("gave up after %v, want about MaxElapsed", elapsed)
	}

	// A cancelled context ends the retries too, and keeps the cause.
	cfg.Retry.MaxElapsed = time.Hour
	ch2, err := OpenClickHouse(ctx, cfg, zap.NewNop())
	if err == nil {
		defer ch2.Close()
		t.Fatal("OpenClickHouse pinged a server that is down")
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	ch.cfg.Retry.MaxElapsed = time.Hour
	err = writeAny(cctx, ch, agentHourlyTable, [][]any{agentRow("a1", 1, 1)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestOpenClickHouseUnreachable(t *testing.T) {
	cfg := baseConfig()
	cfg.Addr = []string{"127.0.0.1:1"}
	cfg.Database = "cspulse"
	cfg.DialTimeout = time.Second
	_, err := OpenClickHouse(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "ping clickhouse") {
		t.Fatalf("err = %v", err)
	}
}

// TestConfigValidate: the writer refuses a config it cannot work with
// (the user-facing checks, naming keys, are config's).
func TestConfigValidate(t *testing.T) {
	ok := baseConfig()
	ok.Addr, ok.Database = []string{"127.0.0.1:19000"}, "x"
	if err := ok.withBackoff().Validate(); err != nil {
		t.Fatalf("complete config refused: %v", err)
	}
	for name, mod := range map[string]func(*ClickHouseConfig){
		"database a-b":       func(c *ClickHouseConfig) { c.Database = "a-b" },
		"addr without port":  func(c *ClickHouseConfig) { c.Addr = []string{"localhost"} },
		"no addr":            func(c *ClickHouseConfig) { c.Addr = nil },
		"no batch rows":      func(c *ClickHouseConfig) { c.MaxBatchRows = 0 },
		"no retry limit":     func(c *ClickHouseConfig) { c.Retry.MaxElapsed = 0 },
		"no dial timeout":    func(c *ClickHouseConfig) { c.DialTimeout = 0 },
		"cluster two-shards": func(c *ClickHouseConfig) { c.Cluster = "two-shards" },
	} {
		c := ok
		mod(&c)
		if err := c.withBackoff().Validate(); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if c := (ClickHouseConfig{}).withBackoff(); c.Retry.InitialInterval <= 0 || c.Retry.MaxInterval < c.Retry.InitialInterval {
		t.Errorf("backoff intervals %+v", c.Retry)
	}
}
