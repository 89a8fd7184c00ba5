// Package testenv gives integration tests the real components they run
// against: the project-local ClickHouse server (started on first use by
// scripts/clickhouse.sh, which installs it when missing), a fresh database
// per test, and the kcat binary.
//
// Environment: CSPULSE_CH_ADDR uses another ClickHouse server;
// CSPULSE_NO_CLICKHOUSE=1 skips the ClickHouse tests, loudly. A server that
// cannot start is a failure, never a reason to pass.
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

var (
	startOnce sync.Once
	startErr  error
	dbSeq     atomic.Int64
)

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ClickHouseAddr returns the native address of a running server, starting
// the local one once per test binary.
func ClickHouseAddr(t testing.TB) string {
	t.Helper()
	if os.Getenv("CSPULSE_NO_CLICKHOUSE") == "1" {
		t.Skip("SKIPPING ClickHouse integration test: CSPULSE_NO_CLICKHOUSE=1 is set")
	}
	if addr := os.Getenv("CSPULSE_CH_ADDR"); addr != "" {
		return addr
	}
	startOnce.Do(func() { startErr = script("start") })
	if startErr != nil {
		t.Fatalf("local ClickHouse: %v", startErr)
	}
	port := os.Getenv("CSPULSE_CH_NATIVE_PORT")
	if port == "" {
		port = "19000"
	}
	return "127.0.0.1:" + port
}

func script(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	path := filepath.Join(RepoRoot(), "scripts", "clickhouse.sh")
	out, err := exec.CommandContext(ctx, "bash", append([]string{path}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", path, strings.Join(args, " "), err, out)
	}
	return nil
}

// Database returns the name of a database unique to this test (not yet
// created) and drops it when the test ends, unless CSPULSE_KEEP_DB=1.
func Database(t testing.TB, addr string) string {
	t.Helper()
	name := fmt.Sprintf("cspulse_t%d_%d_%d", time.Now().Unix()%100000, os.Getpid(), dbSeq.Add(1))
	t.Cleanup(func() {
		if os.Getenv("CSPULSE_KEEP_DB") == "1" {
			t.Logf("kept database %s", name)
			return
		}
		conn := Conn(t, addr, "default")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return name
}

// Conn opens a native connection whose default database is db.
func Conn(t testing.TB, addr, db string) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr: []string{addr},
		Auth: clickhouse.Auth{Database: db, Username: "default"},
	})
	if err != nil {
		t.Fatalf("open clickhouse %s/%s: %v", addr, db, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// Kcat returns the path of kcat, installing it with ClickHouse if missing.
func Kcat(t testing.TB) string {
	t.Helper()
	if path, err := exec.LookPath("kcat"); err == nil {
		return path
	}
	if err := script("ensure-installed"); err != nil {
		t.Fatalf("install kcat: %v", err)
	}
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat not found after install: %v", err)
	}
	return path
}
