package metrics

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
	"github.com/cspulse/cspulse/tables"
)

// A scenario is a directory under testdata/scenarios:
//
//	events.jsonl   one JSON object per line, fed in file order:
//	               - an event in SPEC §1's format plus "topic"
//	                 ("cs.sessions", …). Instead of "ts" it may give "at",
//	                 an RFC 3339 time with offset ("2026-03-02T10:00:00.000+08:00"),
//	                 and it may say "expect": "late" when Apply must
//	                 refuse it with ReasonLate;
//	               - {"advance": "<RFC 3339>"} moves the watermark there;
//	               - blank lines and lines starting with // are comments.
//	settings.json  optional: zones, filters, durations and attribution
//	               settings (scenarioSettings).
//	expected.json  the expected final rows (expectedRows), written by hand
//	               from the SPEC.
//	expected.<rule>.json
//	               optional: the expected rows with attribution_rule <rule>
//	               (order, pay, order_first): the same events under
//	               another rule.
//
// The runner applies each event, advances the watermark to the largest ts
// so far minus max_out_of_order (unless settings say otherwise), flushes
// after every event with a growing version, and at the end advances to +∞
// and flushes. The final rows are the last version of each key.

type scenarioSettings struct {
	DefaultZone     string            `json:"default_zone"`
	Zones           map[string]string `json:"zones"`
	Filters         Filters           `json:"filters"`
	MaxOutOfOrder   string            `json:"max_out_of_order"`
	AllowedLateness string            `json:"allowed_lateness"`
	SessionTimeout  string            `json:"session_timeout"`
	RatingWindow    string            `json:"rating_window"`
	// NoAutoWatermark leaves the watermark to "advance" lines.
	NoAutoWatermark bool `json:"no_auto_watermark"`

	// Columns, when set, focuses the scenario: only these tables are
	// checked, only these columns of them (besides the key), and a row
	// whose listed columns are all 0 counts as absent.
	Columns map[string][]string `json:"columns"`

	AttributionRule      AttributionRule            `json:"attribution_rule"`
	ShopAttributionRules map[string]AttributionRule `json:"shop_attribution_rules"`
	InquiryValidDays     int                        `json:"inquiry_valid_days"`
	OrderPayWindow       string                     `json:"order_pay_window"`
}

// expectedRows maps table name → row key → column → value. Keys:
// cs_agent_hourly "shop|group|agent|hour", cs_shop_hourly "shop|hour",
// cs_sessions "shop|session", cs_inquiry_daily "shop|agent|day",
// cs_robot_hourly "shop|task|robot|hour|intent", where hour is the local
// hour start as "2006-01-02T15:04Z07:00" in the shop's zone and day the
// local date "2006-01-02".
type expectedRows map[string]map[string]map[string]any

// step is one line of events.jsonl.
type step struct {
	line    int
	event   schemas.Event // cloned: owns its bytes
	advance int64         // watermark directive when event.Topic is invalid
	late    bool          // Apply must return ReasonLate
	mayLate bool          // Apply may return ReasonLate, depending on the order
}

type scenario struct {
	name     string
	settings scenarioSettings
	steps    []step
	expected expectedRows
	lag      int64 // max_out_of_order in ms
	zones    *eventtime.ZoneSet
	alerts   []AlertRule // the engine's alert rules; random streams have stressAlertRules
	rankings bool        // random streams rank
}

var topicByName = map[string]schemas.Topic{
	"cs.sessions": schemas.TopicSessions, "cs.transfers": schemas.TopicTransfers,
	"cs.messages": schemas.TopicMessages, "cs.evaluations": schemas.TopicEvaluations,
	"cs.orders": schemas.TopicOrders, "cs.outreach": schemas.TopicOutreach,
}

func loadScenario(t testing.TB, dir string) *scenario {
	t.Helper()
	sc := &scenario{name: filepath.Base(dir)}
	if b, err := os.ReadFile(filepath.Join(dir, "settings.json")); err == nil {
		mustUnmarshal(t, b, &sc.settings)
	}
	if sc.settings.DefaultZone == "" {
		sc.settings.DefaultZone = "Asia/Shanghai"
	}
	zones, err := eventtime.NewZoneSet(sc.settings.DefaultZone, sc.settings.Zones)
	if err != nil {
		t.Fatal(err)
	}
	sc.zones = zones
	sc.lag = durationOr(t, sc.settings.MaxOutOfOrder, 10*time.Second).Milliseconds()
	sc.steps = readSteps(t, filepath.Join(dir, "events.jsonl"))
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	mustUnmarshal(t, b, &sc.expected)
	return sc
}

// scenarioVariants loads dir's scenario, and one more per
// expected.<rule>.json: the same events under that attribution rule.
func scenarioVariants(t testing.TB, dir string) []*scenario {
	t.Helper()
	base := loadScenario(t, dir)
	variants := []*scenario{base}
	files, err := filepath.Glob(filepath.Join(dir, "expected.*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		rule := AttributionRule(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "expected."), ".json"))
		if rule == "" || !rule.valid() {
			t.Fatalf("%s: %q is not an attribution rule", f, rule)
		}
		v := *base
		v.name = base.name + "@" + string(rule)
		v.settings.AttributionRule = rule
		v.expected = nil
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mustUnmarshal(t, b, &v.expected)
		variants = append(variants, &v)
	}
	return variants
}

func mustUnmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatal(err)
	}
}

func durationOr(t testing.TB, s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (sc *scenario) engineSettings(t testing.TB) Settings {
	s := DefaultSettings(sc.zones)
	s.AllowedLateness = durationOr(t, sc.settings.AllowedLateness, s.AllowedLateness)
	s.SessionTimeout = durationOr(t, sc.settings.SessionTimeout, s.SessionTimeout)
	s.RatingWindow = durationOr(t, sc.settings.RatingWindow, s.RatingWindow)
	s.Filters = sc.settings.Filters
	s.Attribution = Attribution{
		Rule:      cmp.Or(sc.settings.AttributionRule, s.Attribution.Rule),
		ShopRules: sc.settings.ShopAttributionRules,
		ValidDays: cmp.Or(sc.settings.InquiryValidDays, s.Attribution.ValidDays),
		PayWindow: durationOr(t, sc.settings.OrderPayWindow, s.Attribution.PayWindow),
	}
	s.Alerts = sc.alerts
	s.Rankings = sc.rankings
	return s
}

// stressAlertRules watch every metric in every scope and both kinds of
// window with a minimum sample of 1 and thresholds near the middle, so
// that random streams cross them often.
func stressAlertRules() []AlertRule {
	var rules []AlertRule
	for _, m := range AlertMetrics {
		threshold := 0.5
		if m.Scale != 1 {
			threshold = 60
		}
		for _, scope := range []string{ScopeShop, ScopeGroup, ScopeAgent} {
			rules = append(rules,
				AlertRule{Name: m.Name + "_" + scope + "_1d", Metric: m.Name, Scope: scope, WindowDays: 1,
					Threshold: threshold, Direction: ">=", MinSample: 1},
				AlertRule{Name: m.Name + "_" + scope + "_week", Metric: m.Name, Scope: scope, Week: true,
					Threshold: threshold, Direction: "<", MinSample: 2})
		}
	}
	return rules
}

func readSteps(t testing.TB, path string) []step {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := schemas.NewDecoder(schemas.WithKeyCheck(false))
	var steps []step
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || bytes.HasPrefix(line, []byte("//")) {
			continue
		}
		st, err := parseStep(dec, line)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		st.line = n
		steps = append(steps, st)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return steps
}

func parseStep(dec *schemas.Decoder, line []byte) (step, error) {
	var fields map[string]any
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	if err := d.Decode(&fields); err != nil {
		return step{}, err
	}
	if adv, ok := fields["advance"].(string); ok {
		ts, err := parseInstant(adv)
		return step{advance: ts}, err
	}
	topic, ok := topicByName[fmt.Sprint(fields["topic"])]
	if !ok {
		return step{}, fmt.Errorf("unknown topic %v", fields["topic"])
	}
	st := step{late: fields["expect"] == "late"}
	if at, ok := fields["at"].(string); ok {
		ts, err := parseInstant(at)
		if err != nil {
			return step{}, err
		}
		fields["ts"] = ts
	}
	value, err := json.Marshal(fields)
	if err != nil {
		return step{}, err
	}
	var ev schemas.Event
	if err := dec.Decode(topic, nil, value, &ev); err != nil {
		return step{}, err
	}
	st.event = ev.Clone()
	return st, nil
}

// parseInstant reads "2026-03-02T10:00:00.000+08:00" (seconds and
// fraction optional) as Unix ms.
func parseInstant(s string) (int64, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999Z07:00", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("bad instant %q", s)
}

// rowSet keeps the last version of every row by key.
type rowSet struct {
	rowAdapter
	zones *eventtime.ZoneSet
	rows  map[string]map[string]versionedRow // table → key → row
}

// Rows implements RowSink: each row the engine ends goes to Add.
func (r *rowSet) Rows(t tables.Table) *tables.Rows { return r.rowsFor(t, r.Add) }

// oneRow is rows of t for one row, handed to add when it ends: for sinks
// that keep no state of their own.
func oneRow(t tables.Table, add func(tables.Table, []any)) *tables.Rows {
	r := tables.NewRows(t)
	r.OnRow = func(i int) { add(t, r.Row(i)) }
	return r
}

// rowAdapter turns the engine's typed rows back into one call per row
// with its values, as the tests read them; a row is dropped once handed
// over.
type rowAdapter struct{ byName map[string]*tables.Rows }

func (a *rowAdapter) rowsFor(t tables.Table, add func(tables.Table, []any)) *tables.Rows {
	r := a.byName[t.Name]
	if r == nil {
		if a.byName == nil {
			a.byName = map[string]*tables.Rows{}
		}
		r = tables.NewRows(t)
		r.OnRow = func(i int) {
			add(t, r.Row(i))
			r.Reset()
		}
		a.byName[t.Name] = r
	}
	return r
}

type versionedRow struct {
	version uint64
	cols    map[string]any
}

func newRowSet(zones *eventtime.ZoneSet) *rowSet {
	return &rowSet{zones: zones, rows: map[string]map[string]versionedRow{}}
}

func (r *rowSet) Add(t sinks.Table, row []any) {
	if len(row) != len(t.Columns) {
		panic(fmt.Sprintf("%s: %d values for %d columns", t.Name, len(row), len(t.Columns)))
	}
	cols := make(map[string]any, len(row))
	for i, c := range t.Columns {
		cols[c] = row[i]
	}
	key := r.key(t.Name, cols)
	byKey := r.rows[t.Name]
	if byKey == nil {
		byKey = map[string]versionedRow{}
		r.rows[t.Name] = byKey
	}
	v := cols["version"].(uint64)
	if old, ok := byKey[key]; ok && old.version > v {
		panic(fmt.Sprintf("%s %s: version %d after %d", t.Name, key, v, old.version))
	}
	byKey[key] = versionedRow{version: v, cols: cols}
}

func (r *rowSet) key(table string, c map[string]any) string {
	shop := c["shop_id"].(string)
	switch table {
	case AgentHourlyTable.Name:
		return strings.Join([]string{shop, c["group_id"].(string), c["agent_id"].(string), r.hour(shop, c["hour"])}, "|")
	case ShopHourlyTable.Name:
		return shop + "|" + r.hour(shop, c["hour"])
	case InquiryDailyTable.Name, ExclusiveTable.Name:
		return strings.Join([]string{shop, c["agent_id"].(string), c["day"].(time.Time).Format(time.DateOnly)}, "|")
	case RobotHourlyTable.Name:
		return strings.Join([]string{shop, c["task_id"].(string), c["robot_id"].(string), r.hour(shop, c["hour"]), c["intent"].(string)}, "|")
	case AlertsTable.Name:
		return shop + "|" + c["alert_id"].(string)
	case RankingsTable.Name:
		return strings.Join([]string{shop, c["day"].(time.Time).Format(time.DateOnly), c["scope"].(string), c["group_id"].(string), c["agent_id"].(string)}, "|")
	}
	return shop + "|" + c["session_id"].(string)
}

func (r *rowSet) hour(shop string, v any) string {
	loc := r.zones.LookupString(shop).Location()
	return v.(time.Time).In(loc).Format("2006-01-02T15:04Z07:00")
}

// final returns the rows without their version, skipping hourly rows that
// are all zero (a cell whose contributions were all taken back) and
// ranking rows with ranked = 0 (a reception taken back), which readers
// filter out.
func (r *rowSet) final() map[string]map[string]map[string]any {
	out := map[string]map[string]map[string]any{}
	for table, byKey := range r.rows {
		out[table] = map[string]map[string]any{}
		for key, row := range byKey {
			if table != SessionsTable.Name && allZero(row.cols) {
				continue
			}
			if table == RankingsTable.Name && row.cols["ranked"] == uint8(0) {
				continue
			}
			cols := make(map[string]any, len(row.cols))
			for c, v := range row.cols {
				if c != "version" {
					cols[c] = v
				}
			}
			out[table][key] = cols
		}
	}
	return out
}

var keyColumns = map[string]bool{
	"shop_id": true, "group_id": true, "agent_id": true, "hour": true, "day": true, "hour_of_day": true, "version": true,
	"task_id": true, "robot_id": true, "intent": true,
}

func allZero(cols map[string]any) bool {
	for c, v := range cols {
		if !keyColumns[c] && fmt.Sprint(v) != "0" {
			return false
		}
	}
	return true
}

// run feeds the scenario's steps to a fresh engine in the given order.
// With autoWatermark the watermark follows the largest ts minus the lag;
// "advance" steps move it too. It returns the final rows.
func (sc *scenario) run(t testing.TB, steps []step, autoWatermark bool) (*rowSet, *Engine) {
	t.Helper()
	return sc.runWith(t, steps, autoWatermark, nil)
}

// runWith is run with a session listener.
func (sc *scenario) runWith(t testing.TB, steps []step, autoWatermark bool, l SessionListener) (*rowSet, *Engine) {
	t.Helper()
	settings := sc.engineSettings(t)
	settings.Sessions = l
	e := NewEngine(settings)
	rows := newRowSet(sc.zones)
	maxTS := int64(math.MinInt64)
	for i := range steps {
		st := &steps[i]
		version := uint64(i + 1)
		if st.event.Topic == schemas.TopicInvalid {
			e.Advance(st.advance)
			e.flush(version, rows)
			continue
		}
		reason, ok := e.Apply(&st.event)
		if (st.late != !ok && !st.mayLate) || !ok && reason != schemas.ReasonLate {
			t.Fatalf("%s line %d (%s %s): Apply = %q, %v; want late=%v", sc.name, st.line,
				st.event.Topic, st.event.EventID, reason, ok, st.late)
		}
		maxTS = max(maxTS, st.event.TS)
		if autoWatermark {
			e.Advance(maxTS - sc.lag)
		}
		e.flush(version, rows)
	}
	e.Advance(math.MaxInt64)
	e.flush(uint64(len(steps)+1), rows)
	return rows, e
}

// scenarioDirs lists the scenario directories in name order.
func scenarioDirs(t testing.TB) []string {
	entries, err := os.ReadDir(filepath.Join("testdata", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, d := range entries {
		if d.IsDir() {
			dirs = append(dirs, filepath.Join("testdata", "scenarios", d.Name()))
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no scenarios")
	}
	sort.Strings(dirs)
	return dirs
}
