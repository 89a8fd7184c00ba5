package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.uber.org/zap"

	"github.com/cspulse/cspulse/internal/pipetest"
	"github.com/cspulse/cspulse/internal/testenv"
	. "github.com/cspulse/cspulse/report"
	"github.com/cspulse/cspulse/sinks"
)

// handMade is a fresh migrated database holding the hand-made rankings
// and alerts of testenv.InsertRankingsAndAlerts.
func handMade(t *testing.T) driver.Conn {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse")
	}
	addr := testenv.ClickHouseAddr(t)
	db := testenv.Database(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ch, err := sinks.OpenClickHouse(ctx, pipetest.ClickHouseConfig(t, addr, db), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if _, err := sinks.Migrate(ctx, ch.Conn(), db, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	conn := testenv.Conn(t, addr, db)
	testenv.InsertRankingsAndAlerts(t, conn)
	return conn
}

// rankingDocQuery is ranking_shop_day (or ranking_group_day with group)
// with the request's shop and day.
func rankingDocQuery(t *testing.T, r RankingRequest) string {
	t.Helper()
	name := "ranking_shop_day"
	if r.Group != "" {
		name = "ranking_group_day"
	}
	q := docQueries(t)[name]
	if q == "" {
		t.Fatalf("docs/queries.md has no %s", name)
	}
	q = strings.NewReplacer("'shop-0001'", Quote(r.Shop), "'2026-11-02'", "'"+r.Day+"'", "'pre-sales'", Quote(r.Group)).Replace(q)
	if r.Sort != "" {
		q = strings.Replace(q, "ORDER BY received_buyers_rank", "ORDER BY "+r.Sort+"_rank", 1)
	}
	return strings.TrimSpace(q)
}

// TestRankingsEqualDocQueries: the ranking the page and `report rankings`
// read is the documented query, word for word and row for row, on the
// hand-made rows; the days, groups and alerts around it too.
func TestRankingsEqualDocQueries(t *testing.T) {
	conn := handMade(t)
	ctx := context.Background()
	day, prev := testenv.RankingsDay, testenv.RankingsPrevDay

	for _, r := range []RankingRequest{
		{Shop: "shop-0001", Day: day},
		{Shop: "shop-0001", Day: prev},
		{Shop: "shop-0001", Group: "pre-sales", Day: day},
		{Shop: "shop-0001", Group: "after-sales", Day: day},
		{Shop: "shop-0001", Day: day, Sort: "satisfaction_rate"},
		{Shop: "shop-0002", Day: prev},
		{Shop: "shop-0001", Day: "2026-11-04"}, // no ranking that day
	} {
		want := rankingDocQuery(t, r)
		if got := RankingSQL("", r); got != want {
			t.Errorf("%+v: the ranking's SQL is not the documented query:\n%s\n--- docs:\n%s", r, got, want)
		}
		rk, err := ReadRanking(ctx, conn, "", r)
		if err != nil {
			t.Fatal(err)
		}
		doc := docRows(t, conn, want)
		if len(rk.Rows) != len(doc) {
			t.Fatalf("%+v: %d rows, the query %d", r, len(rk.Rows), len(doc))
		}
		for i, row := range rk.Rows {
			if row.Agent != doc[i]["agent_id"] {
				t.Errorf("%+v row %d: agent %s, the query's %s", r, i, row.Agent, doc[i]["agent_id"])
			}
			for j, m := range RankingMetrics {
				c := row.Cells[j]
				got := []string{c.Value.String(), c.Rank.String(), c.Change.String(), rk.Means[j].String()}
				w := []string{doc[i][m.Name], doc[i][m.Name+"_rank"], doc[i][m.Name+"_rank_change"], doc[i][m.Name+"_mean"]}
				if !reflect.DeepEqual(got, w) {
					t.Errorf("%+v %s %s: value, rank, change, mean %v; the query's %v", r, row.Agent, m.Name, got, w)
				}
			}
		}
	}

	// The numbers written by hand: FINAL keeps a01's newest version, the
	// taken-back a05 is not ranked, ties share the smallest rank.
	rk, err := ReadRanking(ctx, conn, "", RankingRequest{Shop: "shop-0001", Day: day})
	if err != nil {
		t.Fatal(err)
	}
	var agents []string
	for _, r := range rk.Rows {
		agents = append(agents, r.Agent+" "+r.Cells[0].Value.String()+" "+r.Cells[0].Rank.String()+" "+r.Cells[0].Change.String())
	}
	want := []string{"shop-0001-a01 12 1 1", "shop-0001-a02 12 1 0", "shop-0001-a03 7 3 -2", "shop-0001-a04 3 4 NULL"}
	if !reflect.DeepEqual(agents, want) {
		t.Errorf("received buyers: %q, want %q", agents, want)
	}
	var means []string
	for _, m := range rk.Means {
		means = append(means, m.String())
	}
	if w := []string{"8.5", "0.7666666666666667", "0.8", "10"}; !reflect.DeepEqual(means, w) {
		t.Errorf("means %v, want %v", means, w)
	}

	for shop, want := range map[string]string{"shop-0001": day, "shop-0002": prev, "shop-0009": ""} {
		if got, err := LatestRankingDay(ctx, conn, "", shop); err != nil || got != want {
			t.Errorf("latest ranking day of %s: %q, %v; want %q", shop, got, err, want)
		}
	}
	if g, err := RankingGroups(ctx, conn, "", "shop-0001", day); err != nil || !reflect.DeepEqual(g, []string{"after-sales", "pre-sales"}) {
		t.Errorf("groups: %v, %v", g, err)
	}
	if p, err := PreviousDay("2026-11-01"); err != nil || p != "2026-10-31" {
		t.Errorf("PreviousDay: %s, %v", p, err)
	}
}

// TestRecentAlertsEqualDocQuery: the page's alerts are alerts_recent, an
// alert written twice shown once, another shop's never.
func TestRecentAlertsEqualDocQuery(t *testing.T) {
	conn := handMade(t)
	q := strings.TrimSpace(docQueries(t)["alerts_recent"])
	if got := RecentAlertsSQL("", testenv.AlertsShop, 50); got != q {
		t.Errorf("the alerts' SQL is not alerts_recent:\n%s\n--- docs:\n%s", got, q)
	}
	alerts, err := RecentAlerts(context.Background(), conn, "", testenv.AlertsShop, 50)
	if err != nil {
		t.Fatal(err)
	}
	doc := docRows(t, conn, q)
	var ids []string
	for i, a := range alerts {
		ids = append(ids, a.AlertID)
		got := map[string]string{"alert_id": a.AlertID, "evaluated_at": a.EvaluatedAt.UTC().Format("2006-01-02 15:04:05"),
			"rule": a.Rule, "scope": a.Scope, "scope_id": a.ScopeID, "group_id": a.GroupID, "metric": a.Metric,
			"alert_window": a.Window, "value": Value{Num: a.Value, IsNum: true}.String(),
			"numerator":   Value{Num: float64(a.Numerator), IsNum: true}.String(),
			"denominator": Value{Num: float64(a.Denominator), IsNum: true}.String(),
			"threshold":   Value{Num: a.Threshold, IsNum: true}.String(), "direction": a.Direction, "state": a.State}
		w := doc[i]
		w["evaluated_at"] = "" // a DateTime is text in docRows; compared below
		got["evaluated_at"] = ""
		if !reflect.DeepEqual(got, w) {
			t.Errorf("alert %d: %v\nthe query's %v", i, got, w)
		}
	}
	if want := []string{"al-4", "al-3", "al-2", "al-1", "al-5"}; !reflect.DeepEqual(ids, want) || len(doc) != len(alerts) {
		t.Errorf("alerts %v (the query has %d), want %v", ids, len(doc), want)
	}
	if alerts[0].EvaluatedAt.UTC() != time.Date(2026, 11, 3, 6, 0, 0, 0, time.UTC) || alerts[0].State != "recovered" {
		t.Errorf("newest alert: %+v", alerts[0])
	}
	two, err := RecentAlerts(context.Background(), conn, "", testenv.AlertsShop, 2)
	if err != nil || len(two) != 2 || two[1].AlertID != "al-3" {
		t.Errorf("limit 2: %+v, %v", two, err)
	}
}

// TestWriteRanking: CSV and JSON carry the documented query's columns
// and values; the table shows ranks, arrows and the means.
func TestWriteRanking(t *testing.T) {
	conn := handMade(t)
	r := RankingRequest{Shop: "shop-0001", Day: testenv.RankingsDay}
	rk, err := ReadRanking(context.Background(), conn, "", r)
	if err != nil {
		t.Fatal(err)
	}
	doc := docRows(t, conn, rankingDocQuery(t, r))
	var buf bytes.Buffer
	if err := WriteRanking(&buf, rk, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]string{"agent_id"}, RankingColumns()...); !reflect.DeepEqual(recs[0], want) {
		t.Errorf("csv header %v, want %v", recs[0], want)
	}
	for i, rec := range recs[1:] {
		for j, col := range recs[0] {
			want := doc[i][col]
			if want == "NULL" {
				want = ""
			}
			if rec[j] != want {
				t.Errorf("csv row %d %s = %q, the query's %q", i, col, rec[j], want)
			}
		}
	}
	buf.Reset()
	if err := WriteRanking(&buf, rk, "json"); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rows); err != nil || len(rows) != len(doc) {
		t.Fatalf("json: %v, %d rows\n%s", err, len(rows), buf.String())
	}
	for i, row := range rows {
		for col, want := range doc[i] {
			got := "NULL"
			switch v := row[col].(type) {
			case string:
				got = v
			case float64:
				got = Value{Num: v, IsNum: true}.String()
			}
			if got != want {
				t.Errorf("json row %d %s = %s, the query's %s", i, col, got, want)
			}
		}
	}
	buf.Reset()
	if err := WriteRanking(&buf, rk, "table"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"ranking of shop shop-0001 on 2026-11-03 (4 agents)", "3-min reply (sessions)",
		"75.00%     2  ▼1", "shop-0001-a04", "mean", "8.50", "76.67%", "80.00%", "10.00"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if err := WriteRanking(&buf, rk, "xml"); err == nil {
		t.Error("--format xml: no error")
	}
}
