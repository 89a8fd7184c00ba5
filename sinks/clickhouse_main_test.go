package sinks

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/cspulse/cspulse/internal/testenv"
)

// The ClickHouse tests run against a real server, as every package's do
// (internal/testenv: CSPULSE_CH_ADDR, else the repo-local server of
// scripts/clickhouse.sh, started on first use; CSPULSE_NO_CLICKHOUSE=1
// skips them, loudly); go test -short skips them too. Every test gets its
// own database, dropped when it ends. The cluster tests' shards are this
// package's own (cluster_test.go); TestMain stops them.

var chEnv struct {
	runID string // names the cluster tests' databases
}

func TestMain(m *testing.M) {
	chEnv.runID = fmt.Sprintf("cspulse_test_%d_%d", time.Now().Unix(), os.Getpid())
	code := m.Run()
	stopShards()
	os.Exit(code)
}

// clickHouseAddr returns the server's native address (testenv), skipping
// in -short mode.
func clickHouseAddr(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPING ClickHouse integration test in -short mode")
	}
	return testenv.ClickHouseAddr(t)
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

// testConfig is the writer config for a fresh database (not created;
// dropped when the test ends).
func testConfig(t *testing.T) ClickHouseConfig {
	t.Helper()
	cfg := baseConfig()
	cfg.Addr = []string{clickHouseAddr(t)}
	cfg.Database = testenv.Database(t, cfg.Addr[0])
	return cfg
}

// openFresh opens a writer on a fresh database, not yet migrated (the
// migration tests' start); log nil is the test's logger.
func openFresh(t *testing.T, log *zap.Logger) *ClickHouse {
	t.Helper()
	if log == nil {
		log = zaptest.NewLogger(t)
	}
	ch, err := OpenClickHouse(context.Background(), testConfig(t), log)
	if err != nil {
		t.Fatalf("OpenClickHouse: %v", err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	return ch
}

// openMigrated opens a writer on a fresh, migrated database.
func openMigrated(t *testing.T, log *zap.Logger) *ClickHouse {
	t.Helper()
	if log == nil {
		log = zaptest.NewLogger(t)
	}
	ch := openFresh(t, log)
	if _, err := Migrate(context.Background(), ch.Conn(), ch.Database(), log); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return ch
}
