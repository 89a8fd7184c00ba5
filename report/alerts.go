package report

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Alerts is the history of the alerts topic (SPEC §4.2): one row per
// transition of a (rule, scope) between ok and breach.
const Alerts = "cs_alerts"

// Alert is one row of cs_alerts as the page shows it.
type Alert struct {
	AlertID     string
	EvaluatedAt time.Time // UTC; the end of the evaluated local hour
	Rule        string
	Scope       string // shop | group | agent
	ScopeID     string
	GroupID     string
	Metric      string
	Window      string
	Value       float64
	Numerator   int64
	Denominator int64
	Threshold   float64
	Direction   string // the healthy side: >=, >, <=, <
	State       string // breach | recovered
}

// RecentAlertsSQL is docs/queries.md's alerts_recent: the shop's latest
// limit alerts, newest first (alert_id breaks ties of one evaluation).
// FINAL shows an alert written twice (a checkpoint retried) once.
func RecentAlertsSQL(db, shop string, limit int) string {
	return fmt.Sprintf(`SELECT
    alert_id,
    evaluated_at,
    rule,
    scope,
    scope_id,
    group_id,
    metric,
    alert_window,
    value,
    numerator,
    denominator,
    threshold,
    direction,
    state
FROM %s FINAL
WHERE shop_id = %s
ORDER BY evaluated_at DESC, alert_id DESC
LIMIT %d`, qualified(db, Alerts), Quote(shop), limit)
}

// RecentAlerts reads the shop's latest limit alerts, newest first.
func RecentAlerts(ctx context.Context, conn driver.Conn, db, shop string, limit int) ([]Alert, error) {
	rows, err := conn.Query(ctx, RecentAlertsSQL(db, shop, limit))
	if err != nil {
		return nil, fmt.Errorf("recent alerts of %s: %w", shop, err)
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		if err := rows.Scan(&a.AlertID, &a.EvaluatedAt, &a.Rule, &a.Scope, &a.ScopeID, &a.GroupID, &a.Metric, &a.Window,
			&a.Value, &a.Numerator, &a.Denominator, &a.Threshold, &a.Direction, &a.State); err != nil {
			return nil, fmt.Errorf("recent alerts of %s: %w", shop, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent alerts of %s: %w", shop, err)
	}
	return out, nil
}
