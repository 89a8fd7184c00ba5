package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRequestErrors: a metric that a dimension or filter cannot show is an
// error naming it, or (a scheme's) left out with the reason.
func TestRequestErrors(t *testing.T) {
	for _, c := range []struct {
		req  Request
		want string
	}{
		{Request{By: "agent", Metrics: []string{"consult_sessions"}}, "consult_sessions comes from cs_shop_hourly, which has no agent dimension"},
		{Request{By: "shop", Metrics: []string{"robot_calls"}, Groups: []string{"g"}}, "--group does not apply"},
		{Request{By: "day", Metrics: []string{"inquiry_buyers"}, Hours: &Hours{9, 18}}, "--hours does not apply"},
		{Request{By: "minute", Metrics: []string{"robot_calls"}}, `--by "minute"`},
		{Request{By: "hour", Metrics: []string{"inquiry_buyers"}}, "cs_inquiry_daily, which has no hour dimension"},
		{Request{By: "day", Metrics: []string{"nope"}}, `"nope" is not a metric`},
		{Request{By: "day", Metrics: []string{"robot_calls"}, From: "2026-11-02", To: "2026-11-01"}, "is after"},
		{Request{By: "day", Metrics: []string{"robot_calls"}, Sort: "qa_ratio"}, "--sort"},
	} {
		_, _, _, _, err := c.req.plan("db")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error containing %q", c.req, err, c.want)
		}
	}
	r := Request{By: "agent", Metrics: []string{"consult_sessions", "qa_ratio"}, Lenient: true}
	_, shown, _, skipped, err := r.plan("db")
	if err != nil || len(shown) != 1 || shown[0].Name != "qa_ratio" || len(skipped) != 1 {
		t.Errorf("lenient: shown %v skipped %v err %v", shown, skipped, err)
	}
}

func TestParseHours(t *testing.T) {
	for in, want := range map[string]string{
		"09:00-18:00": "hour_of_day >= 9 AND hour_of_day < 18",
		"18:00-24:00": "hour_of_day >= 18",
		"22:00-06:00": "(hour_of_day >= 22 OR hour_of_day < 6)",
		"9-18":        "hour_of_day >= 9 AND hour_of_day < 18",
	} {
		h, err := ParseHours(in)
		if err != nil || h.sql() != want {
			t.Errorf("%s: %v %v, want %s", in, h, err, want)
		}
	}
	for _, bad := range []string{"09:30-18:00", "18:00", "09:00-09:00", "25:00-26:00", "24:00-06:00"} {
		if _, err := ParseHours(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestDocsListEveryMetric: docs/queries.md's report metric table is
// MarkdownTable, so the page, --explain and the report's SQL cannot drift.
func TestDocsListEveryMetric(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "docs", "queries.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- report-metrics:begin (generated: report.MarkdownTable; CSPULSE_UPDATE_DOCS=1 go test ./report -run TestDocsListEveryMetric) -->\n", "<!-- report-metrics:end -->"
	s := string(src)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("docs/queries.md lacks the markers %q … %q", begin, end)
	}
	got := s[i+len(begin) : j]
	if got != MarkdownTable() {
		if os.Getenv("CSPULSE_UPDATE_DOCS") == "1" {
			s = s[:i+len(begin)] + MarkdownTable() + s[j:]
			if err := os.WriteFile(filepath.Join("..", "docs", "queries.md"), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("docs/queries.md's metric table differs from report.Metrics; run CSPULSE_UPDATE_DOCS=1 go test ./report -run TestDocsListEveryMetric")
	}
	for _, m := range Metrics {
		if !strings.Contains(Explain([]string{m.Name}), m.SQL) {
			t.Errorf("--explain %s lacks its SQL", m.Name)
		}
	}
}
