package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/internal/testenv"
)

var inputTopics = []string{"cs.sessions", "cs.transfers", "cs.messages", "cs.evaluations", "cs.orders", "cs.outreach"}

// produceFiles produces the JSON lines of a `cspulse gen --out-dir` to
// their topics with kcat, keyed by shop as Kafka partitions them; it
// returns how many records it produced.
func produceFiles(t *testing.T, kcat, addr, dir string) int {
	t.Helper()
	n := 0
	for _, topic := range inputTopics {
		lines := readInput(t, dir, topic)
		if len(lines) == 0 {
			continue // nothing to produce (and no topic for kcat to create)
		}
		n += bytes.Count(lines, []byte("\n"))
		cmd := exec.Command(kcat, "-P", "-b", addr, "-t", topic, "-K", "\t", "-X", "partitioner=murmur2_random")
		cmd.Stdin = bytes.NewReader(keyByShop(t, lines))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat -P %s: %v\n%s", topic, err, out)
		}
	}
	return n
}

// readInput reads a topic's file of `cspulse gen --out-dir`; the optional
// cs.outreach has none when a small run made no outreach.
func readInput(t *testing.T, dir, topic string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, topic+".jsonl"))
	if errors.Is(err, fs.ErrNotExist) && topic == "cs.outreach" {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var finishedRE = regexp.MustCompile(`run finished.*"events": (\d+), "dead_letters": (\d+)`)

// finishedRecords reads events + dead letters from the run's last line.
func finishedRecords(t *testing.T, out string) int {
	t.Helper()
	m := finishedRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no run finished line:\n%s", out)
	}
	e, _ := strconv.Atoi(m[1])
	d, _ := strconv.Atoi(m[2])
	return e + d
}

// TestUntilIdleWithLatestOnANewGroup: a bounded run of a new group with
// kafka.start_offset latest reads what is appended after it started, and
// ends once that is consumed and idle. It used to wait forever: no
// committed offset and no polled record ever reached the partitions' end.
func TestUntilIdleWithLatestOnANewGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	db := testenv.Database(t, chAddr)
	addr := freeAddr(t)
	start(t, "broker", "--listen", addr)
	waitBroker(t, kcat, addr)
	before, after := t.TempDir(), t.TempDir()
	runOK(t, "gen", "--out-dir", before, "--seed", "5", "--shops", "2", "--sessions-per-shop-day", "40")
	runOK(t, "gen", "--out-dir", after, "--seed", "6", "--shops", "1", "--sessions-per-shop-day", "30")
	produceFiles(t, kcat, addr, before)

	// Nothing arrives after the start: the run ends after until_idle.
	quiet, qout := start(t, "run", "--brokers", addr, "--clickhouse", chAddr, "--database", db, "--run.http_listen=",
		"--kafka.group", "latest-quiet", "--kafka.start_offset", "latest", "--until-idle", "2s")
	if err := waitExit(t, quiet, 60*time.Second); err != nil {
		t.Fatalf("quiet run: %v\n%s", err, qout)
	}
	if got := finishedRecords(t, qout.String()); got != 0 {
		t.Errorf("a latest run with nothing new read %d records, want 0", got)
	}

	// Records appended after the start are its input.
	run, out := start(t, "run", "--brokers", addr, "--clickhouse", chAddr, "--database", db, "--run.http_listen=",
		"--kafka.group", "latest-new", "--kafka.start_offset", "latest", "--until-idle", "3s")
	waitFor(t, out, "partitions assigned", time.Minute)
	want := produceFiles(t, kcat, addr, after)
	if err := waitExit(t, run, 90*time.Second); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := finishedRecords(t, out.String()); got != want {
		t.Errorf("the run read %d records, want the %d appended after it started", got, want)
	}
	if !strings.Contains(out.String(), "input idle: closing all state") {
		t.Errorf("the run did not close its state at the end of input")
	}

	// The quiet group finished where it started; run again, it reads
	// what came since (not from offset 0 of its state's untouched inputs).
	again, aout := start(t, "run", "--brokers", addr, "--clickhouse", chAddr, "--database", db, "--run.http_listen=",
		"--kafka.group", "latest-quiet", "--kafka.start_offset", "latest", "--until-idle", "2s")
	if err := waitExit(t, again, 60*time.Second); err != nil {
		t.Fatalf("quiet group again: %v", err)
	}
	if got := finishedRecords(t, aout.String()); got != want {
		t.Errorf("the quiet group's second run read %d records, want the %d appended since its first", got, want)
	}
}
