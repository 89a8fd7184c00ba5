package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cspulse/cspulse/internal/testenv"
)

// TestStalledMemberIsFenced: member A's ClickHouse is cut while it
// checkpoints, so its poll loop stalls behind the insert and it cannot
// rejoin when member B arrives. After the rebalance timeout the group
// hands every partition to B, whose checkpoint writers fence A's. When
// A's ClickHouse comes back, A's stalled insert completes (rows of a
// committed checkpoint, which B restored too: harmless) and every later
// write of A for those partitions is refused. B's tables must equal a
// clean run's.
func TestStalledMemberIsFenced(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	clean, _ := cleanRun(t, kcat, chAddr)
	faulty := testenv.Database(t, chAddr)
	proxy := testenv.StartProxy(t, chAddr)
	addr, gen := startBrokerWithInput(t, kcat, "20000")

	a, aout := start(t, runArgs(addr, proxy.Addr(), "faulty", faulty)...)
	waitFor(t, aout, "partitions assigned", time.Minute)
	time.Sleep(1500 * time.Millisecond)
	proxy.SetUp(false)
	time.Sleep(time.Second) // A's next checkpoint is now stuck in its insert
	t.Log("member A's ClickHouse cut off; starting member B")

	b, bout := start(t, runArgs(addr, chAddr, "faulty", faulty, "--until-idle", "3s")...)
	waitFor(t, bout, `"cs.sessions":[0,1,2,3]`, 2*time.Minute)
	t.Log("member B owns every partition; A's ClickHouse comes back")
	proxy.SetUp(true)

	waitFor(t, aout, "fenced by the partition's new owner", time.Minute)
	t.Log("member A's next write was refused: fenced")
	// A rejoins as a new member and may own partitions again, legitimately;
	// it has no --until-idle, so stop it the orderly way: it checkpoints
	// and leaves, and B finishes everything. (A SIGKILL here can land in
	// the middle of A's join, which kfake never times out.)
	_ = a.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, a, time.Minute); err != nil {
		t.Logf("member A stopped: %v", err)
	}

	if err := waitExit(t, gen, 2*time.Minute); err != nil {
		t.Fatalf("gen: %v", err)
	}
	if err := waitExit(t, b, 3*time.Minute); err != nil {
		t.Fatalf("member B: %v", err)
	}
	compareTables(t, chAddr, clean, faulty)
}

// waitFor waits until out contains want.
func waitFor(t *testing.T, out interface{ String() string }, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q after %v:\n%s", want, within, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
