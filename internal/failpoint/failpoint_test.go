package failpoint

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestArmRejectsBadSpecs(t *testing.T) {
	for _, spec := range []string{"nope", CheckpointAfterState + "@0", CheckpointAfterState + "@x", CheckpointAfterState + "@-1"} {
		if err := Arm(spec); err == nil {
			t.Errorf("Arm(%q) accepted", spec)
		}
	}
	if err := Arm(CheckpointAfterState + "@3"); err != nil || !Armed(CheckpointAfterState) || Armed(CheckpointBeforeState) {
		t.Errorf("Arm(after-state@3): err %v, armed %v", err, Armed(CheckpointAfterState))
	}
	if err := Arm(""); err != nil || Armed(CheckpointAfterState) {
		t.Error("an empty spec did not disarm")
	}
}

// TestHitKills runs this test binary as a child that passes the armed
// point three times: it must die by SIGKILL at the third hit, not before.
func TestHitKills(t *testing.T) {
	if os.Getenv("FAILPOINT_CHILD") == "1" {
		for i := 1; i <= 3; i++ {
			Hit(CheckpointBeforeState) // another point: never kills
			os.Stdout.WriteString("before hit\n")
			Hit(CheckpointAfterState)
		}
		os.Stdout.WriteString("survived\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHitKills$")
	cmd.Env = append(os.Environ(), "FAILPOINT_CHILD=1", Env+"="+CheckpointAfterState+"@3")
	out, err := cmd.CombinedOutput()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL:\n%s", err, out)
	}
	if n := strings.Count(string(out), "before hit"); n != 3 || strings.Contains(string(out), "survived") {
		t.Errorf("child passed %d hits before dying (want 3):\n%s", n, out)
	}
}
