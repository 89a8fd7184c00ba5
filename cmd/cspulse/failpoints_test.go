package main

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cspulse/cspulse/internal/failpoint"
	"github.com/cspulse/cspulse/internal/testenv"
)

// Failpoint tests (issue 17): a crash at every step of a checkpoint, and
// during a restore, must leave tables equal to a clean run's once a
// restarted pipeline finishes the input. Random kills rarely land between
// two particular steps; a failpoint kills the process exactly there.

// startWithFailpoint starts cspulse with the failpoint spec armed.
func startWithFailpoint(t *testing.T, spec string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	return startEnv(t, []string{failpoint.Env + "=" + spec}, args...)
}

// expectFailpointKill waits for cmd to die at its failpoint.
func expectFailpointKill(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer, point string) {
	t.Helper()
	err := waitExit(t, cmd, 2*time.Minute)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the run ended with %v, not killed at failpoint %s:\n%s", err, point, out.String())
	}
	if !strings.Contains(out.String(), "failpoint "+point+" reached") {
		t.Fatalf("the run was killed, but not at failpoint %s:\n%s", point, out.String())
	}
}

// failpointInput is the input of every failpoint case: produced while the
// run consumes it (over about five seconds), so that the run passes many
// checkpoints with rows, state and dead letters before the input ends.
var failpointInput = []string{"--poison", "0.002"}

// failpointRate is how fast the faulty run's input is produced: over about
// five seconds, or all at once at the bench's size (the first checkpoints
// are then the largest, several produce batches each).
func failpointRate() string {
	if os.Getenv("CSPULSE_FAULT_SIZE") == "bench" {
		return "0"
	}
	return "20000"
}

func TestFailpointsAreExact(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	clean, cleanAddr := cleanRun(t, kcat, chAddr, failpointInput...)

	pendingRows := regexp.MustCompile(`"rows_to_insert_again": [1-9]`)
	cases := []struct {
		name   string
		points []string // armed in turn, one run each; then a run to the end
		// pending: the kill came between a checkpoint's state write and
		// its inserts, so a restart must find rows to insert again.
		pending bool
	}{
		{name: "before-state", points: []string{failpoint.CheckpointBeforeState + "@10"}},
		{name: "state-mid", points: []string{failpoint.CheckpointStateMid + "@10"}},
		{name: "before-commit", points: []string{failpoint.CheckpointBeforeCommit + "@20"}},
		{name: "after-state", points: []string{failpoint.CheckpointAfterState + "@10"}, pending: true},
		{name: "after-first-insert", points: []string{failpoint.CheckpointAfterInsert + "@25"}, pending: true},
		{name: "before-offsets", points: []string{failpoint.CheckpointBeforeOffsets + "@10"}, pending: true},
		{name: "during-restore", points: []string{failpoint.CheckpointAfterState + "@10", failpoint.RestoreBeforeRows + "@2"}, pending: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := testenv.Database(t, chAddr)
			addr, gen := startBrokerWithInput(t, kcat, failpointRate(), failpointInput...)
			args := runArgs(addr, chAddr, "faulty", db, "--run.flush_interval", "100ms")
			for _, spec := range tc.points {
				cmd, out := startWithFailpoint(t, spec, args...)
				point, _, _ := strings.Cut(spec, "@")
				expectFailpointKill(t, cmd, out, point)
				t.Logf("killed at %s", spec)
			}
			if err := waitExit(t, gen, 2*time.Minute); err != nil {
				t.Fatalf("gen: %v", err)
			}
			final := runOK(t, append(args, "--until-idle", "2s")...)
			if tc.pending && !pendingRows.MatchString(final) {
				t.Errorf("the restart found no rows of the cut checkpoint to insert again: the kill proved nothing")
			}
			compareTables(t, chAddr, clean, db)
			checkDeadLettersOnce(t, kcat, cleanAddr, addr)
			checkAlertsOnce(t, kcat, chAddr, clean, cleanAddr, "clean", addr, "faulty")
		})
	}
}

// checkDeadLettersOnce reads cs.deadletter of both brokers as an outside
// consumer with read_committed isolation: the faulty run's dead letters
// are the clean run's (poison, and ratings after the rating window, which
// are late whatever the arrival order), each exactly once, whatever the
// crashes.
func checkDeadLettersOnce(t *testing.T, kcat, cleanAddr, faultyAddr string) {
	t.Helper()
	want, _ := deadLetterReasons(t, kcat, cleanAddr)
	got, dups := deadLetterReasons(t, kcat, faultyAddr)
	t.Logf("dead letters (read_committed) by reason: clean %v, after faults %v, %d duplicates", want, got, dups)
	if len(want) == 0 {
		t.Error("the clean run dead-lettered nothing; the comparison would prove nothing")
	}
	if dups != 0 || !maps.Equal(want, got) {
		t.Errorf("dead letters after faults: %v with %d duplicates, want the clean run's %v once each", got, dups, want)
	}
}

// deadLetterReasons counts the dead letters at addr by reason, and how many
// repeat a source record already seen.
func deadLetterReasons(t *testing.T, kcat, addr string) (reasons map[string]int, dups int) {
	t.Helper()
	out, err := exec.Command(kcat, "-C", "-b", addr, "-t", "cs.deadletter", "-X", "isolation.level=read_committed",
		"-o", "beginning", "-e", "-q", "-f", "%h\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	reasons, seen := map[string]int{}, map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		src, reason := sourceOf(line)
		if seen[src] {
			dups++
			continue
		}
		seen[src] = true
		reasons[reason]++
	}
	return reasons, dups
}

// sourceOf picks the source topic, partition and offset, and the reason,
// out of a dead letter's headers as kcat prints them.
func sourceOf(headers string) (source, reason string) {
	var topic, partition, offset string
	for _, h := range strings.Split(headers, ",") {
		k, v, _ := strings.Cut(h, "=")
		switch k {
		case "cspulse.topic":
			topic = v
		case "cspulse.partition":
			partition = v
		case "cspulse.offset":
			offset = v
		case "cspulse.reason":
			reason = v
		}
	}
	return topic + "/" + partition + "/" + offset, reason
}

// TestIncompleteCheckpointWithoutTransactions: without Kafka transactions
// a crash in the middle of a changelog write leaves part of a checkpoint.
// A restore must not load that mix: it stops with an error that names the
// way out, and a rebuild from the inputs (a new group) is exact.
func TestIncompleteCheckpointWithoutTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	clean, addr := cleanRun(t, kcat, chAddr)

	// The whole input is there at once: the first checkpoints are large.
	db := testenv.Database(t, chAddr)
	args := runArgs(addr, chAddr, "no-txn", db, "--run.flush_interval", "100ms", "--kafka.transactions=false")
	cmd, out := startWithFailpoint(t, failpoint.CheckpointStateMid+"@2", args...)
	expectFailpointKill(t, cmd, out, failpoint.CheckpointStateMid)

	restart := exec.Command(binPath, append(args, "--until-idle", "2s")...)
	msg, err := restart.CombinedOutput()
	if err == nil {
		t.Fatalf("the restart loaded a changelog cut in the middle of a checkpoint:\n%s", msg)
	}
	for _, want := range []string{"incomplete checkpoint", "Rebuilding"} {
		if !strings.Contains(string(msg), want) {
			t.Errorf("the restart's error does not say %q:\n%s", want, msg)
		}
	}
	// The documented way out: the same inputs into a new group.
	runOK(t, runArgs(addr, chAddr, "no-txn-rebuild", db, "--until-idle", "2s", "--kafka.transactions=false")...)
	compareTables(t, chAddr, clean, db)
}
