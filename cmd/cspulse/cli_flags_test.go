package main

import (
	"encoding/json"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cspulse/cspulse/internal/testenv"
)

func TestVersion(t *testing.T) {
	out := runOK(t, "--version")
	if !strings.HasPrefix(out, "cspulse ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("--version printed %q", out)
	}
	defer func(v string) { version = v }(version)
	version = "v9.9.9"
	if got := buildVersion(); got != "v9.9.9" {
		t.Errorf("buildVersion with -ldflags version: %q", got)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(buildInfo())
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gather: %v %v", mfs, err)
	}
	m := mfs[0].GetMetric()[0]
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if mfs[0].GetName() != "cspulse_build_info" || m.GetGauge().GetValue() != 1 ||
		labels["version"] != "v9.9.9" || labels["go_version"] != runtime.Version() {
		t.Errorf("build info metric: %v", mfs[0])
	}
}

func TestExtraArgsRejected(t *testing.T) {
	for _, args := range [][]string{{"run", "extra"}, {"config", "--defaults", "x"}} {
		out, err := exec.Command(binPath, args...).CombinedOutput()
		if err == nil {
			t.Errorf("cspulse %v accepted a stray argument:\n%s", args, out)
		}
	}
}

func TestRunHelpHasTypesAndDefaults(t *testing.T) {
	out := runOK(t, "run", "--help")
	for _, want := range []string{"--time.session_timeout duration", "(default 30m)", "--kafka.partitions int",
		"--kafka.brokers list", "A session without", "--run.pprof", "--version"} {
		if want == "--version" {
			continue // a root flag
		}
		if !strings.Contains(out, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
}

// TestStartupRetriesAndLogFormat: with no broker, run retries, logging each
// failure with the next attempt's time, and gives up after
// run.startup_timeout; logs to a pipe have no colour codes, and JSON logs
// carry ISO-8601 timestamps.
func TestStartupRetriesAndLogFormat(t *testing.T) {
	dead := freeAddr(t)
	for _, format := range []string{"console", "json"} {
		out, err := exec.Command(binPath, "run", "--brokers", dead, "--run.startup_timeout", "2s",
			"--run.http_listen=", "--log.format", format).CombinedOutput()
		if err == nil {
			t.Fatalf("run without a broker succeeded:\n%s", out)
		}
		s := string(out)
		if strings.Contains(s, "\x1b[") {
			t.Errorf("%s: colour codes in logs to a pipe:\n%s", format, s)
		}
		if !strings.Contains(s, "next_attempt") || !strings.Contains(s, "run.startup_timeout") {
			t.Errorf("%s: no retries with next attempt, or no give-up naming run.startup_timeout:\n%s", format, s)
		}
		if format == "json" {
			line := strings.SplitN(s, "\n", 2)[0]
			var rec struct {
				Time string `json:"time"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil || !strings.Contains(rec.Time, "T") || len(rec.Time) < 20 {
				t.Errorf("first JSON log line without an ISO-8601 time: %q (%v)", line, err)
			}
		}
	}
}

// TestClickHouseDownAtStart: with ClickHouse unreachable, run retries it
// (each failure logged with the next attempt) until run.startup_timeout.
func TestClickHouseDownAtStart(t *testing.T) {
	out, err := exec.Command(binPath, "run", "--embedded-kafka", freeAddr(t), "--clickhouse", freeAddr(t),
		"--run.startup_timeout", "3s", "--run.http_listen=").CombinedOutput()
	s := string(out)
	if err == nil {
		t.Fatalf("run without ClickHouse succeeded:\n%s", s)
	}
	if strings.Count(s, "next_attempt") < 2 || !strings.Contains(s, "clickhouse") || !strings.Contains(s, "run.startup_timeout") {
		t.Errorf("want several logged ClickHouse retries and a give-up naming run.startup_timeout:\n%s", s)
	}
}

// TestClickHouseAuthFailureIsOneError: a rejected ClickHouse login ends
// the start at once (no retries), and the password is not shown.
func TestClickHouseAuthFailureIsOneError(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	out, err := exec.Command(binPath, "run", "--embedded-kafka", freeAddr(t), "--clickhouse", chAddr,
		"--clickhouse.user", "cspulse_nobody", "--clickhouse.password", "s3cret-pw",
		"--run.startup_timeout", "30s", "--run.http_listen=").CombinedOutput()
	s := string(out)
	if err == nil || !strings.Contains(s, "authentication failed") || strings.Contains(s, "next_attempt") {
		t.Errorf("want one authentication error, no retries:\n%s", s)
	}
	if strings.Contains(s, "s3cret-pw") {
		t.Errorf("the password is shown:\n%s", s)
	}
}
