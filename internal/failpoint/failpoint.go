// Package failpoint kills the process at a named point, for fault tests
// that must land a crash exactly between two steps (a checkpoint's state
// write and its insert, say) instead of hoping a random kill hits it.
//
// A failpoint is armed by the environment, read once at start:
//
//	CSPULSE_FAILPOINT=checkpoint/after-state       kill at the first hit
//	CSPULSE_FAILPOINT=checkpoint/after-state@3     kill at the third hit
//
// A hit of the armed point prints one line to stderr and sends the process
// SIGKILL: no deferred function, flush or shutdown hook runs, as with
// `kill -9`. Unarmed, Hit costs one atomic load.
package failpoint

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Env is the variable that arms a failpoint.
const Env = "CSPULSE_FAILPOINT"

// The points cspulse passes through, in the order of one checkpoint and of
// a restore. Tests arm them by these names.
const (
	// A snapshot is cut; nothing of it is written yet.
	CheckpointBeforeState = "checkpoint/before-state"
	// Part of a task's changelog records are written and flushed, the
	// rest not: a multi-batch state write cut in the middle.
	CheckpointStateMid = "checkpoint/state-mid"
	// Every changelog record of a task is written, its transaction is not
	// committed.
	CheckpointBeforeCommit = "checkpoint/before-commit"
	// The state of every task is durable; no row is inserted.
	CheckpointAfterState = "checkpoint/after-state"
	// One table's rows are inserted, the next table's are not.
	CheckpointAfterInsert = "checkpoint/after-insert"
	// Every row is inserted; the group's offsets are not committed.
	CheckpointBeforeOffsets = "checkpoint/before-offsets"
	// A restore has read the changelog but not yet re-inserted the
	// restored checkpoint's rows.
	RestoreBeforeRows = "restore/before-rows"
)

type armed struct {
	name string
	at   int64 // kill at this hit
	hits atomic.Int64
}

var point atomic.Pointer[armed]

func init() {
	if err := Arm(os.Getenv(Env)); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", Env, err)
		os.Exit(2)
	}
}

// Arm arms spec ("name" or "name@N"); an empty spec disarms.
func Arm(spec string) error {
	if spec == "" {
		point.Store(nil)
		return nil
	}
	name, count, found := strings.Cut(spec, "@")
	a := &armed{name: name, at: 1}
	if found {
		n, err := strconv.ParseInt(count, 10, 64)
		if err != nil || n < 1 {
			return fmt.Errorf("%q: the hit count after @ must be a positive integer", spec)
		}
		a.at = n
	}
	if !known(name) {
		return fmt.Errorf("%q: no such failpoint", name)
	}
	point.Store(a)
	return nil
}

// points lists every failpoint, for Arm to check a name against.
var points = []string{CheckpointBeforeState, CheckpointStateMid, CheckpointBeforeCommit, CheckpointAfterState,
	CheckpointAfterInsert, CheckpointBeforeOffsets, RestoreBeforeRows}

func known(name string) bool { return slices.Contains(points, name) }

// Armed reports whether name is the armed failpoint, for code that must
// take a path it otherwise would not (split a write to cut it in two).
func Armed(name string) bool {
	a := point.Load()
	return a != nil && a.name == name
}

// Hit passes the point name; the process dies here when it is armed and
// this is the hit it waits for.
func Hit(name string) {
	a := point.Load()
	if a == nil || a.name != name || a.hits.Add(1) != a.at {
		return
	}
	fmt.Fprintf(os.Stderr, "failpoint %s reached (hit %d): killing the process\n", name, a.at)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Hour) // the signal is on its way
}
