package metrics

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/sinks"
)

// TestScenarios runs every scenario in file order and compares the final
// rows with expected.json, written by hand from the SPEC.
func TestScenarios(t *testing.T) {
	for _, dir := range scenarioDirs(t) {
		for _, sc := range scenarioVariants(t, dir) {
			t.Run(sc.name, func(t *testing.T) {
				rows, e := sc.run(t, sc.steps, !sc.settings.NoAutoWatermark)
				for _, diff := range sc.diff(rows.final()) {
					t.Error(diff)
				}
				assertClean(t, e)
			})
		}
	}
}

// assertClean checks what must hold after every run: the invariant
// counters are zero and, at watermark +∞, nothing is held.
func assertClean(t *testing.T, e *Engine) {
	t.Helper()
	st := e.Stats()
	if st.FinalCellWrites != 0 || st.NegativeValues != 0 {
		t.Errorf("invariant breach: %+v", st)
	}
	if n := st.OpenSessions + st.ClosedSessions + st.Summaries + st.PendingRatings + st.AgentCells + st.ShopCells; n != 0 {
		t.Errorf("state left at watermark +∞: %+v", st)
	}
	if len(e.pins) != 0 {
		t.Errorf("pins left: %v", e.pins)
	}
	at := e.AttributionStats()
	if at.FinalCellWrites != 0 {
		t.Errorf("attribution invariant breach: %+v", at)
	}
	if n := at.Buyers + at.Orders + at.InquiryCells + at.RobotCells; n != 0 {
		t.Errorf("attribution state left at watermark +∞: %+v", at)
	}
}

// diff lists every difference between the scenario's expected rows and
// got: missing rows, unexpected rows, and columns that differ. Columns that
// expected.json leaves out must have their default value: 0, "", [], NULL
// (null) for first_response_ms and rating, and for day, hour_of_day, started_at, ended_at and
// duration_ms the value that follows from the row's other columns.
func (sc *scenario) diff(got map[string]map[string]map[string]any) []string {
	got = normalizeRows(got)
	var diffs []string
	for _, table := range Tables {
		want, listed := sc.expected[table.Name]
		if !listed && optionalTables[table.Name] {
			continue
		}
		columns, have := sc.focus(table, got[table.Name])
		if columns == nil {
			continue
		}
		for _, key := range sortedKeys(want) {
			row, ok := have[key]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s %s: missing row; have keys %v", table.Name, key, sortedKeys(have)))
				continue
			}
			for _, col := range columns {
				if col == "version" {
					continue
				}
				w := sc.wantColumn(table.Name, col, want[key], row)
				if h := row[col]; !reflect.DeepEqual(w, h) {
					diffs = append(diffs, fmt.Sprintf("%s %s: %s = %v, want %v", table.Name, key, col, h, w))
				}
			}
			for col := range want[key] {
				if _, known := row[col]; known && !slices.Contains(columns, col) {
					diffs = append(diffs, fmt.Sprintf("%s %s: expected.json names column %s, which settings.json's columns leave out", table.Name, key, col))
				}
				if _, known := row[col]; !known && col != "started" && col != "ended" {
					diffs = append(diffs, fmt.Sprintf("%s %s: expected.json names unknown column %s", table.Name, key, col))
				}
			}
		}
		for _, key := range sortedKeys(have) {
			if _, ok := want[key]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s %s: unexpected row %v", table.Name, key, nonDefault(have[key])))
			}
		}
	}
	return diffs
}

// focus returns the columns of table that the scenario checks and the
// rows it expects to see: all of them, or with settings.json's columns
// those listed (nil: the table is not checked) and the rows in which one
// of them is not 0.
func (sc *scenario) focus(table sinks.Table, rows map[string]map[string]any) ([]string, map[string]map[string]any) {
	if sc.settings.Columns == nil {
		return table.Columns, rows
	}
	listed, ok := sc.settings.Columns[table.Name]
	if !ok {
		return nil, nil
	}
	columns := slices.Clone(listed)
	for _, col := range table.Columns {
		if keyColumns[col] && !slices.Contains(columns, col) {
			columns = append(columns, col)
		}
	}
	kept := map[string]map[string]any{}
	for key, row := range rows {
		for _, col := range listed {
			if s := fmt.Sprint(row[col]); s != "0" && s != "" {
				kept[key] = row
				break
			}
		}
	}
	return columns, kept
}

// optionalTables are checked only when expected.json names them: the
// scenarios written before the attribution and robot operators leave them
// out ({} asserts that there are no rows).
var optionalTables = map[string]bool{InquiryDailyTable.Name: true, RobotHourlyTable.Name: true, ExclusiveTable.Name: true}

// wantColumn is the expected, normalized value of col; row is the
// normalized row the engine wrote.
func (sc *scenario) wantColumn(table, col string, want, row map[string]any) any {
	if v, ok := want[col]; ok {
		return normalizeExpected(col, v)
	}
	loc := sc.zones.LookupString(row["shop_id"].(string)).Location()
	local := func(col string) time.Time {
		t, err := time.Parse(rowTimeLayout, row[col].(string))
		if err != nil {
			panic(err)
		}
		return t.In(loc)
	}
	switch col {
	case "shop_id", "session_id", "hour", "task_id", "robot_id", "intent":
		return row[col] // part of the key
	case "group_id", "agent_id":
		if table == AgentHourlyTable.Name || table == InquiryDailyTable.Name || table == ExclusiveTable.Name {
			return row[col] // part of the key
		}
		return ""
	case "day":
		switch table {
		case InquiryDailyTable.Name, ExclusiveTable.Name:
			return row[col] // part of the key
		case SessionsTable.Name:
			return local("started_at").Format(time.DateOnly)
		}
		return local("hour").Format(time.DateOnly)
	case "hour_of_day":
		return fmt.Sprint(local("hour").Hour())
	case "started_at_ms", "ended_at_ms":
		if v, ok := want[strings.TrimSuffix(col, "_at_ms")]; ok {
			return normalizeExpected(col, v)
		}
	case "started_at", "ended_at":
		return normalize(col, time.UnixMilli(atoi(row[col+"_ms"])).UTC())
	case "duration_ms":
		return fmt.Sprint(atoi(row["ended_at_ms"]) - atoi(row["started_at_ms"]))
	case "first_response_ms", "rating":
		return "null" // Nullable: NULL when absent
	case "agent_ids":
		return []string{}
	case "buyer_id", "origin", "channel", "close_reason", "last_agent_id", "filtered_by":
		return ""
	}
	return "0"
}

func atoi(v any) int64 {
	n, err := strconv.ParseInt(v.(string), 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}

const rowTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// normalize turns a row value into a comparable form: numbers as decimal
// strings, times as RFC 3339 (ms), dates as 2006-01-02.
func normalize(col string, v any) any {
	switch x := v.(type) {
	case time.Time:
		if col == "day" {
			return x.Format(time.DateOnly)
		}
		return x.UTC().Format(rowTimeLayout)
	case []string:
		if x == nil {
			return []string{}
		}
		return x
	case string:
		return x
	case *int64:
		if x == nil {
			return "null"
		}
		return fmt.Sprint(*x)
	case *uint8:
		return deref(x)
	case *uint32:
		return deref(x)
	case *int32:
		return deref(x)
	case *float64:
		return deref(x)
	}
	return fmt.Sprint(v)
}

// deref shows a Nullable column's value, "null" for NULL.
func deref[T any](p *T) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// normalizeExpected reads an expected.json value: *_at_ms may be given as
// an RFC 3339 instant, started and ended stand for started_at_ms and
// ended_at_ms.
func normalizeExpected(col string, v any) any {
	switch x := v.(type) {
	case string:
		if strings.HasSuffix(col, "_ms") {
			if ms, err := parseInstant(x); err == nil {
				return fmt.Sprint(ms)
			}
		}
		return x
	case []any:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = fmt.Sprint(s)
		}
		return out
	}
	return fmt.Sprint(v)
}

func nonDefault(row map[string]any) map[string]any {
	out := map[string]any{}
	for c, v := range row {
		if s := fmt.Sprint(v); s != "0" && s != "" && s != "[]" {
			out[c] = v
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
