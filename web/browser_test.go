package web_test

import (
	"bytes"
	"context"
	"html"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/internal/testenv"
	"github.com/cspulse/cspulse/report"
)

// chromium returns the path of Debian's chromium, installed by
// scripts/chromium.sh when missing (as scripts/clickhouse.sh installs
// ClickHouse). A browser that cannot be installed fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	script := filepath.Join(testenv.RepoRoot(), "scripts", "chromium.sh")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "bash", script, "ensure-installed").CombinedOutput(); err != nil {
		t.Fatalf("%s ensure-installed: %v\n%s", script, err, out)
	}
	out, err := exec.CommandContext(ctx, "bash", script, "path").Output()
	if err != nil {
		t.Fatalf("%s path: %v", script, err)
	}
	return strings.TrimSpace(string(out))
}

// headless runs chromium on url once the page's script has had budget of
// virtual time (its first fetches and renders), with extra flags
// (--dump-dom, --screenshot=…), and returns its stdout.
func headless(t *testing.T, bin, url string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=4000", "--run-all-compositor-stages-before-draw"}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return stdout.String()
}

var (
	tableRE  = regexp.MustCompile(`(?s)<table id="([a-z]+)">(.*?)</table>`)
	headRE   = regexp.MustCompile(`<th title="([^"]*)" data-metric="([^"]+)">([^<]*)</th>`)
	rowRE    = regexp.MustCompile(`(?s)<tr ([^>]*)>(.*?)</tr>`)
	attrRE   = regexp.MustCompile(`(data-[a-z]+)="([^"]*)"`)
	keyRE    = regexp.MustCompile(`<td class="key">([^<]*)</td>`)
	cellRE   = regexp.MustCompile(`<td data-metric="([^"]+)" data-value="([^"]*)"[^>]*>([^<]*)</td>`)
	barRE    = regexp.MustCompile(`<rect class="bar"[^>]*data-hour="([^"]+)" data-value="([^"]+)"`)
	dotRE    = regexp.MustCompile(`<circle class="dot"[^>]*data-hour="([^"]+)" data-value="([^"]+)"`)
	statusRE = regexp.MustCompile(`<span id="status" class="([^"]*)">([^<]*)</span>`)
)

// domRow is one rendered row: its data- attributes, key cells and
// metric cells (metric → value attribute and shown text).
type domRow struct {
	attrs map[string]string
	keys  []string
	vals  map[string][2]string
}

func domTable(t *testing.T, dom, id string) (heads map[string][2]string, rows []domRow) {
	t.Helper()
	heads = map[string][2]string{}
	for _, m := range tableRE.FindAllStringSubmatch(dom, -1) {
		if m[1] != id {
			continue
		}
		for _, h := range headRE.FindAllStringSubmatch(m[2], -1) {
			heads[h[2]] = [2]string{html.UnescapeString(h[1]), html.UnescapeString(h[3])}
		}
		for _, r := range rowRE.FindAllStringSubmatch(m[2], -1) {
			row := domRow{attrs: map[string]string{}, vals: map[string][2]string{}}
			for _, a := range attrRE.FindAllStringSubmatch(r[1], -1) {
				row.attrs[a[1]] = html.UnescapeString(a[2])
			}
			if len(row.attrs) == 0 {
				continue // the heading row
			}
			for _, k := range keyRE.FindAllStringSubmatch(r[2], -1) {
				row.keys = append(row.keys, html.UnescapeString(k[1]))
			}
			for _, c := range cellRE.FindAllStringSubmatch(r[2], -1) {
				row.vals[c[1]] = [2]string{c[2], html.UnescapeString(c[3])}
			}
			rows = append(rows, row)
		}
		return heads, rows
	}
	t.Fatalf("no table %s in the page:\n%s", id, dom)
	return nil, nil
}

// checkCell: the cell holds the query's value and shows it as `cspulse
// report` does.
func checkCell(t *testing.T, where, metric string, cell [2]string, want string) {
	t.Helper()
	if cell[0] != want {
		t.Errorf("%s: %s = %q in the page, the query's = %s", where, metric, cell[0], want)
		return
	}
	m, _ := report.Lookup(metric)
	v := report.Value{IsNum: true, Null: want == "NULL"}
	if !v.Null {
		var err error
		if v.Num, err = strconv.ParseFloat(want, 64); err != nil {
			t.Fatal(err)
		}
	}
	if disp := report.Display(m, v); cell[1] != disp {
		t.Errorf("%s: %s shown as %q, want %q", where, metric, cell[1], disp)
	}
}

func checkHeads(t *testing.T, table string, heads map[string][2]string, metrics []string) {
	t.Helper()
	for _, n := range metrics {
		m, _ := report.Lookup(n)
		if h, ok := heads[n]; !ok || h[0] != m.Name+": "+m.Definition || h[1] != m.Title {
			t.Errorf("%s heading of %s: %q, want the title %q with the definition %q on hover", table, n, h, m.Title, m.Definition)
		}
	}
}

// testBrowser drives the page in headless Chromium and checks the numbers
// it renders against the documented queries; then takes the screenshot of
// the README (written to docs/page.png with -update-screenshot).
func testBrowser(t *testing.T, pc *pageCase) {
	bin := chromium(t)
	ts := httptest.NewServer(pc.srv.Handler())
	defer ts.Close()

	for _, c := range []struct {
		query, shop, zone, by, rankDay string
	}{
		// Each shop's today (the server's clock: New York on 11-02,
		// Shanghai on 11-03), the New York shop's hours and tasks, its
		// ranking of its latest day.
		{"?shop=" + shopNY, shopNY, "America/New_York", "task", testenv.RankingsPrevDay},
		// One day for every shop; a Shanghai shop's robots and tasks, its
		// ranking of that day.
		{"?day=" + day + "&shop=" + shopSH + "&by=robot", shopSH, "Asia/Shanghai", "robot", day},
	} {
		t.Run(c.query, func(t *testing.T) {
			dom := headless(t, bin, ts.URL+"/"+c.query, "--dump-dom")
			if st := statusRE.FindStringSubmatch(dom); st == nil || st[1] != "status" || !strings.HasPrefix(st[2], "updated ") {
				t.Fatalf("page status %q: the script did not render (or an endpoint failed)\n%s", st, dom)
			}
			// The monitor: every shop, every figure.
			heads, rows := domTable(t, dom, "monitor")
			checkHeads(t, "monitor", heads, []string{"consult_sessions", "reply_3min_rate", "silent_share"})
			if len(rows) != 3 {
				t.Fatalf("monitor: %d shop rows, want 3\n%s", len(rows), dom)
			}
			docs := map[string]map[string]map[string]string{}
			for _, r := range rows {
				shop, d := r.attrs["data-shop"], r.keys[1]
				if docs[d] == nil {
					docs[d] = map[string]map[string]string{}
					for _, q := range docRows(t, pc.conn, docQuery(t, "monitor_shop_day", "'2026-11-02'", "'"+d+"'")) {
						docs[d][q["shop_id"]] = q
					}
				}
				want := docs[d][shop]
				if want == nil {
					t.Errorf("monitor: %s on %s is not in monitor_shop_day", shop, d)
					continue
				}
				for metric, col := range monitorCols {
					checkCell(t, "monitor "+shop+" "+d, metric, r.vals[metric], want[col])
				}
			}
			// The chart: bars of buyer messages, points of the rate.
			bars, dots := map[string]string{}, map[string]string{}
			for _, m := range barRE.FindAllStringSubmatch(dom, -1) {
				bars[m[1]] = m[2]
			}
			for _, m := range dotRE.FindAllStringSubmatch(dom, -1) {
				dots[m[1]] = m[2]
			}
			if len(bars) == 0 || len(dots) == 0 {
				t.Fatalf("chart: %d bars, %d points\n%s", len(bars), len(dots), dom)
			}
			checkHourly(t, pc.conn, c.shop, c.zone, func(hour string, want map[string]string) {
				if b, ok := bars[hour]; (ok || want["buyer_msgs_n"] != "0") && b != want["buyer_msgs_n"] {
					t.Errorf("chart %s %s: bar %q, the query's buyer_msgs_n = %s", c.shop, hour, b, want["buyer_msgs_n"])
				}
				delete(bars, hour)
				p, ok := dots[hour]
				if !ok {
					p = "NULL"
				}
				if p != want["reply_3min_rate"] {
					t.Errorf("chart %s %s: point %q, the query's reply_3min_rate = %s", c.shop, hour, p, want["reply_3min_rate"])
				}
				delete(dots, hour)
			})
			if len(bars)+len(dots) > 0 {
				t.Errorf("chart: hours the query has not: bars %v, points %v", bars, dots)
			}
			// The robot report of the shop's day.
			heads, rows = domTable(t, dom, "robots")
			checkHeads(t, "robots", heads, []string{"robot_calls", "connect_rate", "intent_ab_share"})
			got := map[string]domRow{}
			for _, r := range rows {
				got[r.attrs["data-robot"]+"|"+r.attrs["data-task"]] = r
			}
			n := 0
			checkRobots(t, pc.conn, c.shop, c.by, "", func(key string, want, cols map[string]string) {
				r, ok := got[key]
				if !ok {
					t.Errorf("robots: no row %s", key)
					return
				}
				delete(got, key)
				for metric, col := range cols {
					checkCell(t, "robots "+key, metric, r.vals[metric], want[col])
				}
				n++
			})
			if n == 0 || len(got) > 0 {
				t.Errorf("robots: %d rows compared; rows the query has not: %v", n, got)
			}
			if c.by == "robot" {
				vals := map[string]map[string]string{}
				for _, r := range rows {
					key := r.attrs["data-robot"] + "|" + r.attrs["data-task"]
					vals[key] = map[string]string{}
					for m, cell := range r.vals {
						vals[key][m] = cell[0]
					}
				}
				checkIntentSums(t, pc.conn, c.shop, "", vals)
			}
			checkRankingsDOM(t, pc, dom, c.shop, "", c.rankDay, "received_buyers")
			checkAlertsDOM(t, pc, dom, c.shop, c.zone)
			if strings.Contains(dom, "issue 11") {
				t.Error("the page still has a placeholder of issue 11")
			}
		})
	}

	// The ranking's switches: its day so far or the day before, a group,
	// the metric it is ordered by (ties by agent id, no rank last).
	// agents is the order worked out by hand from testenv's rows.
	for _, c := range []struct {
		query, group, day, sort string
		agents                  []string
	}{
		{"?shop=" + shopSH + "&sort=reply_3min_rate_session", "", testenv.RankingsDay, "reply_3min_rate_session", []string{"a02", "a01", "a03", "a04"}},
		{"?shop=" + shopSH + "&sort=satisfaction_rate", "", testenv.RankingsDay, "satisfaction_rate", []string{"a04", "a01", "a03", "a02"}},
		{"?shop=" + shopSH + "&group=pre-sales&rank=prev&sort=received_sessions", "pre-sales", testenv.RankingsPrevDay, "received_sessions", []string{"a02", "a01"}},
		{"?shop=" + shopSH + "&group=after-sales", "after-sales", testenv.RankingsDay, "received_buyers", []string{"a03", "a04"}},
	} {
		t.Run(c.query, func(t *testing.T) {
			dom := headless(t, bin, ts.URL+"/"+c.query, "--dump-dom")
			if st := statusRE.FindStringSubmatch(dom); st == nil || st[1] != "status" || !strings.HasPrefix(st[2], "updated ") {
				t.Fatalf("page status %q\n%s", st, dom)
			}
			agents := checkRankingsDOM(t, pc, dom, shopSH, c.group, c.day, c.sort)
			for i, a := range c.agents {
				c.agents[i] = shopSH + "-" + a
			}
			if strings.Join(agents, " ") != strings.Join(c.agents, " ") {
				t.Errorf("rankings by %s: %v, want %v", c.sort, agents, c.agents)
			}
			checkAlertsDOM(t, pc, dom, shopSH, "Asia/Shanghai")
		})
	}

	t.Run("screenshot", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "page.png")
		if *updateScreenshot {
			out = filepath.Join(testenv.RepoRoot(), "docs", "page.png")
		}
		headless(t, bin, ts.URL+"/?day="+day+"&shop="+shopSH, "--screenshot="+out, "--window-size=1280,900")
		png, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 20000 {
			t.Fatalf("%s: %d bytes, not a screenshot of the page", out, len(png))
		}
		t.Logf("screenshot: %s (%d bytes)", out, len(png))
	})
}
