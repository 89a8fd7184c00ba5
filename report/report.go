package report

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// dimCol is one column of a dimension: its output name and its SQL.
type dimCol struct{ name, expr string }

// Dimension is what a report groups by, and the tables that have it.
type Dimension struct {
	Name   string
	cols   []dimCol
	tables []string
	doc    string
}

var allTables = []string{ShopHourly, AgentHourly, InquiryDaily, RobotHourly, ExclusiveDaily}

// Dimensions lists every --by value. Agents, groups, tasks and robots are
// per shop (their ids need not be unique across shops), so those
// dimensions carry shop_id; the time dimensions sum the selected shops.
var Dimensions = []Dimension{
	{"day", []dimCol{{"day", "day"}}, allTables, "the shop-local day"},
	{"week", []dimCol{{"week", "toMonday(day)"}}, allTables, "the week, starting on Monday"},
	{"month", []dimCol{{"month", "toStartOfMonth(day)"}}, allTables, "the calendar month"},
	{"shop", []dimCol{{"shop", "shop_id"}}, allTables, "the shop"},
	// "09:00": text that sorts in hour order (keys are text).
	{"hour", []dimCol{{"hour", "concat(if(hour_of_day < 10, '0', ''), toString(hour_of_day), ':00')"}}, []string{ShopHourly, AgentHourly, RobotHourly}, "the shop-local hour of the day, 00:00–23:00"},
	{"agent", []dimCol{{"shop", "shop_id"}, {"agent", "agent_id"}}, []string{AgentHourly, InquiryDaily, ExclusiveDaily}, "the agent (of the shop)"},
	{"group", []dimCol{{"shop", "shop_id"}, {"group", "group_id"}}, []string{AgentHourly}, "the group of the assignment (客服组)"},
	{"task", []dimCol{{"shop", "shop_id"}, {"task", "task_id"}}, []string{RobotHourly}, "the robot outbound task"},
	{"robot", []dimCol{{"shop", "shop_id"}, {"robot", "robot_id"}, {"task", "task_id"}}, []string{RobotHourly}, "robot (话术) and task"},
	{"time+task", []dimCol{{"day", "day"}, {"shop", "shop_id"}, {"task", "task_id"}}, []string{RobotHourly}, "day and task (also week+task, month+task)"},
	{"week+task", []dimCol{{"week", "toMonday(day)"}, {"shop", "shop_id"}, {"task", "task_id"}}, []string{RobotHourly}, ""},
	{"month+task", []dimCol{{"month", "toStartOfMonth(day)"}, {"shop", "shop_id"}, {"task", "task_id"}}, []string{RobotHourly}, ""},
}

// DimensionNames lists the --by values.
func DimensionNames() []string {
	var out []string
	for _, d := range Dimensions {
		out = append(out, d.Name)
	}
	return out
}

func lookupDim(name string) (Dimension, bool) {
	if name == "day+task" {
		name = "time+task"
	}
	for _, d := range Dimensions {
		if d.Name == name {
			return d, true
		}
	}
	return Dimension{}, false
}

// Hours is a half-open range of local hours of the day, [From, To):
// 09:00-18:00 is hour_of_day 9..17. From > To wraps past midnight.
type Hours struct{ From, To int }

// ParseHours reads "09:00-18:00"; only whole hours, 00:00–24:00.
func ParseHours(s string) (*Hours, error) {
	if s == "" {
		return nil, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return nil, fmt.Errorf("%q: want HH:00-HH:00, e.g. 09:00-18:00", s)
	}
	from, err1 := parseHour(a)
	to, err2 := parseHour(b)
	if err1 != nil || err2 != nil || from == to || from == 24 {
		return nil, fmt.Errorf("%q: want HH:00-HH:00 with whole, different hours 00:00–24:00, e.g. 09:00-18:00 (the tables hold whole local hours)", s)
	}
	return &Hours{from, to}, nil
}

func parseHour(s string) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		m = "00"
	}
	if m != "00" {
		return 0, fmt.Errorf("not a whole hour")
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 || n > 24 {
		return 0, fmt.Errorf("not an hour")
	}
	return n, nil
}

func (h *Hours) sql() string {
	if h.To == 24 {
		return fmt.Sprintf("hour_of_day >= %d", h.From)
	}
	if h.From < h.To {
		return fmt.Sprintf("hour_of_day >= %d AND hour_of_day < %d", h.From, h.To)
	}
	return fmt.Sprintf("(hour_of_day >= %d OR hour_of_day < %d)", h.From, h.To)
}

// Request is one report: a dimension, metrics in order and filters.
type Request struct {
	By      string
	Metrics []string
	// Lenient drops a metric the dimension or a filter does not apply to
	// (a scheme's), reporting it in Result.Skipped; else it is an error.
	Lenient  bool
	From, To string // local days 2006-01-02, inclusive; empty: open
	Hours    *Hours
	Shops    []string
	Groups   []string
	Agents   []string
	Sort     string // a metric of Metrics: rows by it, largest first
	Top      int    // at most this many rows (0: all)
}

// Value is one cell: a dimension's text or a metric's number (Null when
// there was nothing to measure).
type Value struct {
	Text  string
	Num   float64
	Int   bool
	Null  bool
	IsNum bool
}

// Row is one line of a report.
type Row struct {
	Keys   []string
	Values []Value // one per Result.Metrics
}

// Result is a report's table.
type Result struct {
	KeyNames []string
	Metrics  []Metric
	Rows     []Row
	Skipped  []string // "metric: why" for metrics left out (Lenient)
	SQL      []string // the queries run, one per table
}

// ParseDay checks a --from/--to day.
func ParseDay(s string) error {
	if s == "" {
		return nil
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return fmt.Errorf("%q is not a day: want YYYY-MM-DD", s)
	}
	return nil
}

// Quote is a ClickHouse string literal.
func Quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func inList(col string, vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = Quote(v)
	}
	return fmt.Sprintf("%s IN (%s)", col, strings.Join(q, ", "))
}

// applies says why metric m cannot be shown for r, or "".
func (r *Request) applies(d Dimension, m Metric) string {
	has := func(ts []string) bool {
		for _, t := range ts {
			if t == m.Table {
				return true
			}
		}
		return false
	}
	switch {
	case !has(d.tables):
		return fmt.Sprintf("%s comes from %s, which has no %s dimension", m.Name, m.Table, d.Name)
	case len(r.Groups) > 0 && m.Table != AgentHourly:
		return fmt.Sprintf("%s comes from %s, which has no group: --group does not apply", m.Name, m.Table)
	case len(r.Agents) > 0 && m.Table != AgentHourly && m.Table != InquiryDaily && m.Table != ExclusiveDaily:
		return fmt.Sprintf("%s comes from %s, which has no agent: --agent does not apply", m.Name, m.Table)
	case r.Hours != nil && (m.Table == InquiryDaily || m.Table == ExclusiveDaily):
		return fmt.Sprintf("%s comes from %s, a daily table: --hours does not apply", m.Name, m.Table)
	}
	return ""
}

// Check reports a mistake in r (dimension, metric, days, sort) without
// running it.
func (r *Request) Check() error {
	_, _, _, _, err := r.plan("db")
	return err
}

// plan returns the SQL of r, one query per table, and the metrics
// shown, in order.
func (r *Request) plan(db string) (Dimension, []Metric, map[string]string, []string, error) {
	d, ok := lookupDim(r.By)
	if !ok {
		return d, nil, nil, nil, fmt.Errorf("--by %q: want one of %s", r.By, strings.Join(DimensionNames(), ", "))
	}
	if err := CheckNames(r.Metrics); err != nil {
		return d, nil, nil, nil, err
	}
	for _, s := range []string{r.From, r.To} {
		if err := ParseDay(s); err != nil {
			return d, nil, nil, nil, err
		}
	}
	if r.From != "" && r.To != "" && r.From > r.To {
		return d, nil, nil, nil, fmt.Errorf("--from %s is after --to %s", r.From, r.To)
	}
	var shown []Metric
	var skipped []string
	byTable := map[string][]Metric{}
	for _, n := range r.Metrics {
		m, _ := Lookup(n)
		if why := r.applies(d, m); why != "" {
			if !r.Lenient {
				return d, nil, nil, nil, fmt.Errorf("metric %s", why)
			}
			skipped = append(skipped, why)
			continue
		}
		shown = append(shown, m)
		byTable[m.Table] = append(byTable[m.Table], m)
	}
	if len(shown) == 0 {
		return d, nil, nil, skipped, fmt.Errorf("no metric of the list applies: %s", strings.Join(skipped, "; "))
	}
	if r.Sort != "" {
		found := false
		for _, m := range shown {
			found = found || m.Name == r.Sort
		}
		if !found {
			return d, nil, nil, skipped, fmt.Errorf("--sort %q: not one of the metrics shown", r.Sort)
		}
	}
	queries := map[string]string{}
	for table, ms := range byTable {
		queries[table] = r.query(db, d, table, ms)
	}
	return d, shown, queries, skipped, nil
}

// query is the SQL for the metrics ms of one table.
func (r *Request) query(db string, d Dimension, table string, ms []Metric) string {
	var sel, keys []string
	for i, c := range d.cols {
		sel = append(sel, fmt.Sprintf("%s AS k%d", c.expr, i))
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	for _, m := range ms {
		sel = append(sel, fmt.Sprintf("%s AS m_%s", m.SQL, m.Name))
	}
	var where []string
	switch {
	case r.From != "" && r.To != "":
		where = append(where, fmt.Sprintf("day BETWEEN '%s' AND '%s'", r.From, r.To))
	case r.From != "":
		where = append(where, fmt.Sprintf("day >= '%s'", r.From))
	case r.To != "":
		where = append(where, fmt.Sprintf("day <= '%s'", r.To))
	}
	if len(r.Shops) > 0 {
		where = append(where, inList("shop_id", r.Shops))
	}
	if len(r.Groups) > 0 {
		where = append(where, inList("group_id", r.Groups))
	}
	if len(r.Agents) > 0 {
		where = append(where, inList("agent_id", r.Agents))
	}
	if r.Hours != nil {
		where = append(where, r.Hours.sql())
	}
	if len(where) == 0 {
		where = append(where, "1")
	}
	q := fmt.Sprintf("SELECT\n    %s\nFROM %s.%s FINAL\nWHERE %s\nGROUP BY %s",
		strings.Join(sel, ",\n    "), db, table, strings.Join(where, "\n  AND "), strings.Join(keys, ", "))
	if table == AgentHourly {
		// Rows that hold only zeros (a figure moved to another row, see
		// docs/queries.md) would print lines of NULL rates.
		q += "\nHAVING sum(assignments) + sum(buyer_msgs) + sum(agent_msgs) + sum(ratings) + sum(paid_orders) > 0"
	}
	return q + "\nORDER BY " + strings.Join(keys, ", ")
}

// Run computes r on the database db: one query per table, merged on the
// dimension's values in Go; rows are ordered by the dimension, or by
// r.Sort.
func Run(ctx context.Context, conn driver.Conn, db string, r Request) (*Result, error) {
	d, shown, queries, skipped, err := r.plan(db)
	if err != nil {
		return nil, err
	}
	res := &Result{Metrics: shown, Skipped: skipped}
	for _, c := range d.cols {
		res.KeyNames = append(res.KeyNames, c.name)
	}
	col := map[string]int{}
	for i, m := range shown {
		col[m.Name] = i
	}
	rows := map[string]*Row{}
	tables := make([]string, 0, len(queries))
	for t := range queries {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		q := queries[t]
		res.SQL = append(res.SQL, q)
		if err := scanQuery(ctx, conn, q, func(vals []Value, names []string) {
			nk := len(d.cols)
			keys := make([]string, nk)
			for i := range keys {
				keys[i] = vals[i].Text
			}
			id := strings.Join(keys, "\x00")
			row := rows[id]
			if row == nil {
				row = &Row{Keys: keys, Values: make([]Value, len(shown))}
				for i := range row.Values {
					row.Values[i] = Value{Null: true, IsNum: true}
				}
				rows[id] = row
			}
			for i := nk; i < len(vals); i++ {
				row.Values[col[strings.TrimPrefix(names[i], "m_")]] = vals[i]
			}
		}); err != nil {
			return nil, fmt.Errorf("%w\n%s", err, q)
		}
	}
	for _, row := range rows {
		res.Rows = append(res.Rows, *row)
	}
	sort.Slice(res.Rows, func(i, j int) bool {
		a, b := res.Rows[i], res.Rows[j]
		if r.Sort != "" {
			x, y := a.Values[col[r.Sort]], b.Values[col[r.Sort]]
			if x.Null != y.Null {
				return !x.Null
			}
			if x.Num != y.Num {
				return x.Num > y.Num
			}
		}
		for k := range a.Keys {
			if a.Keys[k] != b.Keys[k] {
				return a.Keys[k] < b.Keys[k]
			}
		}
		return false
	})
	if r.Top > 0 && len(res.Rows) > r.Top {
		res.Rows = res.Rows[:r.Top]
	}
	return res, nil
}

// ScanQuery runs q and hands each row to each as Values (what report rows
// hold), with the column names: for tests that compare a figure with a
// documented query.
func ScanQuery(ctx context.Context, conn driver.Conn, q string, each func([]Value, []string)) error {
	return scanQuery(ctx, conn, q, each)
}

// scanQuery runs q and hands each row to each as Values, with the column
// names.
func scanQuery(ctx context.Context, conn driver.Conn, q string, each func([]Value, []string)) error {
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	names := rows.Columns()
	dest := make([]any, len(types))
	for i, ct := range types {
		dest[i] = reflect.New(ct.ScanType()).Interface()
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		vals := make([]Value, len(dest))
		for i, p := range dest {
			vals[i] = toValue(reflect.ValueOf(p).Elem())
		}
		each(vals, names)
	}
	return rows.Err()
}

func toValue(v reflect.Value) Value {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return Value{Null: true, IsNum: true}
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		return Value{Text: x.Format("2006-01-02")}
	case string:
		return Value{Text: x}
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return Value{Null: true, IsNum: true}
		}
		return Value{Num: f, IsNum: true}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Value{Num: float64(v.Int()), Int: true, IsNum: true}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Value{Num: float64(v.Uint()), Int: true, IsNum: true}
	}
	return Value{Text: fmt.Sprint(v.Interface())}
}

// String is the value as SQL prints it: shortest number, NULL.
// csvCell is v in a CSV record: NULL is an empty cell.
func (v Value) csvCell() string {
	if v.Null {
		return ""
	}
	return v.String()
}

func (v Value) String() string {
	switch {
	case !v.IsNum:
		return v.Text
	case v.Null:
		return "NULL"
	}
	return strconv.FormatFloat(v.Num, 'f', -1, 64)
}
