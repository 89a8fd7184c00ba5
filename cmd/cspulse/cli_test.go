package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cspulse/cspulse/internal/testenv"
)

// These tests drive the built binary the way a user does. `make test` builds
// it and passes its path in CSPULSE_BIN; without it the test builds its own.

var binPath string

func TestMain(m *testing.M) {
	code := func() int {
		if p := os.Getenv("CSPULSE_BIN"); p != "" {
			binPath = p
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "cspulse-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binPath = filepath.Join(dir, "cspulse")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build cspulse: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the binary in the background; its output goes to the test log
// when the test fails.
func start(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	return startEnv(t, nil, args...)
}

// startEnv is start with extra environment variables ("KEY=value").
func startEnv(t *testing.T, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(binPath, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		if t.Failed() {
			t.Logf("%s %s:\n%s", filepath.Base(binPath), strings.Join(args, " "), out.String())
		}
	})
	return cmd, &out
}

// runOK runs the binary to its end; its output goes to the test log when
// it or the test fails.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binPath, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("cspulse %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cspulse %s:\n%s", strings.Join(args, " "), out)
		}
	})
	return string(out)
}

// waitBroker waits until kcat can read the broker's metadata.
func waitBroker(t *testing.T, kcat, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if exec.Command(kcat, "-L", "-b", addr, "-m", "2").Run() == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("broker %s did not come up", addr)
}

func waitExit(t *testing.T, cmd *exec.Cmd, within time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("%v still running after %v", cmd.Args, within)
		return nil
	}
}

// countStartedSessions counts, independently of the pipeline, the sessions
// the generated files start.
func countStartedSessions(t *testing.T, dir string) int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "cs.sessions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct {
			Type      string `json:"type"`
			SessionID string `json:"session_id"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Type == "started" {
			seen[ev.SessionID] = true
		}
	}
	return len(seen)
}

func count(t *testing.T, chAddr, db, query string) uint64 {
	t.Helper()
	var n uint64
	if err := testenv.Conn(t, chAddr, db).QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestBrokerProcessWithDataDir: the broker runs as its own process and keeps
// its log across a restart; gen produces to it; run reads all of it.
func TestBrokerProcessWithDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	db := testenv.Database(t, chAddr)
	addr, dataDir, files := freeAddr(t), t.TempDir(), t.TempDir()
	genArgs := []string{"--seed", "3", "--shops", "2", "--sessions-per-shop-day", "80"}

	broker, _ := start(t, "broker", "--listen", addr, "--data-dir", dataDir)
	waitBroker(t, kcat, addr)
	runOK(t, append([]string{"gen", "--brokers", addr}, genArgs...)...)
	_ = broker.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, broker, 20*time.Second); err != nil {
		t.Fatalf("broker exit: %v", err)
	}
	start(t, "broker", "--listen", addr, "--data-dir", dataDir)
	waitBroker(t, kcat, addr)

	runOK(t, "run", "--brokers", addr, "--until-idle", "2s", "--clickhouse", chAddr, "--database", db, "--run.http_listen=")
	runOK(t, append([]string{"gen", "--out-dir", files}, genArgs...)...)
	want := countStartedSessions(t, files)
	if want == 0 {
		t.Fatal("the generator started no session")
	}
	if got := count(t, chAddr, db, "SELECT count() FROM cs_sessions FINAL"); got != uint64(want) {
		t.Errorf("cs_sessions has %d sessions, the input started %d", got, want)
	}
}

// TestRunEmbeddedWithKcat: `run --embedded-kafka` starts a broker that an
// outside client (kcat) produces to, and `report` reads the result.
func TestRunEmbeddedWithKcat(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	db := testenv.Database(t, chAddr)
	addr, files := freeAddr(t), t.TempDir()
	runOK(t, "gen", "--out-dir", files, "--seed", "5", "--shops", "1", "--sessions-per-shop-day", "40")

	run, _ := start(t, "run", "--embedded-kafka", addr, "--until-idle", "3s", "--clickhouse", chAddr, "--database", db, "--run.http_listen=")
	waitBroker(t, kcat, addr)
	for _, topic := range []string{"cs.sessions", "cs.transfers", "cs.messages", "cs.evaluations", "cs.orders"} {
		lines, err := os.ReadFile(filepath.Join(files, topic+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		keyed := keyByShop(t, lines)
		cmd := exec.Command(kcat, "-P", "-b", addr, "-t", topic, "-K", "\t", "-X", "partitioner=murmur2_random") // as Kafka partitions (README)
		cmd.Stdin = bytes.NewReader(keyed)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat -P %s: %v\n%s", topic, err, out)
		}
	}
	if err := waitExit(t, run, 90*time.Second); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := countStartedSessions(t, files)
	if got := count(t, chAddr, db, "SELECT count() FROM cs_sessions FINAL"); got != uint64(want) {
		t.Errorf("cs_sessions has %d sessions, the input started %d", got, want)
	}
	out := runOK(t, "report", "--clickhouse", chAddr, "--database", db)
	if !strings.Contains(out, "shop-0001") || !strings.Contains(out, "top agents") {
		t.Errorf("report does not show the shop and its agents:\n%s", out)
	}
}

// keyByShop prefixes each JSON line with its shop_id and a tab, for kcat -K.
func keyByShop(t *testing.T, lines []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimSpace(lines), []byte("\n")) {
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var ev struct {
			ShopID string `json:"shop_id"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("sample line %q: %v", line, err)
		}
		fmt.Fprintf(&out, "%s\t%s\n", ev.ShopID, line)
	}
	return out.Bytes()
}

// TestSIGTERMFlushesAndExitsZero: a stopped run commits what it processed
// and exits 0 within the grace period.
func TestSIGTERMFlushesAndExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	db := testenv.Database(t, chAddr)
	addr := freeAddr(t)
	run, out := start(t, "run", "--embedded-kafka", addr, "--clickhouse", chAddr, "--database", db,
		"--run.http_listen=", "--run.shutdown_grace", "10s")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "partitions assigned") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	_ = run.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, run, 15*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if !strings.Contains(out.String(), "final checkpoint") {
		t.Errorf("no final checkpoint logged")
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	out, err := exec.Command(binPath, "config", "--time.session_timeout", "soon").CombinedOutput()
	if err == nil {
		t.Fatalf("accepted a bad duration:\n%s", out)
	}
	if !strings.Contains(string(out), "time.session_timeout") {
		t.Errorf("error does not name the key:\n%s", out)
	}
	out, err = exec.Command(binPath, "run").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "kafka.brokers") {
		t.Errorf("run without brokers: %v\n%s", err, out)
	}
}
