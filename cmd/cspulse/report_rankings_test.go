package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/cspulse/cspulse/internal/pipetest"
	"github.com/cspulse/cspulse/internal/testenv"
	"github.com/cspulse/cspulse/report"
	"github.com/cspulse/cspulse/sinks"
)

// TestReportRankingsErrors: mistakes are named before ClickHouse is asked.
func TestReportRankingsErrors(t *testing.T) {
	ch := []string{"--clickhouse", "127.0.0.1:1"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "rankings"}, "--shop"},
		{[]string{"report", "rankings", "--shop", "s", "--day", "2026/11/02"}, "--day"},
		{[]string{"report", "rankings", "--shop", "s", "--sort", "speed"}, `--sort "speed"`},
		{[]string{"report", "rankings", "--shop", "s", "--format", "xml"}, `--format "xml"`},
	} {
		out := runFails(t, append(c.args, ch...)...)
		if !strings.Contains(out, c.want) || strings.Contains(out, "127.0.0.1:1") {
			t.Errorf("cspulse %s:\n%s\nwant an error with %q, before connecting", strings.Join(c.args, " "), out, c.want)
		}
	}
	out := runOK(t, "report", "rankings", "--explain")
	for _, want := range []string{"received_buyers — received buyers", report.RankChangeDefinition, "FROM cs_agent_rankings FINAL"} {
		if !strings.Contains(out, want) {
			t.Errorf("report rankings --explain lacks %q:\n%s", want, out)
		}
	}
}

// TestReportRankings: the binary's ranking in each format equals the
// documented query on the hand-made rows.
func TestReportRankings(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.Database(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	chc, err := sinks.OpenClickHouse(ctx, pipetest.ClickHouseConfig(t, addr, db), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer chc.Close()
	if _, err := sinks.Migrate(ctx, chc.Conn(), db, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	conn := testenv.Conn(t, addr, db)
	testenv.InsertRankingsAndAlerts(t, conn)
	ch := []string{"--clickhouse", addr, "--database", db}

	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "queries.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)<!-- query: ([a-z0-9_]+) -->\n```sql\n(.*?)```").FindAllStringSubmatch(string(src), -1) {
		docs[m[1]] = m[2]
	}
	// docCSV runs the documented query as CSV rows (NULL as "").
	docCSV := func(name, day, group, sort string) [][]string {
		q := strings.NewReplacer("'2026-11-02'", "'"+day+"'", "'pre-sales'", "'"+group+"'").Replace(docs[name])
		q = strings.Replace(q, "ORDER BY received_buyers_rank", "ORDER BY "+sort+"_rank", 1)
		var out [][]string
		err := report.ScanQuery(ctx, conn, q, func(vals []report.Value, names []string) {
			if out == nil {
				out = append(out, names)
			}
			rec := []string{}
			for _, v := range vals {
				if v.Null {
					rec = append(rec, "")
				} else {
					rec = append(rec, v.String())
				}
			}
			out = append(out, rec)
		})
		if err != nil || len(out) < 2 {
			t.Fatalf("%s: %v, %d rows\n%s", name, err, len(out), q)
		}
		return out
	}

	for _, c := range []struct {
		args                   []string
		query, day, group, srt string
	}{
		{nil, "ranking_shop_day", testenv.RankingsDay, "", "received_buyers"},
		{[]string{"--previous"}, "ranking_shop_day", testenv.RankingsPrevDay, "", "received_buyers"},
		{[]string{"--group", "pre-sales", "--sort", "satisfaction_rate"}, "ranking_group_day", testenv.RankingsDay, "pre-sales", "satisfaction_rate"},
		{[]string{"--day", testenv.RankingsPrevDay, "--group", "pre-sales", "--sort", "reply_3min_rate_session"}, "ranking_group_day", testenv.RankingsPrevDay, "pre-sales", "reply_3min_rate_session"},
	} {
		args := append(append([]string{"report", "rankings", "--shop", "shop-0001", "--format", "csv"}, c.args...), ch...)
		got, err := csv.NewReader(strings.NewReader(runOK(t, args...))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := docCSV(c.query, c.day, c.group, c.srt)
		if strings.Join(flatten(got), "|") != strings.Join(flatten(want), "|") {
			t.Errorf("cspulse %s:\n%v\nthe query %s:\n%v", strings.Join(args, " "), got, c.query, want)
		}
	}

	out := runOK(t, append([]string{"report", "rankings", "--shop", "shop-0001", "--format", "json"}, ch...)...)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 4 {
		t.Fatalf("--format json: %v, %d rows\n%s", err, len(rows), out)
	}
	if r := rows[3]; r["agent_id"] != "shop-0001-a04" || r["reply_3min_rate_session"] != nil || r["received_buyers_rank"].(float64) != 4 {
		t.Errorf("--format json, last row: %v", r)
	}
	out = runOK(t, append([]string{"report", "rankings", "--shop", "shop-0001"}, ch...)...)
	for _, want := range []string{"ranking of shop shop-0001 on 2026-11-03 (4 agents)", "▲1", "mean", "76.67%"} {
		if !strings.Contains(out, want) {
			t.Errorf("report rankings lacks %q:\n%s", want, out)
		}
	}
	if out := runFails(t, append([]string{"report", "rankings", "--shop", "shop-0009"}, ch...)...); !strings.Contains(out, "shop-0009 has no ranking") {
		t.Errorf("a shop without a ranking: %s", out)
	}
}

func flatten(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, ","))
	}
	return out
}
