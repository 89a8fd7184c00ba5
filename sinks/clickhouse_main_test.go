package sinks

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// The ClickHouse tests run against a real server:
//   - CSPULSE_CH_ADDR=host:port uses that server;
//   - otherwise scripts/clickhouse.sh start brings up the repo-local one
//     (127.0.0.1:$CSPULSE_CH_NATIVE_PORT, default 19000) and leaves it
//     running for the next run (scripts/clickhouse.sh stop ends it);
//   - CSPULSE_NO_CLICKHOUSE=1 or go test -short skips them, loudly.
//
// The server is started on first use, so tests of this package that need no
// ClickHouse run without one. Every test gets its own database, named after
// this run, and TestMain drops them all at the end.

var chEnv struct {
	once    sync.Once
	addr    string
	err     error
	runID   string
	mu      sync.Mutex
	conn    driver.Conn
	created []string
}

func TestMain(m *testing.M) {
	chEnv.runID = fmt.Sprintf("cspulse_test_%d_%d", time.Now().Unix(), os.Getpid())
	code := m.Run()
	dropTestDatabases()
	stopShards()
	os.Exit(code)
}

func dropTestDatabases() {
	chEnv.mu.Lock()
	defer chEnv.mu.Unlock()
	if chEnv.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, db := range chEnv.created {
		if err := chEnv.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			fmt.Fprintf(os.Stderr, "drop test database %s: %v\n", db, err)
		}
	}
	_ = chEnv.conn.Close()
}

// clickHouseAddr returns the server's native address, starting the local
// server once per run. It skips only on CSPULSE_NO_CLICKHOUSE=1: a server
// that cannot start is a failure, not a reason to pass.
func clickHouseAddr(t *testing.T) string {
	t.Helper()
	if os.Getenv("CSPULSE_NO_CLICKHOUSE") == "1" {
		t.Skip("SKIPPING ClickHouse integration test: CSPULSE_NO_CLICKHOUSE=1 is set")
	}
	if testing.Short() {
		t.Skip("SKIPPING ClickHouse integration test in -short mode")
	}
	chEnv.once.Do(func() {
		if addr := os.Getenv("CSPULSE_CH_ADDR"); addr != "" {
			chEnv.addr = addr
			return
		}
		chEnv.err = startLocalServer()
		port := os.Getenv("CSPULSE_CH_NATIVE_PORT")
		if port == "" {
			port = "19000"
		}
		chEnv.addr = "127.0.0.1:" + port
	})
	if chEnv.err != nil {
		t.Fatalf("local ClickHouse: %v (set CSPULSE_CH_ADDR to use another server, or CSPULSE_NO_CLICKHOUSE=1 to skip)", chEnv.err)
	}
	return chEnv.addr
}

func startLocalServer() error {
	script, err := filepath.Abs(filepath.Join("..", "scripts", "clickhouse.sh"))
	if err != nil {
		return fmt.Errorf("locate scripts/clickhouse.sh: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", script, "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s start: %w\n%s", script, err, out)
	}
	return nil
}

// baseConfig is a complete writer config for the tests (the defaults of
// clickhouse.* are config's; pipeline.ClickHouseConfig maps them), with
// fast retries; addr and database are the caller's.
func baseConfig() ClickHouseConfig {
	return ClickHouseConfig{
		User:         "default",
		DialTimeout:  5 * time.Second,
		MaxBatchRows: 50_000,
		Retry: RetryConfig{
			InitialInterval: 20 * time.Millisecond,
			MaxInterval:     200 * time.Millisecond,
			MaxElapsed:      10 * time.Second,
		},
	}
}

// testConfig is the writer config for a fresh database of this run.
func testConfig(t *testing.T, name string) ClickHouseConfig {
	t.Helper()
	cfg := baseConfig()
	cfg.Addr = []string{clickHouseAddr(t)}
	cfg.Database = chEnv.runID + "_" + name
	registerDatabase(t, cfg)
	return cfg
}

// registerDatabase remembers db for the final drop, keeping one admin
// connection for it.
func registerDatabase(t *testing.T, cfg ClickHouseConfig) {
	t.Helper()
	chEnv.mu.Lock()
	defer chEnv.mu.Unlock()
	if chEnv.conn == nil {
		ch, err := OpenClickHouse(context.Background(), cfg, nil)
		if err != nil {
			t.Fatalf("open admin connection: %v", err)
		}
		chEnv.conn = ch.Conn()
	}
	chEnv.created = append(chEnv.created, cfg.Database)
}

// openMigrated opens a writer on a fresh, migrated database.
func openMigrated(t *testing.T, name string, log *zap.Logger) *ClickHouse {
	t.Helper()
	ctx := context.Background()
	cfg := testConfig(t, name)
	if log == nil {
		log = zaptest.NewLogger(t)
	}
	ch, err := OpenClickHouse(ctx, cfg, log)
	if err != nil {
		t.Fatalf("OpenClickHouse: %v", err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	if _, err := Migrate(ctx, ch.Conn(), cfg.Database, log); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return ch
}

// openWithDefaultDB opens a plain driver connection whose default database
// is db, to run documentation queries that name tables without a database.
func openWithDefaultDB(t *testing.T, db string) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr: []string{clickHouseAddr(t)},
		Auth: clickhouse.Auth{Database: db, Username: "default"},
	})
	if err != nil {
		t.Fatalf("open %s: %v", db, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}
