package web_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cspulse/cspulse/generator"
	"github.com/cspulse/cspulse/internal/pipetest"
	"github.com/cspulse/cspulse/internal/testenv"
	"github.com/cspulse/cspulse/report"
	"github.com/cspulse/cspulse/sinks"
	"github.com/cspulse/cspulse/web"
)

var docQueryRE = regexp.MustCompile("(?s)<!-- query: ([a-z0-9_]+) -->\n```sql\n(.*?)```")

// docQuery is the named sql block of docs/queries.md, with each literal of
// subst replaced (its shop and days, as deploy/grafana's test does).
func docQuery(t *testing.T, name string, subst ...string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "queries.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range docQueryRE.FindAllStringSubmatch(string(src), -1) {
		if m[1] != name {
			continue
		}
		q := m[2]
		for i := 0; i+1 < len(subst); i += 2 {
			if !strings.Contains(q, subst[i]) {
				t.Fatalf("query %s has no %q", name, subst[i])
			}
			q = strings.ReplaceAll(q, subst[i], subst[i+1])
		}
		return q
	}
	t.Fatalf("docs/queries.md has no query %s", name)
	return ""
}

// docRows runs a query; each row is column → value as report.Value.String
// prints it (shortest number, NULL, text).
func docRows(t *testing.T, conn driver.Conn, q string) []map[string]string {
	t.Helper()
	var out []map[string]string
	err := report.ScanQuery(context.Background(), conn, q, func(vals []report.Value, names []string) {
		row := map[string]string{}
		for i, v := range vals {
			row[names[i]] = v.String()
		}
		out = append(out, row)
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	return out
}

// str is a JSON figure as report.Value.String prints it.
func str(v *float64) string {
	if v == nil {
		return "NULL"
	}
	return report.Value{Num: *v, IsNum: true}.String()
}

func get(t *testing.T, h http.Handler, url string, out any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
	if rec.Code == 200 && out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s: %v\n%s", url, err, rec.Body)
		}
	}
	return rec.Code
}

// monitorCols maps the monitor's metrics to monitor_shop_day's columns.
var monitorCols = map[string]string{"consult_sessions": "consult", "received_sessions": "received",
	"reply_3min_rate": "reply_3min_rate", "avg_response_s": "avg_response_s", "pickup_rate": "pickup_rate",
	"avg_wait_s": "avg_wait_s", "satisfaction_rate": "satisfaction_rate", "sales_yuan": "sales_yuan",
	"silent_share": "silent_share"}

const (
	day    = "2026-11-02"
	shopSH = "shop-0001" // Asia/Shanghai
	shopNY = "shop-0002" // America/New_York
)

// pageCase is the data every test of the page shares: a generated day of
// three shops (one in New York) loaded through the whole pipeline.
type pageCase struct {
	conn driver.Conn
	srv  *web.Server
	gen  generator.Config
}

func loadDay(t *testing.T) *pageCase {
	gen := pipetest.DemoDay()
	addr, db := pipetest.GeneratedDay(t, gen)
	conn := testenv.Conn(t, addr, db)
	if z := gen.ShopZones(); z[shopNY] != "America/New_York" || z[shopSH] != "Asia/Shanghai" {
		t.Fatalf("generated zones %v", z)
	}
	// 20:00 UTC: already 2026-11-03 04:00 in Shanghai, still
	// 2026-11-02 15:00 in New York.
	now := time.Date(2026, 11, 2, 20, 0, 0, 0, time.UTC)
	// Rankings and alerts: hand-made rows with known numbers (shop-0001's
	// day so far is 2026-11-03, as its "today" at this clock).
	testenv.InsertRankingsAndAlerts(t, conn)
	srv := &web.Server{Conn: conn, Database: db, DefaultZone: "Asia/Shanghai", ShopZones: gen.ShopZones(),
		Now: func() time.Time { return now }}
	return &pageCase{conn, srv, gen}
}

// TestPageEqualsDocQueries: on a generated day loaded through the whole
// pipeline, every figure of the page's endpoints — and of the page as
// headless Chromium renders it — equals the documented query of
// docs/queries.md that defines it.
func TestPageEqualsDocQueries(t *testing.T) {
	pc := loadDay(t)
	h := pc.srv.Handler()

	t.Run("monitor", func(t *testing.T) {
		// Each shop's today: New York's is 2026-11-02, Shanghai's 2026-11-03.
		var today web.Monitor
		if code := get(t, h, "/api/monitor", &today); code != 200 {
			t.Fatalf("status %d", code)
		}
		days := map[string]string{}
		for _, s := range today.Shops {
			days[s.Shop] = s.Day
		}
		if days[shopNY] != day || days[shopSH] != "2026-11-03" {
			t.Errorf("today per shop: %v; want %s on %s and %s on 2026-11-03", days, shopNY, day, shopSH)
		}
		checkMonitor(t, pc.conn, today)
		var one web.Monitor
		if code := get(t, h, "/api/monitor?day="+day, &one); code != 200 {
			t.Fatalf("status %d", code)
		}
		if len(one.Shops) != 3 {
			t.Fatalf("%d shops on %s, want 3", len(one.Shops), day)
		}
		checkMonitor(t, pc.conn, one)
		for i, m := range one.Metrics {
			rm, _ := report.Lookup(web.MonitorMetrics[i])
			if m.Name != rm.Name || m.Definition != rm.Definition || m.Title != rm.Title {
				t.Errorf("metric %d: %+v, report.Metrics has %+v", i, m, rm)
			}
		}
	})

	t.Run("hourly", func(t *testing.T) {
		// The New York shop's today, by its local hours.
		var hr web.Hourly
		if code := get(t, h, "/api/hourly?shop="+shopNY, &hr); code != 200 {
			t.Fatalf("status %d", code)
		}
		if hr.Day != day || hr.Zone != "America/New_York" {
			t.Fatalf("day %s zone %s", hr.Day, hr.Zone)
		}
		got := map[string]web.Values{}
		for _, r := range hr.Hours {
			got[r.Hour] = r.Values
		}
		checkHourly(t, pc.conn, shopNY, "America/New_York", func(hour string, want map[string]string) {
			v, ok := got[hour]
			if !ok {
				if want["buyer_msgs_n"] != "0" {
					t.Errorf("%s: no hour %s; the query has %v", shopNY, hour, want)
				}
				return
			}
			delete(got, hour)
			if str(v["buyer_msgs"]) != want["buyer_msgs_n"] || str(v["reply_3min_rate"]) != want["reply_3min_rate"] {
				t.Errorf("%s %s: buyer_msgs %s, reply_3min_rate %s; the query: %s, %s", shopNY, hour,
					str(v["buyer_msgs"]), str(v["reply_3min_rate"]), want["buyer_msgs_n"], want["reply_3min_rate"])
			}
		})
		for hour := range got {
			t.Errorf("hour %s is not in the query", hour)
		}
	})

	t.Run("exclusive", func(t *testing.T) {
		var ex web.Exclusive
		url := "/api/exclusive?shop=" + shopSH + "&day=" + day
		if code := get(t, h, url, &ex); code != 200 {
			t.Fatalf("%s: status %d", url, code)
		}
		if len(ex.Metrics) != len(web.ExclusiveMetrics) {
			t.Errorf("%d exclusive metrics, want %d", len(ex.Metrics), len(web.ExclusiveMetrics))
		}
		got := map[string]web.Values{}
		for _, r := range ex.Rows {
			got[r.Agent] = r.Values
		}
		cols := map[string]string{"exclusive_sent": "sent_n", "exclusive_read": "read_n", "exclusive_visited": "visited_n",
			"exclusive_bought": "bought_n", "guided_orders": "guided_orders_n", "guided_yuan": "guided_yuan", "exclusive_read_rate": "read_rate"}
		q := docQuery(t, "exclusive_agent_day", "day BETWEEN '2026-11-01' AND '2026-11-30'", "day = '"+day+"'", "'shop-0001'", "'"+shopSH+"'")
		n := 0
		for _, want := range docRows(t, pc.conn, q) {
			v, ok := got[want["agent_id"]]
			if !ok {
				t.Errorf("%s: no row for %s; the query has %v", url, want["agent_id"], want)
				continue
			}
			for metric, col := range cols {
				if str(v[metric]) != want[col] {
					t.Errorf("%s %s: %s = %s, the query's %s = %s", url, want["agent_id"], metric, str(v[metric]), col, want[col])
				}
			}
			n++
		}
		if n == 0 || n != len(ex.Rows) {
			t.Errorf("%s: %d rows, the query %d (want the same, and some)", url, len(ex.Rows), n)
		}
	})

	t.Run("robots", func(t *testing.T) {
		for _, c := range []struct{ by, hours string }{{"task", ""}, {"task", "10:00-12:00"}, {"robot", ""}, {"robot", "10:00-12:00"}} {
			var rb web.Robots
			url := "/api/robots?shop=" + shopSH + "&day=" + day + "&by=" + c.by + "&hours=" + c.hours
			if code := get(t, h, url, &rb); code != 200 {
				t.Fatalf("%s: status %d", url, code)
			}
			got := map[string]web.Values{}
			strs := map[string]map[string]string{}
			for _, r := range rb.Rows {
				got[r.Robot+"|"+r.Task] = r.Values
				strs[r.Robot+"|"+r.Task] = map[string]string{}
				for m, v := range r.Values {
					strs[r.Robot+"|"+r.Task][m] = str(v)
				}
			}
			if len(rb.Metrics) != len(web.RobotMetrics) {
				t.Errorf("%d robot metrics, want %d", len(rb.Metrics), len(web.RobotMetrics))
			}
			if c.by == "robot" {
				checkIntentSums(t, pc.conn, shopSH, c.hours, strs)
			}
			n := 0
			checkRobots(t, pc.conn, shopSH, c.by, c.hours, func(key string, want map[string]string, cols map[string]string) {
				v, ok := got[key]
				if !ok {
					t.Errorf("%s: no row %s; the query has %v", url, key, want)
					return
				}
				delete(got, key)
				for metric, col := range cols {
					if str(v[metric]) != want[col] {
						t.Errorf("%s %s: %s = %s, the query's %s = %s", url, key, metric, str(v[metric]), col, want[col])
					}
				}
				n++
			})
			if n == 0 {
				t.Errorf("%s: no robot rows compared", url)
			}
			for key := range got {
				t.Errorf("%s: row %s is not in the query", url, key)
			}
		}
	})

	t.Run("rankings", func(t *testing.T) { testRankingsAPI(t, pc) })
	t.Run("alerts", func(t *testing.T) { testAlertsAPI(t, pc) })
	t.Run("browser", func(t *testing.T) { testBrowser(t, pc) })
}

func checkMonitor(t *testing.T, conn driver.Conn, m web.Monitor) {
	t.Helper()
	docs := map[string]map[string]map[string]string{} // day → shop → row
	compared := 0
	for _, s := range m.Shops {
		if docs[s.Day] == nil {
			docs[s.Day] = map[string]map[string]string{}
			for _, r := range docRows(t, conn, docQuery(t, "monitor_shop_day", "'2026-11-02'", "'"+s.Day+"'")) {
				docs[s.Day][r["shop_id"]] = r
			}
		}
		want, ok := docs[s.Day][s.Shop]
		if !ok {
			t.Errorf("%s on %s: not in monitor_shop_day", s.Shop, s.Day)
			continue
		}
		for metric, col := range monitorCols {
			if got := str(s.Values[metric]); got != want[col] {
				t.Errorf("%s on %s: %s = %s, monitor_shop_day's %s = %s", s.Shop, s.Day, metric, got, col, want[col])
			}
			compared++
		}
	}
	if compared == 0 {
		t.Fatal("nothing compared")
	}
}

// checkHourly runs reply_volume_shop_hour for shop on day, its UTC hours
// as the shop's local hours ("09:00").
func checkHourly(t *testing.T, conn driver.Conn, shop, zone string, each func(hour string, want map[string]string)) {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	q := docQuery(t, "reply_volume_shop_hour", "'shop-0001'", "'"+shop+"'", "'2026-11-02'", "'"+day+"'")
	rows := docRows(t, conn, "SELECT toString(hour) AS utc_hour, buyer_msgs_n, reply_3min_rate FROM ("+q+")")
	if len(rows) == 0 {
		t.Fatal("reply_volume_shop_hour: no rows")
	}
	for _, r := range rows {
		utc, err := time.Parse("2006-01-02 15:04:05", r["utc_hour"])
		if err != nil {
			t.Fatal(err)
		}
		each(fmt.Sprintf("%02d:00", utc.In(loc).Hour()), r)
	}
}

// intentCols are the intent levels' metrics, by robot_task_week's columns.
var intentCols = map[string]string{"intent_a": "intent_a", "intent_b": "intent_b", "intent_c": "intent_c",
	"intent_d": "intent_d", "intent_e": "intent_e", "intent_f": "intent_f", "intent_none": "intent_none",
	"intent_other": "intent_other"}

// hoursSQL is the documented hour_of_day condition of --hours 10:00-12:00.
const hoursSQL = " AND hour_of_day >= 10 AND hour_of_day < 12"

// checkRobots runs the documented robot query for by and hours ("" or
// "10:00-12:00") on shop and day; key is "robot|task" ("|task" by task).
// By task, robot_task_week gives every figure and the intent levels; by
// robot and task, robot_robot_task_day (robot_hours_10_12_month with
// hours) the calls and rates, and taskIntents the levels.
func checkRobots(t *testing.T, conn driver.Conn, shop, by, hours string, each func(key string, want, cols map[string]string)) {
	t.Helper()
	month := "day BETWEEN '2026-11-01' AND '2026-11-30'"
	where := "day = '" + day + "'"
	if hours != "" {
		if hours != "10:00-12:00" {
			t.Fatalf("hours %s: only 10:00-12:00 has a documented query", hours)
		}
		where += hoursSQL
	}
	shopLit := []string{"'shop-0001'", "'" + shop + "'"}
	var q string
	cols := map[string]string{"robot_calls": "calls_n", "robot_connected": "connected_n", "connect_rate": "connect_rate"}
	switch {
	case by == "task":
		q = docQuery(t, "robot_task_week", append([]string{month, where}, shopLit...)...)
		for m, c := range intentCols {
			cols[m] = c
		}
	case hours != "":
		q = docQuery(t, "robot_hours_10_12_month", append([]string{month, "day = '" + day + "'"}, shopLit...)...)
	default:
		q = docQuery(t, "robot_robot_task_day", append([]string{month, where}, shopLit...)...)
		cols["intent_ab_share"] = "intent_ab_share"
	}
	for _, r := range docRows(t, conn, q) {
		each(r["robot_id"]+"|"+r["task_id"], r, cols)
	}
}

// checkIntentSums: by robot and task, each task's robots add up to the
// task's intent levels of robot_task_week. got is "robot|task" → metric →
// value.
func checkIntentSums(t *testing.T, conn driver.Conn, shop, hours string, got map[string]map[string]string) {
	t.Helper()
	sums := map[string]map[string]float64{}
	for key, vals := range got {
		task := key[strings.Index(key, "|")+1:]
		if sums[task] == nil {
			sums[task] = map[string]float64{}
		}
		for m := range intentCols {
			x, err := strconv.ParseFloat(vals[m], 64)
			if err != nil {
				t.Fatalf("%s %s = %q", key, m, vals[m])
			}
			sums[task][m] += x
		}
	}
	n := 0
	checkRobots(t, conn, shop, "task", hours, func(key string, want, _ map[string]string) {
		task := key[1:]
		for m, col := range intentCols {
			if got := strconv.FormatFloat(sums[task][m], 'f', -1, 64); got != want[col] {
				t.Errorf("task %s (hours %q): its robots' %s add up to %s, robot_task_week's %s = %s", task, hours, m, got, col, want[col])
			}
			n++
		}
	})
	if n == 0 {
		t.Error("no intent level compared")
	}
}

// TestAPIErrors: a mistake in a request is a 400 that says what is wrong,
// before any query.
func TestAPIErrors(t *testing.T) {
	h := (&web.Server{}).Handler()
	for url, want := range map[string]string{
		"/api/monitor?day=yesterday":                     "is not a day",
		"/api/hourly":                                    "shop",
		"/api/robots?shop=s&by=agent":                    "want task or robot",
		"/api/robots?shop=s&hours=9-5:30":                "hours",
		"/api/hourly?shop=s&day=2026-13-01":              "is not a day",
		"/api/robots?shop=s&day=2026-11-02&hours=24:00-": "hours",
		"/api/rankings":                                  "shop",
		"/api/rankings?shop=s&day=11-02":                 "is not a day",
		"/api/alerts":                                    "shop",
		"/api/alerts?shop=s&limit=0":                     "limit",
		"/api/alerts?shop=s&limit=501":                   "limit",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d %s, want 400 with %q", url, rec.Code, rec.Body, want)
		}
	}
	for _, url := range []string{"/", "/static/app.js", "/static/rankings.js", "/static/style.css", "/healthz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
		if rec.Code != 200 || rec.Body.Len() == 0 {
			t.Errorf("%s: %d", url, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for _, external := range []string{"http://", "https://", "//cdn"} {
		if strings.Contains(strings.ReplaceAll(rec.Body.String(), "http://www.w3.org", ""), external) {
			t.Errorf("the page refers to %q: everything must come from the binary", external)
		}
	}
}

var updateScreenshot = flag.Bool("update-screenshot", false, "write docs/page.png from the browser test")

// TestTodayPerZone: "today" is the shop's local date (time.shop_zones, else
// time.default_zone), which can differ between shops at one instant.
func TestTodayPerZone(t *testing.T) {
	s := &web.Server{DefaultZone: "Asia/Shanghai", ShopZones: map[string]string{
		"ny": "America/New_York", "kiritimati": "Pacific/Kiritimati", "pago": "Pacific/Pago_Pago"}}
	at := time.Date(2026, 11, 2, 11, 30, 0, 0, time.UTC)
	for shop, want := range map[string]string{"any": "2026-11-02", "ny": "2026-11-02", "kiritimati": "2026-11-03", "pago": "2026-11-02"} {
		if got := s.Today(shop, at); got != want {
			t.Errorf("%s at %v: today %s, want %s", shop, at, got, want)
		}
	}
	at = time.Date(2026, 11, 2, 10, 30, 0, 0, time.UTC) // 23:30 on 11-01 in Pago Pago (UTC−11)
	if got := s.Today("pago", at); got != "2026-11-01" {
		t.Errorf("pago at %v: %s", at, got)
	}
	if z := s.Zone("any"); z != "Asia/Shanghai" {
		t.Errorf("zone of an unlisted shop: %s", z)
	}
}

// TestClickHouseOutage: while ClickHouse is unreachable the endpoints
// answer 500 with the error (the page shows it); once it is back they
// answer again, without a restart.
func TestClickHouseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse")
	}
	addr, db := pipetest.MigratedDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	proxy := testenv.StartProxy(t, addr)
	chc := pipetest.ClickHouseConfig(t, proxy.Addr(), db)
	chc.DialTimeout = time.Second
	ch, err := sinks.OpenClickHouse(ctx, chc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	h := (&web.Server{Conn: ch.Conn(), Database: db, QueryTimeout: 3 * time.Second}).Handler()
	var m web.Monitor
	if code := get(t, h, "/api/monitor", &m); code != 200 || len(m.Shops) != 0 {
		t.Fatalf("before: %d %+v", code, m)
	}
	proxy.SetUp(false)
	if code := get(t, h, "/api/monitor", nil); code != 500 {
		t.Fatalf("during the outage: %d, want 500", code)
	}
	proxy.SetUp(true)
	code := 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && code != 200; time.Sleep(200 * time.Millisecond) {
		code = get(t, h, "/api/monitor", nil)
	}
	if code != 200 {
		t.Fatalf("after the outage: %d, want 200", code)
	}
}
