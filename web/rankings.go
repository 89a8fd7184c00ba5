package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cspulse/cspulse/report"
)

// RankCell is one agent's figure of a ranked metric: value, rank (1 =
// best) and rank change (positive = moved up); null when absent.
type RankCell struct {
	Value  *float64 `json:"value"`
	Rank   *float64 `json:"rank"`
	Change *float64 `json:"change"`
}

// RankRow is one ranked agent.
type RankRow struct {
	Agent  string              `json:"agent"`
	Values map[string]RankCell `json:"values"`
}

// Rankings is /api/rankings's answer: one ranking of cs_agent_rankings,
// rows in the table's order (by received buyers' rank, then agent id; the
// page re-sorts them by the metric clicked).
type Rankings struct {
	Shop  string `json:"shop"`
	Scope string `json:"scope"` // shop or group
	Group string `json:"group"` // "" for scope shop
	// Latest is the shop's latest day in the table: its day so far ("" when
	// it has none). Today is the day the ranking is of unless Previous:
	// ?day=, else Latest.
	Latest   string            `json:"latest"`
	Today    string            `json:"today"`
	Previous bool              `json:"previous"`
	Day      string            `json:"day"`    // the day shown
	Groups   []string          `json:"groups"` // the shop's ranked groups on Day
	Metrics  []MetricInfo      `json:"metrics"`
	Terms    map[string]string `json:"terms"` // definitions of rank, rank_change, mean
	Rows     []RankRow         `json:"rows"`
	Means    Values            `json:"means"`
}

func rankingInfos() []MetricInfo {
	out := make([]MetricInfo, 0, len(report.RankingMetrics))
	for _, m := range report.RankingMetrics {
		out = append(out, MetricInfo{m.Name, m.Title, m.Definition, kinds[m.Kind]})
	}
	return out
}

func num(v report.Value) *float64 {
	if v.Null || !v.IsNum {
		return nil
	}
	x := v.Num
	return &x
}

func (s *Server) rankings(ctx context.Context, r *http.Request) (any, error) {
	shop, err := shopParam(r)
	if err != nil {
		return nil, err
	}
	today, err := dayParam(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	out := &Rankings{Shop: shop, Group: q.Get("group"), Previous: q.Get("prev") == "1", Groups: []string{},
		Metrics: rankingInfos(), Rows: []RankRow{}, Means: Values{},
		Terms: map[string]string{"rank": report.RankDefinition, "rank_change": report.RankChangeDefinition, "mean": report.MeanDefinition}}
	out.Scope = report.RankingRequest{Group: out.Group}.Scope()
	if out.Latest, err = report.LatestRankingDay(ctx, s.Conn, s.Database, shop); err != nil {
		return nil, err
	}
	if today == "" {
		today = out.Latest
	}
	out.Today = today
	if today == "" {
		return out, nil // no ranking of the shop yet
	}
	out.Day = today
	if out.Previous {
		if out.Day, err = report.PreviousDay(today); err != nil {
			return nil, err
		}
	}
	if out.Groups, err = report.RankingGroups(ctx, s.Conn, s.Database, shop, out.Day); err != nil {
		return nil, err
	}
	rk, err := report.ReadRanking(ctx, s.Conn, s.Database, report.RankingRequest{Shop: shop, Group: out.Group, Day: out.Day})
	if err != nil {
		return nil, err
	}
	for i, m := range report.RankingMetrics {
		out.Means[m.Name] = num(rk.Means[i])
	}
	for _, row := range rk.Rows {
		rr := RankRow{Agent: row.Agent, Values: map[string]RankCell{}}
		for i, m := range report.RankingMetrics {
			c := row.Cells[i]
			rr.Values[m.Name] = RankCell{num(c.Value), num(c.Rank), num(c.Change)}
		}
		out.Rows = append(out.Rows, rr)
	}
	return out, nil
}

// AlertRow is one alert of cs_alerts.
type AlertRow struct {
	ID          string  `json:"alert_id"`
	EvaluatedAt string  `json:"evaluated_at"` // RFC 3339, UTC
	Local       string  `json:"local"`        // "2026-11-03 14:00" in the shop's zone
	Rule        string  `json:"rule"`
	Scope       string  `json:"scope"`
	ScopeID     string  `json:"scope_id"`
	GroupID     string  `json:"group_id"`
	Metric      string  `json:"metric"`
	Title       string  `json:"title"`      // the report metric's title, else the name
	Definition  string  `json:"definition"` // the report metric's, where it is one
	Kind        string  `json:"kind"`
	Window      string  `json:"window"`
	Value       float64 `json:"value"`
	Numerator   int64   `json:"numerator"`
	Denominator int64   `json:"denominator"`
	Threshold   float64 `json:"threshold"`
	Direction   string  `json:"direction"` // the healthy side
	State       string  `json:"state"`     // breach | recovered
}

// AlertList is /api/alerts's answer: the shop's latest alerts, newest
// first.
type AlertList struct {
	Shop   string     `json:"shop"`
	Zone   string     `json:"zone"`
	Limit  int        `json:"limit"`
	Alerts []AlertRow `json:"alerts"`
}

// MaxAlerts bounds ?limit= of /api/alerts.
const MaxAlerts = 500

func (s *Server) alerts(ctx context.Context, r *http.Request) (any, error) {
	shop, err := shopParam(r)
	if err != nil {
		return nil, err
	}
	limit := 50
	if l := r.URL.Query().Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > MaxAlerts {
			return nil, badRequest{fmt.Errorf("limit %q: want 1 to %d", l, MaxAlerts)}
		}
	}
	zone := s.Zone(shop)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, zone = time.UTC, "UTC" // config validation rejects unknown zones
	}
	list, err := report.RecentAlerts(ctx, s.Conn, s.Database, shop, limit)
	if err != nil {
		return nil, err
	}
	out := &AlertList{Shop: shop, Zone: zone, Limit: limit, Alerts: []AlertRow{}}
	for _, a := range list {
		row := AlertRow{ID: a.AlertID, EvaluatedAt: a.EvaluatedAt.UTC().Format(time.RFC3339),
			Local: a.EvaluatedAt.In(loc).Format("2006-01-02 15:04"), Rule: a.Rule, Scope: a.Scope, ScopeID: a.ScopeID,
			GroupID: a.GroupID, Metric: a.Metric, Title: a.Metric, Window: a.Window, Value: a.Value,
			Numerator: a.Numerator, Denominator: a.Denominator, Threshold: a.Threshold, Direction: a.Direction, State: a.State}
		if m, ok := report.Lookup(a.Metric); ok {
			row.Title, row.Definition, row.Kind = m.Title, m.Definition, kinds[m.Kind]
		}
		out.Alerts = append(out.Alerts, row)
	}
	return out, nil
}
