package main

import (
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/cspulse/cspulse/config"
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

// TestClickHouseTLSWiring: clickhouse.tls reaches the driver's config.
func TestClickHouseTLSWiring(t *testing.T) {
	c := config.Defaults().ClickHouse
	sc, err := clickHouseConfig(c)
	if err != nil || sc.TLS != nil {
		t.Fatalf("TLS off: %v, %v", sc.TLS, err)
	}
	c.TLS = config.TLS{Enabled: true, InsecureSkipVerify: true}
	c.Password = "pw"
	sc, err = clickHouseConfig(c)
	if err != nil || sc.TLS == nil || !sc.TLS.InsecureSkipVerify || sc.Password != "pw" {
		t.Fatalf("TLS on: %+v, %v", sc.TLS, err)
	}
	c.TLS.CAFile = "/nonexistent/ca.pem"
	if _, err := clickHouseConfig(c); err == nil || !strings.Contains(err.Error(), "clickhouse.tls.ca_file") {
		t.Errorf("missing CA: %v, want an error naming clickhouse.tls.ca_file", err)
	}
}
