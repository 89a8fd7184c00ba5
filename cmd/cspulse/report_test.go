package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/cspulse/cspulse/internal/pipetest"
	"github.com/cspulse/cspulse/internal/testenv"
)

// runFails runs the binary, requires it to fail, and returns its output.
func runFails(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binPath, args...).CombinedOutput()
	if err == nil {
		t.Fatalf("cspulse %s succeeded, want an error:\n%s", strings.Join(args, " "), out)
	}
	return string(out)
}

// TestReportAndExportErrors: mistakes are named before ClickHouse is
// asked (no server at 127.0.0.1:1).
func TestReportAndExportErrors(t *testing.T) {
	ch := []string{"--clickhouse", "127.0.0.1:1"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--by", "minute"}, `--by "minute"`},
		{[]string{"report", "--by", "day", "--scheme", "nope"}, `--scheme "nope"`},
		{[]string{"report", "--by", "day", "--metrics", "speed"}, `"speed" is not a metric`},
		{[]string{"report", "--by", "day", "--hours", "09:30-18:00"}, "--hours"},
		{[]string{"report", "--by", "day", "--from", "2026/11/01"}, "--from"},
		{[]string{"report", "--format", "csv"}, "--format csv needs --by"},
		{[]string{"export", "sessions", "--from", "2026-10-01", "--to", "2026-11-30"}, "--from 2026-10-01 --to 2026-11-30 covers 61 days: one export covers at most 31"},
		{[]string{"export", "sessions", "--sort", "size"}, `--sort "size"`},
		{[]string{"export", "sessions", "--format", "xml"}, `--format "xml"`},
		{[]string{"export", "sessions", "--report.overview", "nope"}, "report.overview"},
		{[]string{"report", "--report.overview", "consult_sessions,speed"}, "config key report.overview"},
		{[]string{"export", "sessions", "--export.default_days", "32"}, "config key export.default_days"},
		{[]string{"config", "--export.default_days", "0"}, "config key export.default_days"},
	} {
		out := runFails(t, append(c.args, ch...)...)
		if !strings.Contains(out, c.want) || strings.Contains(out, "127.0.0.1:1") {
			t.Errorf("cspulse %s:\n%s\nwant an error with %q, before connecting", strings.Join(c.args, " "), out, c.want)
		}
	}
	out := runOK(t, "report", "--explain", "--scheme", "robots")
	for _, want := range []string{"connect_rate — connect rate", "round(sum(connected) / nullIf(sum(calls), 0), 4) FROM cs_robot_hourly FINAL"} {
		if !strings.Contains(out, want) {
			t.Errorf("report --explain lacks %q:\n%s", want, out)
		}
	}
}

// TestReportAndExportCommands: the binary's report in every format and its
// export, on a generated day loaded through the pipeline.
func TestReportAndExportCommands(t *testing.T) {
	gen := pipetest.DemoDay()
	addr, db := pipetest.GeneratedDay(t, gen)
	ch := []string{"--clickhouse", addr, "--database", db}

	out := runOK(t, append([]string{"report"}, ch...)...)
	for _, want := range []string{"shop-0003", "top agents", "3-min reply", "silent share"} {
		if !strings.Contains(out, want) {
			t.Errorf("report (summary) lacks %q:\n%s", want, out)
		}
	}
	out = runOK(t, append([]string{"report", "--by", "agent", "--scheme", "agents", "--shop", "shop-0001", "--format", "json",
		"--from", "2026-11-02", "--to", "2026-11-02", "--hours", "09:00-18:00"}, ch...)...)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &rows); err != nil {
		t.Fatalf("report --format json: %v\n%s", err, out)
	}
	agents := map[string]map[string]any{}
	for _, r := range rows {
		if r["shop"] != "shop-0001" {
			t.Errorf("report --shop shop-0001 has a row of %v", r["shop"])
		}
		agents[r["agent"].(string)] = r
	}
	if a := agents["shop-0001-a01"]; len(agents) < 4 || a == nil || a["reply_3min_rate"] == nil || a["buyer_msgs"].(float64) == 0 {
		t.Errorf("report --by agent --format json: %v", rows)
	}
	out = runOK(t, append([]string{"report", "--by", "robot", "--scheme", "robots", "--format", "csv"}, ch...)...)
	if !strings.HasPrefix(out, "shop,robot,task,robot_calls,robot_connected,connect_rate,intent_ab_share\n") || strings.Count(out, "\n") < 3 {
		t.Errorf("report --by robot --format csv:\n%s", out)
	}

	conn := testenv.Conn(t, addr, db)
	var want uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM cs_sessions FINAL WHERE shop_id = 'shop-0002'").Scan(&want); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binPath, append([]string{"export", "sessions", "--from", "2026-11-01", "--to", "2026-11-30", "--shop", "shop-0002",
		"--format", "jsonl", "--sort", "messages"}, ch...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || row["shop_id"] != "shop-0002" {
			t.Fatalf("export line %d: %v %s", n, err, sc.Text())
		}
		n++
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if uint64(n) != want || n == 0 {
		t.Errorf("export sessions --shop shop-0002: %d lines, cs_sessions has %d", n, want)
	}
}
