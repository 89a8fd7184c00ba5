package metrics

import (
	"fmt"
	"math"
	"regexp"
)

// AlertRule is one threshold rule of SPEC §4.2, evaluated per scope when a
// shop's watermark passes the end of each local hour.
type AlertRule struct {
	// Name identifies the rule in alerts and in the alert state: renaming
	// a rule starts its scopes over in state ok.
	Name string
	// Metric is one of AlertMetrics' names.
	Metric string
	// Scope is what the figures are summed over: "shop", "group" (the
	// agents' figures in one group) or "agent" (all of an agent's groups).
	Scope string
	// Window: WindowDays > 0 is the N×24 hours before the evaluated hour's
	// end (rolling); Week (with WindowDays 0) is the shop's local calendar
	// week to date, from Monday 00:00.
	WindowDays int
	Week       bool
	// The scope is ok while value Direction Threshold holds (">=", ">",
	// "<=", "<"); value is in the metric's unit (a fraction, or seconds).
	Threshold float64
	Direction string
	// MinSample: below this many in the metric's denominator the state
	// does not change. At least 1.
	MinSample int64
	// Shops override Threshold or MinSample, or switch the rule off, per
	// shop id.
	Shops map[string]AlertOverride
}

// AlertOverride changes a rule for one shop; nil fields keep the rule's.
type AlertOverride struct {
	Off       bool
	Threshold *float64
	MinSample *int64
}

// AlertMetric is a metric an alert rule can watch: numerator ÷
// denominator of two cs_agent_hourly sums, times Scale for the unit.
type AlertMetric struct {
	Name           string
	Num, Den       int // figure columns (figures.go)
	Scale          float64
	NumCol, DenCol string // their cs_agent_hourly columns, for docs and errors
}

// AlertMetrics are the metrics rules can name; the names are those of
// `cspulse report` for the same figure.
var AlertMetrics = []AlertMetric{
	{"reply_3min_rate", figReplied3min, figBuyerMsgsWindow, 1, "replied_3min_window", "buyer_msgs_window"},
	{"avg_response_s", figResponseMs, figRepliedMsgs, 0.001, "response_ms_sum", "replied_msgs"},
	{"agent_pickup_rate", figPicked, figAssignments, 1, "picked_assignments", "assignments"},
	{"avg_wait_s", figWaitSum, figWaitCount, 0.001, "wait_ms_sum", "wait_count"},
	{"satisfaction_rate", figSatisfiedWindow, figRatingsWindow, 1, "satisfied_window", "ratings_window"},
	{"reply_3min_rate_session", figPairsOK, figPairsWindow, 1, "session_pairs_3min_ok", "session_pairs_window"},
	{"avg_first_response_s", figFirstRespSum, figFirstRespCount, 0.001, "first_response_ms_sum", "first_response_count"},
}

func alertMetric(name string) (AlertMetric, bool) {
	for _, m := range AlertMetrics {
		if m.Name == name {
			return m, true
		}
	}
	return AlertMetric{}, false
}

// Alert scopes.
const (
	ScopeShop  = "shop"
	ScopeGroup = "group"
	ScopeAgent = "agent"
)

var ruleName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Validate reports the first thing wrong with r, naming the field.
func (r *AlertRule) Validate() error {
	if !ruleName.MatchString(r.Name) {
		return fmt.Errorf("name %q: 1 to 64 letters, digits, '.', '_' or '-'", r.Name)
	}
	if _, ok := alertMetric(r.Metric); !ok {
		var names []string
		for _, m := range AlertMetrics {
			names = append(names, m.Name)
		}
		return fmt.Errorf("metric %q: not one of %v", r.Metric, names)
	}
	switch r.Scope {
	case ScopeShop, ScopeGroup, ScopeAgent:
	default:
		return fmt.Errorf("scope %q: not shop, group or agent", r.Scope)
	}
	switch {
	case r.Week && r.WindowDays != 0:
		return fmt.Errorf("window: week and rolling days %d both set", r.WindowDays)
	case !r.Week && (r.WindowDays < 1 || r.WindowDays > maxWindowDays):
		return fmt.Errorf("window days %d: not in 1..%d", r.WindowDays, maxWindowDays)
	}
	if _, ok := compare(r.Direction); !ok {
		return fmt.Errorf("direction %q: not >=, >, <= or <", r.Direction)
	}
	if math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) {
		return fmt.Errorf("threshold %v: not a number", r.Threshold)
	}
	if r.MinSample < 1 {
		return fmt.Errorf("min_sample %d: must be at least 1", r.MinSample)
	}
	for shop, o := range r.Shops {
		if o.MinSample != nil && *o.MinSample < 1 {
			return fmt.Errorf("shops.%s.min_sample %d: must be at least 1", shop, *o.MinSample)
		}
		if o.Threshold != nil && (math.IsNaN(*o.Threshold) || math.IsInf(*o.Threshold, 0)) {
			return fmt.Errorf("shops.%s.threshold %v: not a number", shop, *o.Threshold)
		}
	}
	return nil
}

// maxWindowDays bounds a rolling window: the engine keeps the hourly
// figures of the longest window.
const maxWindowDays = 31

// WindowName is the rule's window as alerts show it: rolling_<N>d or week.
func (r *AlertRule) WindowName() string {
	if r.Week {
		return "week"
	}
	return fmt.Sprintf("rolling_%dd", r.WindowDays)
}

// compare returns the healthy-side test of a direction.
func compare(direction string) (func(v, threshold float64) bool, bool) {
	switch direction {
	case ">=":
		return func(v, t float64) bool { return v >= t }, true
	case ">":
		return func(v, t float64) bool { return v > t }, true
	case "<=":
		return func(v, t float64) bool { return v <= t }, true
	case "<":
		return func(v, t float64) bool { return v < t }, true
	}
	return nil, false
}

// DefaultAlertRules are the platform's published thresholds (SPEC §4.2)
// per shop over the last 7 days, with a minimum sample of 20.
func DefaultAlertRules() []AlertRule {
	rule := func(name, metric, dir string, threshold float64) AlertRule {
		return AlertRule{Name: name, Metric: metric, Scope: ScopeShop, WindowDays: 7,
			Threshold: threshold, Direction: dir, MinSample: 20}
	}
	return []AlertRule{
		rule("shop_reply_3min_rate", "reply_3min_rate", ">=", 0.9),
		rule("shop_avg_response", "avg_response_s", "<=", 120),
		rule("shop_pickup_rate", "agent_pickup_rate", ">=", 0.8),
		rule("shop_avg_wait", "avg_wait_s", "<", 600),
		rule("shop_satisfaction_rate", "satisfaction_rate", ">=", 0.8),
	}
}
