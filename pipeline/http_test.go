package pipeline

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/pipeline/operators"
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
	r := NewRunner(&cfg, zaptest.NewLogger(t), nil, nil)
	r.stats.events[2].Add(7)
	r.stats.deadLetter(schemas.ReasonLate)
	r.stats.setLag("cs.messages", 3, 42)
	r.stats.setEngine(2, operators.Stats{OpenSessions: 5})
	reg := prometheus.NewRegistry()
	if err := r.Register(reg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := ServeHTTP(ctx, "127.0.0.1:0", reg, r.Ready, false, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, "http://"+addr+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, _ := get(t, "http://"+addr+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before assignment = %d, want 503", code)
	}
	r.assignedAt.Store(1)
	if code, _ := get(t, "http://"+addr+"/readyz"); code != 200 {
		t.Errorf("/readyz after assignment = %d", code)
	}
	_, body := get(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		`cspulse_events_total{topic="cs.messages"} 7`,
		`cspulse_dead_letters_total{reason="late"} 1`,
		`cspulse_consumer_lag{partition="3",topic="cs.messages"} 42`,
		`cspulse_state_entries{kind="open_sessions",partition="2"} 5`,
		`cspulse_invariant_breaches{kind="final_cell_writes",partition="2"} 0`,
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
		addr, err := ServeHTTP(ctx, "127.0.0.1:0", prometheus.NewRegistry(), func() bool { return true }, on, zaptest.NewLogger(t))
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
