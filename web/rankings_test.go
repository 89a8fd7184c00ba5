package web_test

import (
	"fmt"
	"html"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/cspulse/cspulse/internal/testenv"
	"github.com/cspulse/cspulse/report"
	"github.com/cspulse/cspulse/web"
)

// rankingQuery is the documented ranking of shop (group: ranking_group_day)
// on day, ordered by sort's rank as the page orders it.
func rankingQuery(t *testing.T, shop, group, day, sort string) string {
	t.Helper()
	var q string
	if group == "" {
		q = docQuery(t, "ranking_shop_day", "'shop-0001'", "'"+shop+"'", "'2026-11-02'", "'"+day+"'")
	} else {
		q = docQuery(t, "ranking_group_day", "'shop-0001'", "'"+shop+"'", "'2026-11-02'", "'"+day+"'", "'pre-sales'", "'"+group+"'")
	}
	return strings.Replace(q, "ORDER BY received_buyers_rank", "ORDER BY "+sort+"_rank", 1)
}

// testRankingsAPI: /api/rankings is the documented ranking query of the
// shop's latest day, of the day before, of a group; row for row.
func testRankingsAPI(t *testing.T, pc *pageCase) {
	h := pc.srv.Handler()
	day, prev := testenv.RankingsDay, testenv.RankingsPrevDay
	for _, c := range []struct {
		url, shop, group, day string
		rows                  int
	}{
		{"/api/rankings?shop=" + shopSH, shopSH, "", day, 4},
		{"/api/rankings?shop=" + shopSH + "&prev=1", shopSH, "", prev, 3},
		{"/api/rankings?shop=" + shopSH + "&group=pre-sales", shopSH, "pre-sales", day, 2},
		{"/api/rankings?shop=" + shopSH + "&group=pre-sales&day=" + prev, shopSH, "pre-sales", prev, 2},
		{"/api/rankings?shop=" + shopSH + "&group=after-sales&day=" + prev, shopSH, "after-sales", prev, 0},
		{"/api/rankings?shop=" + shopNY, shopNY, "", prev, 1},
	} {
		var rk web.Rankings
		if code := get(t, h, c.url, &rk); code != 200 {
			t.Fatalf("%s: status %d", c.url, code)
		}
		if rk.Day != c.day || rk.Group != c.group || len(rk.Rows) != c.rows {
			t.Errorf("%s: day %s group %q, %d rows; want %s %q %d", c.url, rk.Day, rk.Group, len(rk.Rows), c.day, c.group, c.rows)
		}
		if len(rk.Metrics) != 4 || rk.Metrics[1].Name != "reply_3min_rate_session" || rk.Terms["rank"] != report.RankDefinition {
			t.Errorf("%s: metrics %+v, terms %v", c.url, rk.Metrics, rk.Terms)
		}
		doc := docRows(t, pc.conn, rankingQuery(t, c.shop, c.group, c.day, "received_buyers"))
		if len(doc) != len(rk.Rows) {
			t.Fatalf("%s: %d rows, the query %d", c.url, len(rk.Rows), len(doc))
		}
		for i, r := range rk.Rows {
			want := doc[i]
			if r.Agent != want["agent_id"] {
				t.Errorf("%s row %d: %s, the query's %s", c.url, i, r.Agent, want["agent_id"])
			}
			for _, m := range report.RankingMetrics {
				v := r.Values[m.Name]
				got := []string{str(v.Value), str(v.Rank), str(v.Change), str(rk.Means[m.Name])}
				w := []string{want[m.Name], want[m.Name+"_rank"], want[m.Name+"_rank_change"], want[m.Name+"_mean"]}
				if !reflect.DeepEqual(got, w) {
					t.Errorf("%s %s %s: value, rank, change, mean %v; the query's %v", c.url, r.Agent, m.Name, got, w)
				}
			}
		}
	}
	var rk web.Rankings
	get(t, h, "/api/rankings?shop="+shopSH, &rk)
	if rk.Latest != day || rk.Today != day || !reflect.DeepEqual(rk.Groups, []string{"after-sales", "pre-sales"}) {
		t.Errorf("latest %s today %s groups %v", rk.Latest, rk.Today, rk.Groups)
	}
	// The third shop has no ranking: an empty answer, not an error.
	if code := get(t, h, "/api/rankings?shop=shop-0003", &rk); code != 200 || rk.Latest != "" || len(rk.Rows) != 0 {
		t.Errorf("shop-0003: %d %+v", code, rk)
	}
}

// alertsQuery is alerts_recent of shop with each alert's local time in zone.
func alertsQuery(t *testing.T, shop, zone string) string {
	q := docQuery(t, "alerts_recent", "'shop-0001'", "'"+shop+"'")
	return fmt.Sprintf("SELECT substring(toString(toTimeZone(evaluated_at, '%s')), 1, 16) AS local, * FROM (%s)", zone, q)
}

// testAlertsAPI: /api/alerts is alerts_recent, with local times.
func testAlertsAPI(t *testing.T, pc *pageCase) {
	h := pc.srv.Handler()
	for shop, zone := range map[string]string{shopSH: "Asia/Shanghai", shopNY: "America/New_York"} {
		var al web.AlertList
		if code := get(t, h, "/api/alerts?shop="+shop, &al); code != 200 {
			t.Fatalf("status %d", code)
		}
		doc := docRows(t, pc.conn, alertsQuery(t, shop, zone))
		if al.Zone != zone || len(al.Alerts) != len(doc) || len(doc) == 0 {
			t.Fatalf("%s: zone %s, %d alerts; the query has %d", shop, al.Zone, len(al.Alerts), len(doc))
		}
		for i, a := range al.Alerts {
			w := doc[i]
			got := []string{a.ID, a.Local, a.Rule, a.Scope, a.ScopeID, a.GroupID, a.Metric, a.Window, num(a.Value), num(a.Threshold), a.Direction, a.State,
				num(float64(a.Numerator)), num(float64(a.Denominator))}
			want := []string{w["alert_id"], w["local"], w["rule"], w["scope"], w["scope_id"], w["group_id"], w["metric"], w["alert_window"],
				w["value"], w["threshold"], w["direction"], w["state"], w["numerator"], w["denominator"]}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s alert %d: %v\nthe query's %v", shop, i, got, want)
			}
		}
	}
	var al web.AlertList
	get(t, h, "/api/alerts?shop="+shopSH+"&limit=2", &al)
	if len(al.Alerts) != 2 || al.Alerts[0].ID != "al-4" || al.Alerts[0].Local != "2026-11-03 14:00" || al.Alerts[1].ID != "al-3" {
		t.Errorf("limit 2: %+v", al.Alerts)
	}
}

func num(x float64) string { return str(&x) }

var (
	rankRowRE   = regexp.MustCompile(`(?s)<tr data-agent="([^"]+)">(.*?)</tr>`)
	rankCellRE  = regexp.MustCompile(`<td data-metric="([^"]+)" data-value="([^"]*)"[^>]*>([^<]*)</td><td class="rank" data-rank="([^"]*)">([^<]*)</td><td class="[^"]*" data-change="([^"]*)">([^<]*)</td>`)
	rankMeanRE  = regexp.MustCompile(`<td data-mean="([^"]+)" data-value="([^"]*)"[^>]*>([^<]*)</td>`)
	rankHeadRE  = regexp.MustCompile(`<th title="([^"]*)" data-metric="([^"]+)" class="sort( sorted)?">([^<]*)</th>`)
	alertRowRE  = regexp.MustCompile(`(?s)<tr data-alert="([^"]+)" class="([a-z]+)">(.*?)</tr>`)
	alertCellRE = regexp.MustCompile(`<td class="key" data-time="([^"]*)"[^>]*>([^<]*)</td><td class="key" data-scope-id="([^"]*)">([^<]*)</td><td class="key" data-window="([^"]*)"[^>]*>([^<]*)</td><td data-value="([^"]*)"[^>]*>([^<]*)</td><td data-threshold="([^"]*)" data-direction="([^"]*)">([^<]*)</td><td class="key state">([^<]*)</td>`)
	sectionRE   = regexp.MustCompile(`(?s)<table id="(rankings|alerts)">(.*?)</table>`)
)

func domSection(t *testing.T, dom, id string) string {
	t.Helper()
	for _, m := range sectionRE.FindAllStringSubmatch(dom, -1) {
		if m[1] == id {
			return m[2]
		}
	}
	t.Fatalf("no table %s in the page", id)
	return ""
}

// checkRankingsDOM: the rankings table shows exactly the documented
// query's rows for shop, group and day, in sort's rank order, each value,
// rank, change and mean as `cspulse report rankings` shows it, with every
// metric's definition on its heading.
func checkRankingsDOM(t *testing.T, pc *pageCase, dom, shop, group, day, sort string) (agents []string) {
	t.Helper()
	table := domSection(t, dom, "rankings")
	heads := rankHeadRE.FindAllStringSubmatch(table, -1)
	if len(heads) != len(report.RankingMetrics) {
		t.Errorf("rankings: %d metric headings\n%s", len(heads), table)
	}
	for i, h := range heads {
		m := report.RankingMetrics[i]
		if html.UnescapeString(h[1]) != m.Name+": "+m.Definition+" — click to rank by it" || h[2] != m.Name || html.UnescapeString(h[4]) != m.Title || (h[3] != "") != (m.Name == sort) {
			t.Errorf("rankings heading %d: %q", i, h[1:])
		}
	}
	for _, term := range []string{report.RankDefinition, report.RankChangeDefinition, report.MeanDefinition} {
		if !strings.Contains(html.UnescapeString(table), `title="`+term) {
			t.Errorf("rankings: no heading with the definition %q", term)
		}
	}
	doc := docRows(t, pc.conn, rankingQuery(t, shop, group, day, sort))
	rows := rankRowRE.FindAllStringSubmatch(table, -1)
	if len(rows) != len(doc) || len(doc) == 0 {
		t.Fatalf("rankings of %s %q on %s by %s: %d rows on the page, the query %d\n%s", shop, group, day, sort, len(rows), len(doc), table)
	}
	for i, r := range rows {
		want := doc[i]
		agents = append(agents, r[1])
		if r[1] != want["agent_id"] {
			t.Errorf("rankings row %d: %s, the query's %s", i, r[1], want["agent_id"])
		}
		cells := rankCellRE.FindAllStringSubmatch(r[2], -1)
		if len(cells) != len(report.RankingMetrics) {
			t.Fatalf("rankings row %s: %d metric cells\n%s", r[1], len(cells), r[2])
		}
		for j, c := range cells {
			m := report.RankingMetrics[j]
			got := []string{c[1], c[2], html.UnescapeString(c[3]), c[4], c[5], c[6], html.UnescapeString(c[7])}
			w := []string{m.Name, want[m.Name], display(m, want[m.Name]), want[m.Name+"_rank"], display(report.RankingMetric{Kind: report.Count}, want[m.Name+"_rank"]),
				want[m.Name+"_rank_change"], report.RankChange(value(want[m.Name+"_rank_change"]))}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("rankings %s %s: the page %q, the query %q", r[1], m.Name, got, w)
			}
		}
	}
	means := rankMeanRE.FindAllStringSubmatch(table, -1)
	if len(means) != len(report.RankingMetrics) {
		t.Fatalf("rankings: %d means", len(means))
	}
	for j, c := range means {
		m := report.RankingMetrics[j]
		want := doc[0][m.Name+"_mean"]
		if got := []string{c[1], c[2], c[3]}; !reflect.DeepEqual(got, []string{m.Name, want, report.RankingMean(m, value(want))}) {
			t.Errorf("rankings mean of %s: %q, the query's %s", m.Name, got, want)
		}
	}
	return agents
}

func value(s string) report.Value {
	v := report.Value{IsNum: true, Null: s == "NULL"}
	if !v.Null {
		fmt.Sscan(s, &v.Num)
	}
	return v
}

func display(m report.RankingMetric, s string) string {
	return report.Display(report.Metric{Kind: m.Kind}, value(s))
}

var arrows = map[string]string{">=": "≥", ">": ">", "<=": "≤", "<": "<"}

// checkAlertsDOM: the alerts table shows alerts_recent of the shop, newest
// first, times in its zone, breaches and recoveries told apart.
func checkAlertsDOM(t *testing.T, pc *pageCase, dom, shop, zone string) {
	t.Helper()
	table := domSection(t, dom, "alerts")
	doc := docRows(t, pc.conn, alertsQuery(t, shop, zone))
	rows := alertRowRE.FindAllStringSubmatch(table, -1)
	if len(rows) != len(doc) || len(doc) == 0 {
		t.Fatalf("alerts of %s: %d rows on the page, the query %d\n%s", shop, len(rows), len(doc), table)
	}
	for i, r := range rows {
		w := doc[i]
		c := alertCellRE.FindStringSubmatch(r[3])
		if c == nil {
			t.Fatalf("alert %s: cells not as expected\n%s", r[1], r[3])
		}
		m, _ := report.Lookup(w["metric"])
		scope := w["scope"] + " " + w["scope_id"]
		switch {
		case w["scope"] == "shop":
			scope = "shop"
		case w["scope_id"] == "":
			scope = w["scope"] + " ''"
		}
		got := []string{r[1], r[2], c[1], c[2], c[3], html.UnescapeString(c[4]), c[5], html.UnescapeString(c[6]), c[7], c[8], c[9], html.UnescapeString(c[10]), html.UnescapeString(c[11]), c[12]}
		want := []string{w["alert_id"], w["state"], w["local"], w["local"][5:], w["scope_id"], scope, w["alert_window"], m.Title,
			w["value"], report.Display(m, value(w["value"])), w["threshold"], w["direction"],
			arrows[w["direction"]] + " " + report.Display(m, value(w["threshold"])), w["state"]}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("alert %d: the page %q\n  the query %q", i, got, want)
		}
	}
}
