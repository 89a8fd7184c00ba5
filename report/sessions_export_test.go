package report_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cspulse/cspulse/internal/pipetest"
	"github.com/cspulse/cspulse/internal/testenv"
	. "github.com/cspulse/cspulse/report"
)

// syntheticSessions creates cs_sessions in a fresh database and fills it
// with n sessions over November 2026 (INSERT … SELECT FROM numbers, on the
// server): shop-000{1..5}, every tenth with no first response (-1), every
// third unrated, every seventh filtered.
func syntheticSessions(t *testing.T, n int) (driver.Conn, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse")
	}
	addr, db := pipetest.MigratedDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn := testenv.Conn(t, addr, db)
	// 2026-11-01 00:00 Asia/Shanghai = 2026-10-31 16:00 UTC; one session
	// every 6 s spreads 400 000 over 28 days.
	err := conn.Exec(ctx, `INSERT INTO cs_sessions
SELECT
    concat('shop-000', toString(number % 5 + 1)) AS shop_id,
    concat('s', toString(number)) AS session_id,
    concat('b', toString(number % 1000)) AS buyer_id,
    'buyer', 'app',
    toDateTime(intDiv(1793462400000 + number * 6000, 1000), 'UTC'),
    toInt64(1793462400000 + number * 6000),
    toDateTime(intDiv(1793462400000 + number * 6000 + 600000, 1000), 'UTC'),
    toInt64(1793462400000 + number * 6000 + 600000),
    toInt64(600000),
    toDate(toDateTime(intDiv(1793462400000 + number * 6000, 1000), 'Asia/Shanghai')),
    'ended',
    concat('shop-000', toString(number % 5 + 1), '-a0', toString(number % 4 + 1)),
    [concat('shop-000', toString(number % 5 + 1), '-a0', toString(number % 4 + 1))],
    if(number % 2 = 0, 'pre-sales', 'after-sales'),
    toUInt32(number % 37), toUInt32(number % 11), toUInt32(1),
    toUInt8(1), toUInt8(0), toInt64(30000),
    if(number % 10 = 0, toInt64(-1), toInt64(number % 100000)),
    toUInt8(1), toUInt8(number % 7 != 0),
    toUInt8(if(number % 3 = 0, 0, number % 5 + 1)),
    if(number % 7 = 0, 'monologue', ''),
    toUInt64(1)
FROM system.numbers LIMIT `+itoa(n))
	if err != nil {
		t.Fatal(err)
	}
	return conn, db
}

func itoa(n int) string { return strconv.Itoa(n) }

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestExportStreamsFlatMemory: exporting 400 000 sessions keeps the live
// heap flat and small. It is sampled every 25 000 rows; holding the rows
// (≈ 300 B each decoded, ≈ 120 MB in all) would grow it by tens of MB
// between the first sample and the last. What it does hold is the
// driver's blocks: the current one and two read ahead, of
// ExportBlockRows rows each (≈ 10 MB), whatever the row count.
func TestExportStreamsFlatMemory(t *testing.T) {
	const n = 400_000
	conn, db := syntheticSessions(t, n)
	for _, format := range []string{"csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			before := liveHeap()
			var samples []uint64
			var out countingWriter
			got, err := Export(context.Background(), conn, db,
				ExportRequest{From: "2026-11-01", To: "2026-11-30", Format: format}, &out, func(i int) {
					if i%25_000 == 0 {
						samples = append(samples, liveHeap())
					}
				})
			if err != nil {
				t.Fatal(err)
			}
			if got != n || out.lines != n+boolInt(format == "csv") {
				t.Fatalf("exported %d rows, %d lines; want %d rows", got, out.lines, n)
			}
			first, peak := samples[1], uint64(0) // samples[0]: the first block just arrived
			for _, s := range samples[1:] {
				peak = max(peak, s)
			}
			t.Logf("%s: %d rows, %d MB written; live heap before %.1f MB, after 50k rows %.1f MB, peak %.1f MB", format, got, out.n>>20, float64(before)/(1<<20),
				float64(first)/(1<<20), float64(peak)/(1<<20))
			if peak > first+8<<20 || peak > before+32<<20 {
				t.Errorf("live heap grew from %.1f MB to %.1f MB over %d rows: the export holds rows", float64(first)/(1<<20), float64(peak)/(1<<20), n)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

type countingWriter struct{ n, lines int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	w.lines += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

// TestExportFiltersAndSorts: each filter selects exactly the sessions the
// same condition counts on the server; each sort orders them; -1 first
// response and rating 0 come out empty (CSV) and null (JSON).
func TestExportFiltersAndSorts(t *testing.T) {
	conn, db := syntheticSessions(t, 20_000)
	ctx := context.Background()
	count := func(where string) int {
		var c uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM cs_sessions FINAL WHERE day BETWEEN '2026-11-01' AND '2026-11-02' AND "+where).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return int(c)
	}
	base := ExportRequest{From: "2026-11-01", To: "2026-11-02"}
	for _, c := range []struct {
		name  string
		req   func(r *ExportRequest)
		where string
	}{
		{"all", func(r *ExportRequest) {}, "1"},
		{"shop", func(r *ExportRequest) { r.Shops = []string{"shop-0002"} }, "shop_id = 'shop-0002'"},
		{"agent", func(r *ExportRequest) { r.Agents = []string{"shop-0002-a03"} }, "last_agent_id = 'shop-0002-a03'"},
		{"group", func(r *ExportRequest) { r.Groups = []string{"pre-sales"} }, "group_id = 'pre-sales'"},
		{"buyer", func(r *ExportRequest) { r.Buyers = []string{"b7", "b8"} }, "buyer_id IN ('b7', 'b8')"},
		{"filtered", func(r *ExportRequest) { r.Filtered = "yes" }, "filtered_by != ''"},
		{"not filtered", func(r *ExportRequest) { r.Filtered = "no" }, "filtered_by = ''"},
	} {
		r := base
		c.req(&r)
		var buf bytes.Buffer
		n, err := Export(ctx, conn, db, r, &buf, nil)
		want := count(c.where)
		if err != nil || n != want || want == 0 {
			t.Errorf("%s: exported %d rows (%v), the server counts %d", c.name, n, err, want)
		}
	}

	sorted := func(sort string) []map[string]any {
		var buf bytes.Buffer
		if _, err := Export(ctx, conn, db, ExportRequest{From: "2026-11-02", To: "2026-11-02", Sort: sort, Format: "jsonl", Shops: []string{"shop-0001"}}, &buf, nil); err != nil {
			t.Fatal(err)
		}
		var out []map[string]any
		sc := bufio.NewScanner(&buf)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		if len(out) < 100 {
			t.Fatalf("sort %s: %d rows", sort, len(out))
		}
		return out
	}
	start := sorted("start")
	for i := 1; i < len(start); i++ {
		if start[i]["started_at"].(string) < start[i-1]["started_at"].(string) {
			t.Fatalf("sort start: row %d starts before row %d", i, i-1)
		}
	}
	msgs := sorted("messages")
	total := func(m map[string]any) float64 {
		return m["buyer_msgs"].(float64) + m["agent_msgs"].(float64) + m["robot_msgs"].(float64)
	}
	for i := 1; i < len(msgs); i++ {
		if total(msgs[i]) > total(msgs[i-1]) {
			t.Fatalf("sort messages: row %d has more messages than row %d", i, i-1)
		}
	}
	fr := sorted("first_response")
	nulls, seenNull := 0, false
	for i, m := range fr {
		v, isNum := m["first_response_ms"].(float64)
		switch {
		case m["first_response_ms"] == nil:
			nulls++
			seenNull = true
		case seenNull:
			t.Fatalf("sort first_response: row %d has a first response after sessions without", i)
		case i > 0 && isNum && fr[i-1]["first_response_ms"] != nil && v > fr[i-1]["first_response_ms"].(float64):
			t.Fatalf("sort first_response: row %d is slower than row %d", i, i-1)
		}
		if m["rating"] != nil && m["rating"].(float64) == 0 {
			t.Fatalf("rating 0 exported as 0, want null")
		}
	}
	if nulls == 0 {
		t.Fatal("no session without first response (-1) exported as null")
	}

	// CSV: the header, and -1 / 0 as empty fields.
	var buf bytes.Buffer
	if _, err := Export(ctx, conn, db, ExportRequest{From: "2026-11-02", To: "2026-11-02", Format: "csv"}, &buf, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(ExportColumns, ",") {
		t.Errorf("csv header %v", recs[0])
	}
	emptyFR, emptyRating := 0, 0
	for _, r := range recs[1:] {
		if r[19] == "" {
			emptyFR++
		}
		if r[22] == "" {
			emptyRating++
		}
		if r[19] == "-1" || r[22] == "0" {
			t.Fatalf("csv row with a sentinel: %v", r)
		}
	}
	if emptyFR == 0 || emptyRating == 0 {
		t.Errorf("csv: %d empty first responses, %d empty ratings; want some of each", emptyFR, emptyRating)
	}
}

// TestExportRange: more than 31 days is an error naming the flags.
func TestExportRange(t *testing.T) {
	for _, c := range []struct {
		from, to string
		ok       bool
		want     string
	}{
		{"2026-11-01", "2026-12-01", true, ""},
		{"2026-11-01", "2026-12-02", false, "covers 32 days: one export covers at most 31"},
		{"2026-11-02", "2026-11-01", false, "--from 2026-11-02 is after --to"},
		{"2026-11", "2026-11-30", false, "--from"},
	} {
		r := ExportRequest{From: c.from, To: c.to}
		_, err := r.SQL("db")
		if c.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s..%s: %v, want %q", c.from, c.to, err, c.want)
		}
	}
}
