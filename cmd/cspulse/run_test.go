package main

import (
	"os"
	"runtime/debug"
	"testing"

	"go.uber.org/zap"
)

// TestSetGCPercent: run.gc_percent is applied, unless GOGC is set.
func TestSetGCPercent(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	env, had := os.LookupEnv("GOGC")
	defer func() {
		if had {
			os.Setenv("GOGC", env)
		}
	}()

	os.Unsetenv("GOGC")
	setGCPercent(250, zap.NewNop())
	if got := debug.SetGCPercent(100); got != 250 {
		t.Errorf("without GOGC: GC percent %d, want 250", got)
	}
	t.Setenv("GOGC", "100")
	setGCPercent(250, zap.NewNop())
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100: GC percent %d, want 100 (GOGC wins)", got)
	}
}
