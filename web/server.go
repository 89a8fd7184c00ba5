// Package web is the supervisors' page of `cspulse serve` (SPEC §4.4): one
// HTML page, its CSS and a small vanilla script, all embedded in the
// binary, and the JSON endpoints the page polls. Every figure comes from
// ClickHouse through package report, so each one is a metric of
// report.Metrics (or, for rankings, report.RankingMetrics): the same SQL
// as `cspulse report` and docs/queries.md, with its definition shown on
// hover.
//
// Endpoints (GET; all days are shop-local, YYYY-MM-DD):
//
//	/              the page
//	/api/monitor   today's figures per shop (?day= another day for all shops)
//	/api/hourly    ?shop=S[&day=D] buyer messages and the 3-minute reply rate per local hour
//	/api/robots    ?shop=S[&day=D][&by=task|robot][&hours=09:00-18:00] the robot intent report
//	/api/rankings  ?shop=S[&group=G][&day=D][&prev=1] the agents' ranking of cs_agent_rankings:
//	               the shop's (or group G's) on D, else on its latest day; prev=1 the day before
//	/api/alerts    ?shop=S[&limit=50] the shop's latest alerts of cs_alerts, newest first
//	/api/exclusive ?shop=S[&day=D] exclusive customers (专属客服): each agent's follow-up funnel
//	/healthz       200 "ok"
//
// "Today" is the shop's local day: time.shop_zones[shop], else
// time.default_zone, at the moment of the request.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cspulse/cspulse/report"
)

//go:embed static
var static embed.FS

// MonitorMetrics are the columns of the live monitor, in order (the
// documented query monitor_shop_day of docs/queries.md).
var MonitorMetrics = []string{"consult_sessions", "received_sessions", "reply_3min_rate", "avg_response_s",
	"pickup_rate", "avg_wait_s", "satisfaction_rate", "sales_yuan", "silent_share"}

// HourlyMetrics are the chart's series (reply_volume_shop_hour): the
// volume and the 3-minute reply rate.
var HourlyMetrics = []string{"buyer_msgs", "reply_3min_rate"}

// RobotMetrics are the robot intent report's columns: every metric of
// cs_robot_hourly.
var RobotMetrics = func() []string {
	var out []string
	for _, m := range report.Metrics {
		if m.Table == report.RobotHourly {
			out = append(out, m.Name)
		}
	}
	return out
}()

// ExclusiveMetrics are the exclusive-customer table's columns: every
// metric of cs_exclusive_daily (the documented query exclusive_agent_day).
var ExclusiveMetrics = func() []string {
	var out []string
	for _, m := range report.Metrics {
		if m.Table == report.ExclusiveDaily {
			out = append(out, m.Name)
		}
	}
	return out
}()

// Server answers the page and its endpoints from one ClickHouse database.
type Server struct {
	Conn        driver.Conn
	Database    string
	DefaultZone string            // time.default_zone (its default is config's)
	ShopZones   map[string]string // time.shop_zones
	// Now is the clock that decides "today" (time.Now when nil).
	Now func() time.Time
	// QueryTimeout bounds each request's queries (10 s when 0).
	QueryTimeout time.Duration
}

// Handler is the page and the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	files := http.FileServer(http.FS(sub))
	mux.Handle("GET /static/", http.StripPrefix("/static/", noCache(files)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page, _ := static.ReadFile("static/index.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /api/monitor", s.api(s.monitor))
	mux.HandleFunc("GET /api/hourly", s.api(s.hourly))
	mux.HandleFunc("GET /api/robots", s.api(s.robots))
	mux.HandleFunc("GET /api/rankings", s.api(s.rankings))
	mux.HandleFunc("GET /api/alerts", s.api(s.alerts))
	mux.HandleFunc("GET /api/exclusive", s.api(s.exclusive))
	return mux
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// badRequest is a mistake in the request (400), not a failure (500).
type badRequest struct{ error }

func (s *Server) api(f func(context.Context, *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		timeout := s.QueryTimeout
		if timeout == 0 {
			timeout = 10 * time.Second
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		out, err := f(ctx, r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			code := http.StatusInternalServerError
			if errors.As(err, new(badRequest)) {
				code = http.StatusBadRequest
			}
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(out)
	}
}

// MetricInfo is a column's metric: the page's header, hover text and
// number format.
type MetricInfo struct {
	Name       string `json:"name"`
	Title      string `json:"title"`
	Definition string `json:"definition"`
	Kind       string `json:"kind"` // count, rate, seconds, yuan, ratio
}

var kinds = map[report.Kind]string{report.Count: "count", report.Rate: "rate", report.Seconds: "seconds",
	report.Yuan: "yuan", report.Ratio: "ratio"}

func infos(names []string) []MetricInfo {
	out := make([]MetricInfo, 0, len(names))
	for _, n := range names {
		m, _ := report.Lookup(n)
		out = append(out, MetricInfo{m.Name, m.Title, m.Definition, kinds[m.Kind]})
	}
	return out
}

// Values are a row's figures by metric name; nil (JSON null) when there
// was nothing to measure.
type Values map[string]*float64

func values(ms []report.Metric, vs []report.Value) Values {
	out := Values{}
	for i, m := range ms {
		if vs[i].Null {
			out[m.Name] = nil
			continue
		}
		x := vs[i].Num
		out[m.Name] = &x
	}
	return out
}

// ShopRow is one shop's line of the monitor.
type ShopRow struct {
	Shop   string `json:"shop"`
	Day    string `json:"day"`
	Zone   string `json:"zone"`
	Values Values `json:"values"`
}

// Monitor is /api/monitor's answer.
type Monitor struct {
	Now     string       `json:"now"` // RFC 3339, UTC
	Day     string       `json:"day"` // the requested day; "" for each shop's today
	Metrics []MetricInfo `json:"metrics"`
	Shops   []ShopRow    `json:"shops"`
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Zone is the shop's time zone name.
func (s *Server) Zone(shop string) string {
	if z, ok := s.ShopZones[shop]; ok && z != "" {
		return z
	}
	return s.DefaultZone
}

// Today is the shop's local day at t.
func (s *Server) Today(shop string, t time.Time) string {
	loc, err := time.LoadLocation(s.Zone(shop))
	if err != nil {
		loc = time.UTC // config validation rejects unknown zones
	}
	return t.In(loc).Format("2006-01-02")
}

func dayParam(r *http.Request) (string, error) {
	d := r.URL.Query().Get("day")
	if err := report.ParseDay(d); err != nil {
		return "", badRequest{fmt.Errorf("day: %w", err)}
	}
	return d, nil
}

// monitor is each shop's today, or one day for all shops. Shops whose zone
// puts them on another date than the default zone's are read with their
// own day: one query per distinct date (at most three at any instant).
func (s *Server) monitor(ctx context.Context, r *http.Request) (any, error) {
	day, err := dayParam(r)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := &Monitor{Now: now.UTC().Format(time.RFC3339), Day: day, Metrics: infos(MonitorMetrics), Shops: []ShopRow{}}
	type run struct {
		day   string
		shops []string // nil: every shop not on another date
	}
	var runs []run
	other := map[string]bool{} // configured shops not on the default zone's date
	if day != "" {
		runs = []run{{day: day}}
	} else {
		defDay := s.Today("", now)
		byDay := map[string][]string{}
		for shop := range s.ShopZones {
			if d := s.Today(shop, now); d != defDay {
				byDay[d] = append(byDay[d], shop)
				other[shop] = true
			}
		}
		runs = append(runs, run{day: defDay})
		for d, shops := range byDay {
			sort.Strings(shops)
			runs = append(runs, run{d, shops})
		}
	}
	for _, ru := range runs {
		res, err := report.Run(ctx, s.Conn, s.Database, report.Request{By: "shop", Metrics: MonitorMetrics,
			From: ru.day, To: ru.day, Shops: ru.shops})
		if err != nil {
			return nil, err
		}
		for _, row := range res.Rows {
			shop := row.Keys[0]
			if ru.shops == nil && other[shop] {
				continue
			}
			out.Shops = append(out.Shops, ShopRow{shop, ru.day, s.Zone(shop), values(res.Metrics, row.Values)})
		}
	}
	sort.Slice(out.Shops, func(i, j int) bool { return out.Shops[i].Shop < out.Shops[j].Shop })
	return out, nil
}

// HourRow is one local hour of the chart.
type HourRow struct {
	Hour   string `json:"hour"` // "09:00"
	Values Values `json:"values"`
}

// Hourly is /api/hourly's answer: the hours with buyer messages.
type Hourly struct {
	Shop    string       `json:"shop"`
	Day     string       `json:"day"`
	Zone    string       `json:"zone"`
	Metrics []MetricInfo `json:"metrics"`
	Hours   []HourRow    `json:"hours"`
}

func shopParam(r *http.Request) (string, error) {
	shop := r.URL.Query().Get("shop")
	if shop == "" {
		return "", badRequest{errors.New("shop: give ?shop=ID")}
	}
	return shop, nil
}

// shopDay reads ?shop= and ?day=; no day is the shop's local today.
func (s *Server) shopDay(r *http.Request) (shop, day string, err error) {
	if shop, err = shopParam(r); err != nil {
		return "", "", err
	}
	if day, err = dayParam(r); err != nil || day != "" {
		return shop, day, err
	}
	return shop, s.Today(shop, s.now()), nil
}

func (s *Server) hourly(ctx context.Context, r *http.Request) (any, error) {
	shop, day, err := s.shopDay(r)
	if err != nil {
		return nil, err
	}
	res, err := report.Run(ctx, s.Conn, s.Database, report.Request{By: "hour", Metrics: HourlyMetrics,
		From: day, To: day, Shops: []string{shop}})
	if err != nil {
		return nil, err
	}
	out := &Hourly{Shop: shop, Day: day, Zone: s.Zone(shop), Metrics: infos(HourlyMetrics), Hours: []HourRow{}}
	for _, row := range res.Rows {
		out.Hours = append(out.Hours, HourRow{row.Keys[0], values(res.Metrics, row.Values)})
	}
	return out, nil
}

// RobotRow is one task, or robot and task, of the robot report.
type RobotRow struct {
	Robot  string `json:"robot,omitempty"`
	Task   string `json:"task"`
	Values Values `json:"values"`
}

// Robots is /api/robots's answer.
type Robots struct {
	Shop    string       `json:"shop"`
	Day     string       `json:"day"`
	By      string       `json:"by"`    // task or robot (robot + task)
	Hours   string       `json:"hours"` // "" or e.g. "09:00-18:00"
	Metrics []MetricInfo `json:"metrics"`
	Rows    []RobotRow   `json:"rows"`
}

func (s *Server) robots(ctx context.Context, r *http.Request) (any, error) {
	shop, day, err := s.shopDay(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	by := q.Get("by")
	if by == "" {
		by = "task"
	}
	if by != "task" && by != "robot" {
		return nil, badRequest{fmt.Errorf("by %q: want task or robot", by)}
	}
	hours, err := report.ParseHours(q.Get("hours"))
	if err != nil {
		return nil, badRequest{fmt.Errorf("hours %w", err)}
	}
	res, err := report.Run(ctx, s.Conn, s.Database, report.Request{By: by, Metrics: RobotMetrics,
		From: day, To: day, Shops: []string{shop}, Hours: hours})
	if err != nil {
		return nil, err
	}
	out := &Robots{Shop: shop, Day: day, By: by, Hours: q.Get("hours"), Metrics: infos(RobotMetrics), Rows: []RobotRow{}}
	for _, row := range res.Rows {
		// keys: shop, task — or shop, robot, task
		rr := RobotRow{Task: row.Keys[len(row.Keys)-1], Values: values(res.Metrics, row.Values)}
		if by == "robot" {
			rr.Robot = row.Keys[1]
		}
		out.Rows = append(out.Rows, rr)
	}
	return out, nil
}

// ExclusiveRow is one agent of the exclusive-customer table.
type ExclusiveRow struct {
	Agent  string `json:"agent"`
	Values Values `json:"values"`
}

// Exclusive is /api/exclusive's answer.
type Exclusive struct {
	Shop    string         `json:"shop"`
	Day     string         `json:"day"`
	Metrics []MetricInfo   `json:"metrics"`
	Rows    []ExclusiveRow `json:"rows"`
}

// exclusive is each agent's follow-up of its exclusive customers on one
// day (SPEC §3.7): sent, read, visited, bought, guided orders and sales.
func (s *Server) exclusive(ctx context.Context, r *http.Request) (any, error) {
	shop, day, err := s.shopDay(r)
	if err != nil {
		return nil, err
	}
	res, err := report.Run(ctx, s.Conn, s.Database, report.Request{By: "agent", Metrics: ExclusiveMetrics,
		From: day, To: day, Shops: []string{shop}})
	if err != nil {
		return nil, err
	}
	out := &Exclusive{Shop: shop, Day: day, Metrics: infos(ExclusiveMetrics), Rows: []ExclusiveRow{}}
	for _, row := range res.Rows {
		out.Rows = append(out.Rows, ExclusiveRow{Agent: row.Keys[len(row.Keys)-1], Values: values(res.Metrics, row.Values)})
	}
	return out, nil
}
