// Package grafana holds the Grafana dashboard of cspulse (cspulse.json)
// and its test.
package grafana

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cspulse/cspulse/generator"
	"github.com/cspulse/cspulse/internal/pipetest"
	"github.com/cspulse/cspulse/internal/testenv"
)

type dashboard struct {
	Templating struct {
		List []struct {
			Name, Type, Query string
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title      string `json:"title"`
		Datasource struct {
			Type, UID string
		} `json:"datasource"`
		Targets []struct {
			Datasource struct {
				Type, UID string
			} `json:"datasource"`
			RawSQL string `json:"rawSql"`
		} `json:"targets"`
	} `json:"panels"`
}

// panelQueries: each panel's documented query (docs/queries.md) and the
// literals its variables and macros stand for there.
var panelQueries = map[string]struct {
	query, from, to string
}{
	"Today per shop":                         {"monitor_shop_day", "2026-11-02", "2026-11-02"},
	"Volume and 3-minute reply rate by hour": {"reply_volume_shop_hour", "2026-11-02", "2026-11-02"},
	"Top agents":                             {"leaderboard_shop_day", "2026-11-02", "2026-11-02"},
	"Robot intents by task":                  {"robot_task_week", "2026-11-01", "2026-11-30"},
}

// literal replaces the dashboard's variables and macros by the values of
// the documented query: ${shop} by shop-0001, $__dateFilter(day) by the
// day, or the range.
func literal(sql, from, to string) string {
	date := "day = '" + from + "'"
	if from != to {
		date = "day BETWEEN '" + from + "' AND '" + to + "'"
	}
	return strings.NewReplacer("${shop}", "shop-0001", "$__dateFilter(day)", date).Replace(sql)
}

func load(t *testing.T) dashboard {
	t.Helper()
	src, err := os.ReadFile("cspulse.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(src, &d); err != nil {
		t.Fatalf("cspulse.json: %v", err)
	}
	return d
}

func docQueries(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "queries.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	re := regexp.MustCompile("(?s)<!-- query: ([a-z0-9_]+) -->\n```sql\n(.*?)```")
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		out[m[1]] = strings.TrimSpace(m[2])
	}
	return out
}

// TestDashboardQueriesAreDocumented: every panel reads the ClickHouse
// data source of the datasource variable, and its SQL, with the literals
// put back, is the documented query.
func TestDashboardQueriesAreDocumented(t *testing.T) {
	d := load(t)
	docs := docQueries(t)
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type + ":" + v.Query
	}
	if vars["datasource"] != "datasource:grafana-clickhouse-datasource" {
		t.Errorf("variable datasource: %q, want a grafana-clickhouse-datasource data source variable", vars["datasource"])
	}
	if !strings.HasPrefix(vars["shop"], "query:") {
		t.Errorf("variable shop: %q, want a query variable", vars["shop"])
	}
	seen := map[string]bool{}
	for _, p := range d.Panels {
		want, ok := panelQueries[p.Title]
		if !ok {
			t.Errorf("panel %q: no documented query in panelQueries", p.Title)
			continue
		}
		seen[p.Title] = true
		if len(p.Targets) != 1 {
			t.Fatalf("panel %q: %d queries, want 1", p.Title, len(p.Targets))
		}
		for _, ds := range []struct{ Type, UID string }{p.Datasource, p.Targets[0].Datasource} {
			if ds.Type != "grafana-clickhouse-datasource" || ds.UID != "${datasource}" {
				t.Errorf("panel %q: data source %+v, want grafana-clickhouse-datasource with uid ${datasource}", p.Title, ds)
			}
		}
		got := literal(p.Targets[0].RawSQL, want.from, want.to)
		if got != docs[want.query] {
			t.Errorf("panel %q: its SQL with literals is not query %s of docs/queries.md:\n%s\n--- docs:\n%s", p.Title, want.query, got, docs[want.query])
		}
	}
	for title := range panelQueries {
		if !seen[title] {
			t.Errorf("no panel %q", title)
		}
	}
}

// TestDashboardQueriesReturnRows runs every panel's SQL (and the shop
// variable's), literals put back, on a generated day loaded through the
// pipeline, and requires rows from each.
func TestDashboardQueriesReturnRows(t *testing.T) {
	d := load(t)
	gen := generator.DefaultConfig()
	gen.Seed = 11
	gen.Shops = 3
	gen.AgentsPerShop = 4
	gen.SessionsPerShopDay = 300
	addr, db := pipetest.GeneratedDay(t, gen)
	conn := testenv.Conn(t, addr, db)
	run := func(name, sql string) {
		rows, err := conn.Query(context.Background(), sql)
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, sql)
			return
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil || n == 0 {
			t.Errorf("%s: %d rows (%v) on generated traffic\n%s", name, n, err, sql)
		}
	}
	for _, p := range d.Panels {
		w := panelQueries[p.Title]
		run("panel "+p.Title, literal(p.Targets[0].RawSQL, w.from, w.to))
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			run("variable "+v.Name, literal(v.Query, "2026-11-02", "2026-11-02"))
		}
	}
}
