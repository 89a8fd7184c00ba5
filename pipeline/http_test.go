package pipeline

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"go.uber.org/zap/zaptest"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/internal/httpserver"
	"github.com/cspulse/cspulse/metrics"
	"github.com/cspulse/cspulse/schemas"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestHTTPEndpoints(t *testing.T) {
	cfg := config.Defaults()
	r := NewRunner(&cfg, zaptest.NewLogger(t), nil, Engines{})
	r.stats.events[2].Add(7)
	r.stats.deadLetter(schemas.ReasonLate)
	r.stats.assign(lagKey{"cs.messages", 3}, true)
	r.stats.setCheckpointed(map[string]map[int32]int64{"cs.messages": {3: 58}})
	r.stats.updateLag(map[lagKey]int64{{"cs.messages", 3}: 100}, nil)
	r.stats.setEngine(2, metrics.Stats{OpenSessions: 5})
	reg := prometheus.NewRegistry()
	if err := r.Register(reg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := httpserver.Serve(ctx, "127.0.0.1:0", reg, r.Readiness, false, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, "http://"+addr+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get(t, "http://"+addr+"/readyz"); code != 200 {
		t.Errorf("/readyz with a partition and a recent checkpoint = %d %s", code, body)
	}
	r.stats.lastCheckpointAt.Store(time.Now().Add(-cfg.Run.ReadyMaxCheckpointAge - time.Second).UnixNano())
	if code, body := get(t, "http://"+addr+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "no checkpoint succeeded") {
		t.Errorf("/readyz with an old checkpoint = %d %q, want 503 naming the checkpoint", code, body)
	}
	r.stats.lastCheckpointAt.Store(time.Now().UnixNano())
	r.stats.assign(lagKey{"cs.messages", 3}, false)
	if code, body := get(t, "http://"+addr+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "no partitions") {
		t.Errorf("/readyz without partitions = %d %q, want 503", code, body)
	}
	r.stats.assign(lagKey{"cs.messages", 3}, true)
	r.stats.updateLag(map[lagKey]int64{{"cs.messages", 3}: 100}, map[lagKey]int64{{"cs.messages", 3}: 58})
	_, body := get(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		`cspulse_events_total{topic="cs.messages"} 7`,
		`cspulse_dead_letters_total{reason="late"} 1`,
		`cspulse_consumer_lag_records{partition="3",topic="cs.messages"} 42`,
		`cspulse_state_entries{kind="open_sessions",partition="2"} 5`,
		`cspulse_invariant_breaches_total{kind="final_cell_writes",partition="2"} 0`,
		`cspulse_last_checkpoint_timestamp_seconds `,
		`cspulse_clickhouse_insert_errors_total 0`,
		`cspulse_clickhouse_insert_retries_total 0`,
		`cspulse_checkpoint_duration_seconds `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestPprofIsOptIn: /debug/pprof/ is served only with run.pprof.
func TestPprofIsOptIn(t *testing.T) {
	for _, on := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		addr, err := httpserver.Serve(ctx, "127.0.0.1:0", prometheus.NewRegistry(), func() error { return nil }, on, zaptest.NewLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		code, _ := get(t, "http://"+addr+"/debug/pprof/")
		cancel()
		if want := map[bool]int{false: http.StatusNotFound, true: http.StatusOK}[on]; code != want {
			t.Errorf("run.pprof=%v: /debug/pprof/ = %d, want %d", on, code, want)
		}
	}
}

// TestMetricNamesFollowConventions: every metric the runner exposes
// passes promlint (base units, no reserved suffixes), a counter's name
// ends in _total and only a counter's does, and docs/operations.md's
// metrics table lists each one (issue 16 item 3: Prometheus names, the
// invariant breaches a counter; the README's operations section points
// operators there).
func TestMetricNamesFollowConventions(t *testing.T) {
	cfg := config.Defaults()
	r := NewRunner(&cfg, zaptest.NewLogger(t), nil, Engines{})
	r.stats.events[0].Add(1)
	r.stats.assign(lagKey{"cs.messages", 0}, true)
	r.stats.setCheckpointed(map[string]map[int32]int64{"cs.messages": {0: 4}})
	r.stats.updateLag(map[lagKey]int64{{"cs.messages", 0}: 10}, nil)
	r.stats.setWatermark(0, time.Now().Add(-time.Minute).UnixMilli())
	r.stats.setEngine(0, metrics.Stats{OpenSessions: 1})
	reg := prometheus.NewRegistry()
	if err := r.Register(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "cspulse_") || strings.HasPrefix(name, "cspulse_kafka_") {
			continue // kprom's own, documented as cspulse_kafka_*
		}
		names[name] = true
		if counter := mf.GetType().String() == "COUNTER"; counter != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %v: a counter's name ends in _total, and only a counter's", name, mf.GetType())
		}
		if !strings.Contains(string(doc), "| `"+name+"` |") {
			t.Errorf("%s is not in docs/operations.md's metrics table", name)
		}
	}
	for _, want := range []string{"cspulse_consumer_lag_records", "cspulse_watermark_delay_seconds",
		"cspulse_invariant_breaches_total", "cspulse_last_checkpoint_timestamp_seconds",
		"cspulse_clickhouse_insert_errors_total", "cspulse_wrong_partition_records_total"} {
		if !names[want] {
			t.Errorf("%s is not exposed", want)
		}
	}
	// Every cspulse_ row of the table is a metric the runner exposes (or
	// the command's build info, or kprom's).
	for _, m := range regexp.MustCompile("(?m)^\\| `(cspulse_[a-z_]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		if !names[m[1]] && m[1] != "cspulse_build_info" {
			t.Errorf("docs/operations.md lists %s, which the runner does not expose", m[1])
		}
	}
}
