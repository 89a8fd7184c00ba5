package testenv

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The hand-made rankings and alerts that the read side (report, the page)
// is tested on: known numbers in the layouts of 0009_cs_alerts and
// 0010_cs_agent_rankings, independent of the engine that writes them.
//
// shop-0001, scope shop, on 2026-11-03 (its day so far) — value rank
// change for received_buyers, reply_3min_rate_session, satisfaction_rate,
// received_sessions:
//
//	a01  12 1 ▲1   0.75 2 ▼1   0.9  2 ▼1   14 1 ▲1
//	a02  12 1 =    0.8  1 ▲1   NULL –  –   13 2 ▼1   (no rating: unranked)
//	a03   7 3 ▼2   0.75 2 =    0.5  3 =     9 3 =
//	a04   3 4 –    NULL – –    1    1 –     4 4 –    (new: no rank on 11-02)
//	a05  ranked = 0 (a reception taken back): not shown
//
// means 8.5, 0.7667, 0.8, 10. a01 also has an older version (version 1,
// 10 buyers) that FINAL drops. Groups pre-sales (a01, a02) and
// after-sales (a03, a04) have their own rankings that day; 2026-11-02 is
// the previous day (a01..a03). shop-0002 has a ranking on 2026-11-02.
const RankingsDay, RankingsPrevDay = "2026-11-03", "2026-11-02"

const rankingCols = `shop_id, day, scope, group_id, agent_id, ranked, agents,
 received_buyers, received_buyers_rank, received_buyers_mean, received_buyers_rank_change,
 reply_3min_rate_session, reply_3min_rate_session_rank, reply_3min_rate_session_mean, reply_3min_rate_session_rank_change,
 session_pairs_window, session_pairs_3min_ok,
 satisfaction_rate, satisfaction_rate_rank, satisfaction_rate_mean, satisfaction_rate_rank_change,
 ratings_window, satisfied_window,
 received_sessions, received_sessions_rank, received_sessions_mean, received_sessions_rank_change,
 version`

var rankingRows = []string{
	// shop-0001, scope shop, day so far.
	`('shop-0001', '2026-11-03', 'shop', '', 'shop-0001-a01', 1, 4, 10, 2, 8, NULL, 0.75, 2, 0.7667, NULL, 8, 6, 0.9, 2, 0.8, NULL, 10, 9, 12, 2, 9, NULL, 1)`,
	`('shop-0001', '2026-11-03', 'shop', '', 'shop-0001-a01', 1, 4, 12, 1, 8.5, 1, 0.75, 2, 0.7666666666666667, -1, 8, 6, 0.9, 2, 0.8, -1, 10, 9, 14, 1, 10, 1, 2)`,
	`('shop-0001', '2026-11-03', 'shop', '', 'shop-0001-a02', 1, 4, 12, 1, 8.5, 0, 0.8, 1, 0.7666666666666667, 1, 10, 8, NULL, NULL, 0.8, NULL, 0, 0, 13, 2, 10, -1, 2)`,
	`('shop-0001', '2026-11-03', 'shop', '', 'shop-0001-a03', 1, 4, 7, 3, 8.5, -2, 0.75, 2, 0.7666666666666667, 0, 4, 3, 0.5, 3, 0.8, 0, 2, 1, 9, 3, 10, 0, 2)`,
	`('shop-0001', '2026-11-03', 'shop', '', 'shop-0001-a04', 1, 4, 3, 4, 8.5, NULL, NULL, NULL, 0.7666666666666667, NULL, 0, 0, 1, 1, 0.8, NULL, 1, 1, 4, 4, 10, NULL, 2)`,
	`('shop-0001', '2026-11-03', 'shop', '', 'shop-0001-a05', 0, 4, 0, NULL, 8.5, NULL, NULL, NULL, 0.7666666666666667, NULL, 0, 0, NULL, NULL, 0.8, NULL, 0, 0, 0, NULL, 10, NULL, 2)`,
	// Its groups that day.
	`('shop-0001', '2026-11-03', 'group', 'pre-sales', 'shop-0001-a01', 1, 2, 12, 1, 12, 0, 0.75, 2, 0.775, -1, 8, 6, 0.9, 1, 0.9, 0, 10, 9, 14, 1, 13.5, 0, 2)`,
	`('shop-0001', '2026-11-03', 'group', 'pre-sales', 'shop-0001-a02', 1, 2, 12, 1, 12, 0, 0.8, 1, 0.775, 1, 10, 8, NULL, NULL, 0.9, NULL, 0, 0, 13, 2, 13.5, 0, 2)`,
	`('shop-0001', '2026-11-03', 'group', 'after-sales', 'shop-0001-a03', 1, 2, 7, 1, 5, 0, 0.75, 1, 0.75, 0, 4, 3, 0.5, 2, 0.75, NULL, 2, 1, 9, 1, 6.5, 0, 2)`,
	`('shop-0001', '2026-11-03', 'group', 'after-sales', 'shop-0001-a04', 1, 2, 3, 2, 5, NULL, NULL, NULL, 0.75, NULL, 0, 0, 1, 1, 0.75, NULL, 1, 1, 4, 2, 6.5, NULL, 2)`,
	// The previous day, final.
	`('shop-0001', '2026-11-02', 'shop', '', 'shop-0001-a01', 1, 3, 9, 2, 9, NULL, 0.9, 1, 0.7333, NULL, 10, 9, 0.95, 1, 0.85, NULL, 20, 19, 10, 2, 10.3333, NULL, 3)`,
	`('shop-0001', '2026-11-02', 'shop', '', 'shop-0001-a02', 1, 3, 12, 1, 9, 2, 0.6, 2, 0.7333, NULL, 5, 3, 0.9, 2, 0.85, 0, 10, 9, 12, 1, 10.3333, 1, 3)`,
	`('shop-0001', '2026-11-02', 'shop', '', 'shop-0001-a03', 1, 3, 6, 3, 9, -1, 0.7, 2, 0.7333, 1, 10, 7, 0.7, 3, 0.85, NULL, 10, 7, 9, 3, 10.3333, 0, 3)`,
	`('shop-0001', '2026-11-02', 'group', 'pre-sales', 'shop-0001-a01', 1, 2, 9, 2, 10.5, NULL, 0.9, 1, 0.75, NULL, 10, 9, 0.95, 1, 0.925, NULL, 20, 19, 10, 2, 11, NULL, 3)`,
	`('shop-0001', '2026-11-02', 'group', 'pre-sales', 'shop-0001-a02', 1, 2, 12, 1, 10.5, NULL, 0.6, 2, 0.75, NULL, 5, 3, 0.9, 2, 0.925, NULL, 10, 9, 12, 1, 11, NULL, 3)`,
	// Another shop: never on shop-0001's page.
	`('shop-0002', '2026-11-02', 'shop', '', 'shop-0002-a01', 1, 1, 50, 1, 50, NULL, 1, 1, 1, NULL, 3, 3, 1, 1, 1, NULL, 3, 3, 60, 1, 60, NULL, 1)`,
}

const alertCols = `alert_id, shop_id, rule, scope, scope_id, group_id, metric, alert_window,
 window_start, window_end, value, numerator, denominator, threshold, direction, state, evaluated_at, day, version`

// AlertsShop's alerts (al-5, the oldest, is of the empty group: figures
// outside any group); al-3 is written twice (a retried checkpoint) and
// shows once. shop-0002's alert is never on its page.
const AlertsShop = "shop-0001"

var alertRows = []string{
	`('al-1', 'shop-0001', 'reply_3min_rate_min', 'shop', 'shop-0001', '', 'reply_3min_rate', 'rolling_7d', '2026-10-27 02:00:00', '2026-11-03 02:00:00', 0.8812, 8812, 10000, 0.9, '>=', 'breach', '2026-11-03 02:00:00', '2026-11-03', 1)`,
	`('al-2', 'shop-0001', 'avg_response_s_max', 'agent', 'shop-0001-a03', 'after-sales', 'avg_response_s', 'week', '2026-11-01 16:00:00', '2026-11-03 03:00:00', 131.5, 263000, 2000, 120, '<=', 'breach', '2026-11-03 03:00:00', '2026-11-03', 1)`,
	`('al-3', 'shop-0001', 'satisfaction_rate_min', 'group', 'pre-sales', 'pre-sales', 'satisfaction_rate', 'rolling_7d', '2026-10-27 04:00:00', '2026-11-03 04:00:00', 0.75, 30, 40, 0.8, '>=', 'breach', '2026-11-03 04:00:00', '2026-11-03', 1)`,
	`('al-3', 'shop-0001', 'satisfaction_rate_min', 'group', 'pre-sales', 'pre-sales', 'satisfaction_rate', 'rolling_7d', '2026-10-27 04:00:00', '2026-11-03 04:00:00', 0.75, 30, 40, 0.8, '>=', 'breach', '2026-11-03 04:00:00', '2026-11-03', 1)`,
	`('al-4', 'shop-0001', 'reply_3min_rate_min', 'shop', 'shop-0001', '', 'reply_3min_rate', 'rolling_7d', '2026-10-27 06:00:00', '2026-11-03 06:00:00', 0.9034, 9034, 10000, 0.9, '>=', 'recovered', '2026-11-03 06:00:00', '2026-11-03', 1)`,
	`('al-5', 'shop-0001', 'avg_wait_s_max', 'group', '', '', 'avg_wait_s', 'rolling_7d', '2026-10-26 23:00:00', '2026-11-02 23:00:00', 640.2, 3201000, 5000, 600, '<', 'breach', '2026-11-02 23:00:00', '2026-11-03', 1)`,
	`('al-0', 'shop-0002', 'reply_3min_rate_min', 'shop', 'shop-0002', '', 'reply_3min_rate', 'rolling_7d', '2026-10-27 05:00:00', '2026-11-03 05:00:00', 0.5, 1, 2, 0.9, '>=', 'breach', '2026-11-03 05:00:00', '2026-11-02', 1)`,
}

// Column types of the tuples above, in order: s String, d Date, t
// DateTime, u8/u32/u64 UInt*, i64 Int64, f Float64, and n… the Nullable
// ones (nu32, ni32, nf).
var (
	rankingTypes = strings.Fields("s d s s s u8 u32 u64 nu32 nf ni32 nf nu32 nf ni32 u64 u64 nf nu32 nf ni32 u64 u64 u64 nu32 nf ni32 u64")
	alertTypes   = strings.Fields("s s s s s s s s t t f i64 i64 f s s t d u64")
)

// HandMadeTable is the hand-made rows of one table, as the Go values of
// its columns.
type HandMadeTable struct {
	Name    string
	Columns []string
	Rows    [][]any
}

// HandMadeRankingsAndAlerts returns the rows above for a writer of its own
// (a cluster's Distributed tables).
func HandMadeRankingsAndAlerts(t testing.TB) []HandMadeTable {
	t.Helper()
	var out []HandMadeTable
	for _, tb := range []struct {
		name, cols  string
		types, rows []string
	}{{"cs_agent_rankings", rankingCols, rankingTypes, rankingRows}, {"cs_alerts", alertCols, alertTypes, alertRows}} {
		h := HandMadeTable{Name: tb.name}
		for _, c := range strings.Split(tb.cols, ",") {
			h.Columns = append(h.Columns, strings.TrimSpace(c))
		}
		for _, r := range tb.rows {
			vals, err := parseTuple(r, tb.types)
			if err != nil {
				t.Fatalf("%s row %s: %v", tb.name, r, err)
			}
			h.Rows = append(h.Rows, vals)
		}
		out = append(out, h)
	}
	return out
}

// InsertRankingsAndAlerts empties cs_agent_rankings and cs_alerts of the
// connection's database and writes the hand-made rows into them, so a
// test sees exactly these numbers even once the engine writes its own.
// The rows go in as a batch (INSERT naming its columns): 18.16 takes no
// inline VALUES over the native protocol.
func InsertRankingsAndAlerts(t testing.TB, conn driver.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, q := range []string{"TRUNCATE TABLE cs_agent_rankings", "TRUNCATE TABLE cs_alerts"} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, h := range HandMadeRankingsAndAlerts(t) {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+h.Name+" ("+strings.Join(h.Columns, ", ")+")")
		if err != nil {
			t.Fatalf("insert into %s: %v", h.Name, err)
		}
		for _, r := range h.Rows {
			if err := b.Append(r...); err != nil {
				t.Fatalf("%s row %v: %v", h.Name, r, err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatalf("insert into %s: %v", h.Name, err)
		}
	}
}

// parseTuple reads one "(…, …)" row of literals as the Go values of types.
func parseTuple(row string, types []string) ([]any, error) {
	fields := strings.Split(strings.TrimSuffix(strings.TrimPrefix(row, "("), ")"), ", ")
	if len(fields) != len(types) {
		return nil, fmt.Errorf("%d values for %d columns", len(fields), len(types))
	}
	out := make([]any, len(fields))
	for i, f := range fields {
		typ := types[i]
		if f == "NULL" {
			switch typ {
			case "nu32":
				out[i] = (*uint32)(nil)
			case "ni32":
				out[i] = (*int32)(nil)
			case "nf":
				out[i] = (*float64)(nil)
			default:
				return nil, fmt.Errorf("column %d (%s) is not Nullable", i, typ)
			}
			continue
		}
		var err error
		str := strings.Trim(f, "'")
		switch typ {
		case "s":
			out[i] = str
		case "d":
			out[i], err = time.Parse("2006-01-02", str)
		case "t":
			out[i], err = time.Parse("2006-01-02 15:04:05", str)
		case "u8", "u32", "u64", "nu32":
			var n uint64
			n, err = strconv.ParseUint(str, 10, 64)
			switch typ {
			case "u8":
				out[i] = uint8(n)
			case "u32":
				out[i] = uint32(n)
			case "u64":
				out[i] = n
			default:
				v := uint32(n)
				out[i] = &v
			}
		case "i64", "ni32":
			var n int64
			n, err = strconv.ParseInt(str, 10, 64)
			if typ == "i64" {
				out[i] = n
			} else {
				v := int32(n)
				out[i] = &v
			}
		case "f", "nf":
			var x float64
			x, err = strconv.ParseFloat(str, 64)
			if typ == "f" {
				out[i] = x
			} else {
				out[i] = &x
			}
		default:
			return nil, fmt.Errorf("column %d: unknown type %s", i, typ)
		}
		if err != nil {
			return nil, fmt.Errorf("column %d: %w", i, err)
		}
	}
	return out, nil
}
