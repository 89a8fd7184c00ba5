package main

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/internal/testenv"
)

// scrape returns /readyz's status and body and the sum of a metric's
// series on /metrics (-1 when it has none; status 0 when the server does
// not answer).
func scrape(t *testing.T, addr, metric string) (ready int, why string, sum float64) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, err.Error(), -1 // not listening yet
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ready, why = resp.StatusCode, strings.TrimSpace(string(body))
	resp, err = c.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err.Error(), -1
	}
	defer resp.Body.Close()
	sum = -1
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric+"{") && !strings.HasPrefix(line, metric+" ") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		sum = max(sum, 0) + v
	}
	return ready, why, sum
}

// eventually polls cond until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, state := cond()
		if ok {
			t.Logf("%s: %s", what, state)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v (last: %s)", what, within, state)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestClickHouseOutageShowsInLagAndReadiness: while ClickHouse is cut off
// and input keeps arriving, checkpoints stop: the lag (end offsets less
// the last checkpoint's position) must grow and /readyz must fail; both
// recover when ClickHouse is back. (Lag used to stay 0 and /readyz 200.)
func TestClickHouseOutageShowsInLagAndReadiness(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	db := testenv.Database(t, chAddr)
	proxy := testenv.StartProxy(t, chAddr)
	addr, gen := startBrokerWithInput(t, kcat, "3000") // ≈ 33 s of input
	httpAddr := freeAddr(t)
	run, out := start(t, append(runArgs(addr, proxy.Addr(), "g", db), "--run.http_listen", httpAddr,
		"--run.ready_max_checkpoint_age", "5s")...)
	const lag = "cspulse_consumer_lag_records"
	eventually(t, time.Minute, "ready before the outage", func() (bool, string) {
		code, why, l := scrape(t, httpAddr, lag)
		return code == 200 && l >= 0 && l < 3000, why + " lag " + strconv.FormatFloat(l, 'f', 0, 64)
	})
	proxy.SetUp(false)
	cut := time.Now()
	t.Log("ClickHouse cut off")
	eventually(t, 30*time.Second, "lag grows and /readyz fails during the outage", func() (bool, string) {
		code, why, l := scrape(t, httpAddr, lag)
		return code == http503 && strings.Contains(why, "no checkpoint succeeded") && l > 15000,
			strconv.Itoa(code) + " " + why + " lag " + strconv.FormatFloat(l, 'f', 0, 64)
	})
	time.Sleep(time.Until(cut.Add(12 * time.Second))) // long enough for the stalled checkpoint's warning
	proxy.SetUp(true)
	t.Log("ClickHouse back")
	eventually(t, 90*time.Second, "lag and readiness recover", func() (bool, string) {
		code, why, l := scrape(t, httpAddr, lag)
		return code == 200 && l >= 0 && l < 3000, strconv.Itoa(code) + " " + why + " lag " + strconv.FormatFloat(l, 'f', 0, 64)
	})
	if _, _, n := scrape(t, httpAddr, "cspulse_clickhouse_insert_retries_total"); n < 1 {
		t.Errorf("cspulse_clickhouse_insert_retries_total = %v after an outage", n)
	}
	if _, _, ts := scrape(t, httpAddr, "cspulse_last_checkpoint_timestamp_seconds"); time.Since(time.Unix(int64(ts), 0)) > 10*time.Second {
		t.Errorf("cspulse_last_checkpoint_timestamp_seconds = %v, long ago", ts)
	}
	if _, _, d := scrape(t, httpAddr, "cspulse_watermark_delay_seconds"); d <= 0 {
		t.Errorf("cspulse_watermark_delay_seconds = %v, want the partitions' delay behind the wall clock", d)
	}
	if _, _, c := scrape(t, httpAddr, "cspulse_kafka_connects_total"); c <= 0 {
		t.Errorf("cspulse_kafka_connects_total = %v: no Kafka client metrics", c)
	}
	if !strings.Contains(out.String(), "checkpoint not done yet") {
		t.Errorf("the stalled checkpoint was not logged")
	}
	_ = gen.Process.Kill()
	_ = run.Process.Kill()
}

const http503 = 503

// TestStuckCheckpointEndsTheRun: ClickHouse stops answering without
// closing its connections, so an insert waits forever unless something
// bounds it. The checkpoint must fail /readyz meanwhile and end the
// process with exit code 1 and an error naming run.checkpoint_timeout
// (it used to hang, ready, for the driver's 5-minute read timeout and
// longer).
func TestStuckCheckpointEndsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	db := testenv.Database(t, chAddr)
	proxy := testenv.StartProxy(t, chAddr)
	addr, gen := startBrokerWithInput(t, kcat, "3000")
	httpAddr := freeAddr(t)
	run, out := start(t, append(runArgs(addr, proxy.Addr(), "g", db), "--run.http_listen", httpAddr,
		"--run.ready_max_checkpoint_age", "3s", "--clickhouse.retry_max_elapsed", "10s", "--run.checkpoint_timeout", "15s")...)
	eventually(t, time.Minute, "ready before the stall", func() (bool, string) {
		code, why, _ := scrape(t, httpAddr, "cspulse_checkpoints_total")
		return code == 200, why
	})
	proxy.Stall(true)
	t.Log("ClickHouse stalled: connections open, nothing answered")
	stalled := time.Now()
	eventually(t, 12*time.Second, "/readyz fails while the checkpoint is stuck", func() (bool, string) {
		code, why, _ := scrape(t, httpAddr, "cspulse_checkpoints_total")
		return code == http503 && strings.Contains(why, "clickhouse insert"), strconv.Itoa(code) + " " + why
	})
	err := waitExit(t, run, 60*time.Second)
	if err == nil || run.ProcessState.ExitCode() != 1 {
		t.Fatalf("run ended with %v, want exit code 1", err)
	}
	t.Logf("exited %v after the stall: %v", time.Since(stalled).Round(time.Second), err)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	t.Logf("last line: %s", last)
	if !strings.Contains(last, "checkpoint not done within run.checkpoint_timeout") || !strings.Contains(last, "clickhouse insert") {
		t.Errorf("the last line does not say which checkpoint step outlived run.checkpoint_timeout: %s", last)
	}
	_ = gen.Process.Kill()
}

// TestBrokerReplacedByAnEmptyOneEndsTheRun: issue 16's silent hang. The
// broker is killed mid-run and an empty one takes its address (the
// changelog, the group and the topics' ids are gone). The run must not
// hang, ready, without a word: /readyz fails, and the process ends with
// exit code 1 and an error within run.checkpoint_timeout (and a margin),
// as every Kafka call of a checkpoint or a restore has a deadline. (It
// used to block in the state write while the partitions-lost handler
// waited for the same lock, with /readyz 200 and no log.)
func TestBrokerReplacedByAnEmptyOneEndsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	db := testenv.Database(t, chAddr)
	addr := freeAddr(t)
	broker, _ := start(t, "broker", "--listen", addr)
	waitBroker(t, kcat, addr)
	gen, _ := start(t, append([]string{"gen", "--brokers", addr, "--seed", "11", "--rate", "3000"}, faultInputSize()...)...)
	httpAddr := freeAddr(t)
	run, out := start(t, append(runArgs(addr, chAddr, "g", db), "--run.http_listen", httpAddr,
		"--run.ready_max_checkpoint_age", "3s", "--clickhouse.retry_max_elapsed", "10s", "--run.checkpoint_timeout", "15s")...)
	eventually(t, time.Minute, "ready before the broker is replaced", func() (bool, string) {
		code, why, _ := scrape(t, httpAddr, "cspulse_checkpoints_total")
		return code == 200, strconv.Itoa(code) + " " + why
	})
	_ = gen.Process.Kill()
	_ = broker.Process.Kill()
	_, _ = broker.Process.Wait()
	start(t, "broker", "--listen", addr) // empty: no topics, no group, no changelog
	replaced := time.Now()
	t.Log("broker replaced by an empty one")
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	notReady := false
	for deadline := replaced.Add(15*time.Second + time.Minute); ; {
		select {
		case err := <-exited:
			if err == nil || run.ProcessState.ExitCode() != 1 {
				t.Fatalf("run ended with %v, want exit code 1", err)
			}
			text := out.String()
			i := strings.LastIndex(text, "\ncspulse: ")
			if i < 0 {
				t.Fatalf("the run ended with exit code 1 but no error (a line \"cspulse: …\")")
			}
			t.Logf("exited %v after the replacement (not ready seen: %v): %s",
				time.Since(replaced).Round(time.Second), notReady, strings.TrimSpace(text[i:]))
			return
		case <-time.After(500 * time.Millisecond):
		}
		if code, _, _ := scrape(t, httpAddr, "cspulse_checkpoints_total"); code == http503 {
			notReady = true
		}
		if time.Now().After(deadline) {
			ready, why, _ := scrape(t, httpAddr, "cspulse_checkpoints_total")
			t.Fatalf("still running %v after the broker was replaced (/readyz %d %s): a hang", time.Since(replaced).Round(time.Second), ready, why)
		}
	}
}
