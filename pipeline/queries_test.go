package pipeline_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/generator"
	"github.com/cspulse/cspulse/internal/testenv"
)

// The analysts' queries of docs/queries.md, run on the whole path: events
// → embedded Kafka → runner and engine → real ClickHouse → each named sql
// block of the page. TestDocQueriesScenario checks their results against
// figures worked out by hand from SPEC §3 for a small scenario;
// TestDocQueriesGenerated runs every block on a generated day of traffic
// and requires rows from each.

// docQuery is one `<!-- query: name -->` + ```sql block of docs/queries.md.
type docQuery struct {
	name string
	sql  string
}

var (
	docQueryRE = regexp.MustCompile("(?s)<!-- query: ([a-z0-9_]+) -->\n```sql\n(.*?)```")
	sqlBlockRE = regexp.MustCompile("(?s)```sql\n.*?```")
)

// loadDocQueries parses docs/queries.md: every sql block must be named,
// once.
func loadDocQueries(t *testing.T) []docQuery {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "queries.md"))
	if err != nil {
		t.Fatal(err)
	}
	var qs []docQuery
	seen := map[string]bool{}
	for _, m := range docQueryRE.FindAllStringSubmatch(string(src), -1) {
		if seen[m[1]] {
			t.Fatalf("docs/queries.md: query name %q used twice", m[1])
		}
		seen[m[1]] = true
		qs = append(qs, docQuery{name: m[1], sql: strings.TrimSpace(m[2])})
	}
	if n := len(sqlBlockRE.FindAllString(string(src), -1)); n != len(qs) {
		t.Fatalf("docs/queries.md has %d sql blocks but %d named ones: put <!-- query: name --> on the line before each", n, len(qs))
	}
	return qs
}

// ---------------------------------------------------------------------------
// The hand-made scenario.
//
// Three shops. shop-0001 and shop-0003 are in Asia/Shanghai (UTC+8),
// shop-0002 in America/New_York (UTC−5 on these dates: DST ended on
// 2026-11-01). D1 = Monday 2026-11-02, D2 = Tuesday 2026-11-03, local.
// Agents: shop-0001-a01 and -a02 in group pre-sales, shop-0001-a03 in
// after-sales; shop-0002-a01 pre-sales; shop-0003-a01 after-sales. The
// ids follow the generator's, so the page's literals ('shop-0001',
// 'shop-0001-a01', 'shop-0001-s2') hit rows here and in generated traffic.
//
// Every figure below is worked out from SPEC §3 (and, where the SPEC is
// silent, the decisions written in pipeline/operators/doc.go). Times are
// local to the event's shop; "→ r" is a buyer message's response time.
//
// shop-0001-s1 (buyer b1, app), D1, pre-sales/a01:
//   09:58 started · 09:59 buyer (robot phase: not in any agent figure) ·
//   09:59:30 robot · 10:00 queued · 10:00:30 assigned a01 (wait 30 s) ·
//   10:01 buyer m1 · 10:01:30 buyer m2 · 10:02 a01 (m1 → 60 000, m2 →
//   30 000; first response 90 000) · 10:05 buyer m3 · 10:08:00.000 a01
//   (m3 → 180 000: within 3 min) · 10:20 buyer m4 · 10:23:00.001 a01 (m4 →
//   180 001: not within) · 10:30 ended · rating 2 at 10:40, re-rated 5 at
//   11:10 (no agent_id: the last assigned, a01; only the 5 counts, hour 11).
//   a01 hour 10: buyer 4, in window 4, within 3 min 3, replied 4, Σ
//   response 450 001, agent msgs 3, pair 1 (not OK: m4), assignment 1
//   picked, first response 90 000, wait 30 000. Shop: consult at 09, the
//   transfer, pick and reception at 10.
//
// shop-0001-s2 (b2, web), D1: transfer after an unpicked assignment.
//   14:00 started · 14:00:10 queued · 14:01:10 assigned a02 (wait 60 s) ·
//   14:02 buyer m1 (a02's) · 14:06 assigned a01 from a02 (no queue: no
//   wait) · 14:06:30 a01 (m1 → 270 000 for a02, not within; a01's first
//   response 30 000) · 14:07 buyer m2 (a01's) · 14:08 a01 (m2 → 60 000) ·
//   14:10 ended. a02: buyer 1, window 1, within 0, Σ 270 000, pair not OK,
//   assignment unpicked. a01: buyer 1, within 1, Σ 60 000, agent msgs 2,
//   pair OK, picked. cs_sessions first_response_ms = 14:06:30 − first
//   assigned 14:01:10 = 320 000; agents a02 → a01.
//
// shop-0001-s3 (b3, app), D1 → D2 across midnight, after-sales/a03:
//   22:50 started · 22:50:05 queued · 22:51:05 assigned a03 (wait 60 s) ·
//   22:59:59.999 buyer m1 (in the window) · 23:00:00.000 buyer m2 (not) ·
//   23:00:30 a03 (m1 → 30 001 within; m2 → 30 000, outside the window;
//   first response 565 000 in hour 22) · 23:20 buyer m3 · 23:35 a03 (m3 →
//   900 000) · D2 00:02 buyer m4 · 00:03 a03 (→ 60 000) · 00:10 ended ·
//   rating 4 for a03 at D2 00:20 (outside the window: ratings 1,
//   ratings_window 0). No gap reaches the 30-minute session timeout (the
//   longest is 23:35 → 00:02, 27 min). a03: hour 22 buyer 1 window 1
//   within 1 Σ 30 001, pair OK; hour 23 buyer 2 Σ 930 000 agent msgs 2;
//   D2 hour 0 buyer 1 Σ 60 000 agent msgs 1.
//
// shop-0001-s4 (b4, app), D2 07:30, pre-sales/a02, outside the window:
//   07:30 started · 07:30:10 queued · 07:31:10 assigned a02 (wait 60 s) ·
//   07:31:40 buyer · 07:32 a02 (→ 20 000; first response 50 000) · 07:35
//   ended: one agent message, no buyer message after it → agent single
//   sentence: picked, not received. Rating 3 at D2 08:00:00.000 (in the
//   window, not satisfied) for a02 (the last assigned).
//
// shop-0001-s5 (proactive, app), D2 10:00, pre-sales/a01: assigned at
//   10:00 (no queue), a01 at 10:00:05 and 10:00:10, no buyer message,
//   ended 10:05 → monologue: picked (first response 5 000), not received,
//   no consult session.
//
// shop-0001-s6 (b6, web), D2 09:00: a buyer talks to the robot only and
//   leaves; no `ended`, it times out at 09:30:20. Consult 1, nothing else.
//
// shop-0002-s1 (New York, b1), D1 09:00 local = 14:00 UTC, pre-sales/a01:
//   09:00 started · 09:00:20 queued · 09:02:20 assigned (wait 120 s) ·
//   09:03 buyer · 09:04 agent (→ 60 000; first response 100 000) · 09:10
//   buyer · 09:12 agent (→ 120 000) · 09:15 ended · rating 5 at 09:30.
//   Rows at hour 2026-11-02 14:00 UTC, day 2026-11-02, hour_of_day 9.
//
// shop-0002-s2 (New York, b2), D1 22:30 local = 2026-11-03 03:30 UTC:
//   queued 22:31, abandoned 22:33, ended 22:33:30. Local day 2026-11-02.
//
// shop-0003-s1 (b1), D1 12:00: queued 12:00:05, abandoned 12:04:05,
//   ended 12:04:10.
// shop-0003-s2 (b2), D1 15:00: queued 15:00:10, assigned a01 15:00:40
//   (wait 30 s), buyer 15:01, never answered, ended 15:20; rating 1 at
//   15:30 for a01 (the last assigned).
// ---------------------------------------------------------------------------

// scenarioZones is cfg.Time.ShopZones for the scenario (the default zone
// is Asia/Shanghai).
var scenarioZones = map[string]string{"shop-0002": "America/New_York"}

type scenario struct {
	recs []record
	ts   []int64
}

// at adds one event at the shop-local time clock ("2026-11-02 10:00:00" or
// with milliseconds ".000").
func (s *scenario) at(topic, shop, clock, fields string) {
	zone := "Asia/Shanghai"
	if z, ok := scenarioZones[shop]; ok {
		zone = z
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		panic(err)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999", clock, loc)
	if err != nil {
		panic(err)
	}
	id := fmt.Sprintf("%s-q%03d", shop, len(s.recs)+1)
	v := fmt.Sprintf(`{"event_id":%q,"shop_id":%q,"ts":%d%s}`, id, shop, t.UnixMilli(), fields)
	s.recs = append(s.recs, record{topic: topic, key: shop, value: v})
	s.ts = append(s.ts, t.UnixMilli())
}

// sorted returns the records in event-time order, as producers would send
// them (within every topic and partition).
func (s *scenario) sorted() []record {
	idx := make([]int, len(s.recs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s.ts[idx[a]] < s.ts[idx[b]] })
	out := make([]record, len(idx))
	for i, j := range idx {
		out[i] = s.recs[j]
	}
	return out
}

const (
	tSessions    = "cs.sessions"
	tTransfers   = "cs.transfers"
	tMessages    = "cs.messages"
	tEvaluations = "cs.evaluations"
)

func started(sess, buyer, origin, channel string) string {
	return fmt.Sprintf(`,"type":"started","session_id":%q,"buyer_id":%q,"origin":%q,"channel":%q`, sess, buyer, origin, channel)
}
func ended(sess string) string { return fmt.Sprintf(`,"type":"ended","session_id":%q`, sess) }
func queued(sess, group string) string {
	return fmt.Sprintf(`,"type":"queued","session_id":%q,"group_id":%q`, sess, group)
}
func assigned(sess, group, agent string) string {
	return fmt.Sprintf(`,"type":"assigned","session_id":%q,"group_id":%q,"agent_id":%q`, sess, group, agent)
}
func transferred(sess, group, agent, from string) string {
	return fmt.Sprintf(`,"type":"assigned","session_id":%q,"group_id":%q,"agent_id":%q,"from_agent_id":%q`, sess, group, agent, from)
}
func abandoned(sess string) string { return fmt.Sprintf(`,"type":"abandoned","session_id":%q`, sess) }
func buyerSays(sess string) string {
	return fmt.Sprintf(`,"session_id":%q,"sender":"buyer","content_type":"text","text":"在吗"`, sess)
}
func agentSays(sess, agent string) string {
	return fmt.Sprintf(`,"session_id":%q,"sender":"agent","agent_id":%q,"content_type":"text","text":"亲，在的"`, sess, agent)
}
func robotSays(sess string) string { return fmt.Sprintf(`,"session_id":%q,"sender":"robot"`, sess) }
func rated(sess string, score int) string {
	return fmt.Sprintf(`,"session_id":%q,"score":%d`, sess, score)
}
func ratedAgent(sess, agent string, score int) string {
	return fmt.Sprintf(`,"session_id":%q,"agent_id":%q,"score":%d`, sess, agent, score)
}

// queryScenario is the scenario described above.
func queryScenario() []record {
	s := &scenario{}
	const (
		sh1, sh2, sh3 = "shop-0001", "shop-0002", "shop-0003"
		a01, a02, a03 = "shop-0001-a01", "shop-0001-a02", "shop-0001-a03"
		pre, after    = "pre-sales", "after-sales"
	)

	// shop-0001-s1: reply at exactly 180 000 and at 180 001 ms; re-rating.
	s1 := "shop-0001-s1"
	s.at(tSessions, sh1, "2026-11-02 09:58:00", started(s1, "shop-0001-b1", "buyer", "app"))
	s.at(tMessages, sh1, "2026-11-02 09:59:00", buyerSays(s1))
	s.at(tMessages, sh1, "2026-11-02 09:59:30", robotSays(s1))
	s.at(tTransfers, sh1, "2026-11-02 10:00:00", queued(s1, pre))
	s.at(tTransfers, sh1, "2026-11-02 10:00:30", assigned(s1, pre, a01))
	s.at(tMessages, sh1, "2026-11-02 10:01:00", buyerSays(s1))
	s.at(tMessages, sh1, "2026-11-02 10:01:30", buyerSays(s1))
	s.at(tMessages, sh1, "2026-11-02 10:02:00", agentSays(s1, a01))
	s.at(tMessages, sh1, "2026-11-02 10:05:00", buyerSays(s1))
	s.at(tMessages, sh1, "2026-11-02 10:08:00.000", agentSays(s1, a01))
	s.at(tMessages, sh1, "2026-11-02 10:20:00", buyerSays(s1))
	s.at(tMessages, sh1, "2026-11-02 10:23:00.001", agentSays(s1, a01))
	s.at(tSessions, sh1, "2026-11-02 10:30:00", ended(s1))
	s.at(tEvaluations, sh1, "2026-11-02 10:40:00", rated(s1, 2))
	s.at(tEvaluations, sh1, "2026-11-02 11:10:00", rated(s1, 5))

	// shop-0001-s2: a02 assigned and silent, transferred to a01.
	s2 := "shop-0001-s2"
	s.at(tSessions, sh1, "2026-11-02 14:00:00", started(s2, "shop-0001-b2", "buyer", "web"))
	s.at(tTransfers, sh1, "2026-11-02 14:00:10", queued(s2, pre))
	s.at(tTransfers, sh1, "2026-11-02 14:01:10", assigned(s2, pre, a02))
	s.at(tMessages, sh1, "2026-11-02 14:02:00", buyerSays(s2))
	s.at(tTransfers, sh1, "2026-11-02 14:06:00", transferred(s2, pre, a01, a02))
	s.at(tMessages, sh1, "2026-11-02 14:06:30", agentSays(s2, a01))
	s.at(tMessages, sh1, "2026-11-02 14:07:00", buyerSays(s2))
	s.at(tMessages, sh1, "2026-11-02 14:08:00", agentSays(s2, a01))
	s.at(tSessions, sh1, "2026-11-02 14:10:00", ended(s2))

	// shop-0001-s3: the 23:00 window edge and midnight.
	s3 := "shop-0001-s3"
	s.at(tSessions, sh1, "2026-11-02 22:50:00", started(s3, "shop-0001-b3", "buyer", "app"))
	s.at(tTransfers, sh1, "2026-11-02 22:50:05", queued(s3, after))
	s.at(tTransfers, sh1, "2026-11-02 22:51:05", assigned(s3, after, a03))
	s.at(tMessages, sh1, "2026-11-02 22:59:59.999", buyerSays(s3))
	s.at(tMessages, sh1, "2026-11-02 23:00:00.000", buyerSays(s3))
	s.at(tMessages, sh1, "2026-11-02 23:00:30", agentSays(s3, a03))
	s.at(tMessages, sh1, "2026-11-02 23:20:00", buyerSays(s3))
	s.at(tMessages, sh1, "2026-11-02 23:35:00", agentSays(s3, a03))
	s.at(tMessages, sh1, "2026-11-03 00:02:00", buyerSays(s3))
	s.at(tMessages, sh1, "2026-11-03 00:03:00", agentSays(s3, a03))
	s.at(tSessions, sh1, "2026-11-03 00:10:00", ended(s3))
	s.at(tEvaluations, sh1, "2026-11-03 00:20:00", ratedAgent(s3, a03, 4))

	// shop-0001-s4: before 08:00, agent single sentence; rated at 08:00:00.000.
	s4 := "shop-0001-s4"
	s.at(tSessions, sh1, "2026-11-03 07:30:00", started(s4, "shop-0001-b4", "buyer", "app"))
	s.at(tTransfers, sh1, "2026-11-03 07:30:10", queued(s4, pre))
	s.at(tTransfers, sh1, "2026-11-03 07:31:10", assigned(s4, pre, a02))
	s.at(tMessages, sh1, "2026-11-03 07:31:40", buyerSays(s4))
	s.at(tMessages, sh1, "2026-11-03 07:32:00", agentSays(s4, a02))
	s.at(tSessions, sh1, "2026-11-03 07:35:00", ended(s4))
	s.at(tEvaluations, sh1, "2026-11-03 08:00:00.000", rated(s4, 3))

	// shop-0001-s5: proactive, agents only: monologue.
	s5 := "shop-0001-s5"
	s.at(tSessions, sh1, "2026-11-03 10:00:00", started(s5, "shop-0001-b5", "proactive", "app"))
	s.at(tTransfers, sh1, "2026-11-03 10:00:00", assigned(s5, pre, a01))
	s.at(tMessages, sh1, "2026-11-03 10:00:05", agentSays(s5, a01))
	s.at(tMessages, sh1, "2026-11-03 10:00:10", agentSays(s5, a01))
	s.at(tSessions, sh1, "2026-11-03 10:05:00", ended(s5))

	// shop-0001-s6: robot only, closed by the timeout.
	s6 := "shop-0001-s6"
	s.at(tSessions, sh1, "2026-11-03 09:00:00", started(s6, "shop-0001-b6", "buyer", "web"))
	s.at(tMessages, sh1, "2026-11-03 09:00:10", buyerSays(s6))
	s.at(tMessages, sh1, "2026-11-03 09:00:20", robotSays(s6))

	// shop-0002 (America/New_York).
	n1, na := "shop-0002-s1", "shop-0002-a01"
	s.at(tSessions, sh2, "2026-11-02 09:00:00", started(n1, "shop-0002-b1", "buyer", "app"))
	s.at(tTransfers, sh2, "2026-11-02 09:00:20", queued(n1, pre))
	s.at(tTransfers, sh2, "2026-11-02 09:02:20", assigned(n1, pre, na))
	s.at(tMessages, sh2, "2026-11-02 09:03:00", buyerSays(n1))
	s.at(tMessages, sh2, "2026-11-02 09:04:00", agentSays(n1, na))
	s.at(tMessages, sh2, "2026-11-02 09:10:00", buyerSays(n1))
	s.at(tMessages, sh2, "2026-11-02 09:12:00", agentSays(n1, na))
	s.at(tSessions, sh2, "2026-11-02 09:15:00", ended(n1))
	s.at(tEvaluations, sh2, "2026-11-02 09:30:00", ratedAgent(n1, na, 5))
	n2 := "shop-0002-s2"
	s.at(tSessions, sh2, "2026-11-02 22:30:00", started(n2, "shop-0002-b2", "buyer", "app"))
	s.at(tTransfers, sh2, "2026-11-02 22:31:00", queued(n2, pre))
	s.at(tTransfers, sh2, "2026-11-02 22:33:00", abandoned(n2))
	s.at(tSessions, sh2, "2026-11-02 22:33:30", ended(n2))

	// shop-0003: an abandoned queue and an assignment nobody answered.
	c1, c2, ca := "shop-0003-s1", "shop-0003-s2", "shop-0003-a01"
	s.at(tSessions, sh3, "2026-11-02 12:00:00", started(c1, "shop-0003-b1", "buyer", "app"))
	s.at(tTransfers, sh3, "2026-11-02 12:00:05", queued(c1, after))
	s.at(tTransfers, sh3, "2026-11-02 12:04:05", abandoned(c1))
	s.at(tSessions, sh3, "2026-11-02 12:04:10", ended(c1))
	s.at(tSessions, sh3, "2026-11-02 15:00:00", started(c2, "shop-0003-b2", "buyer", "app"))
	s.at(tTransfers, sh3, "2026-11-02 15:00:10", queued(c2, after))
	s.at(tTransfers, sh3, "2026-11-02 15:00:40", assigned(c2, after, ca))
	s.at(tMessages, sh3, "2026-11-02 15:01:00", buyerSays(c2))
	s.at(tSessions, sh3, "2026-11-02 15:20:00", ended(c2))
	s.at(tEvaluations, sh3, "2026-11-02 15:30:00", rated(c2, 1))

	return s.sorted()
}

// Per-agent cells of the scenario used below (D1 = 2026-11-02, shop-0001
// unless named; "window" = buyer_msgs_window, "3min" = replied_3min_window,
// Σr = response_ms_sum, pairs = session_pairs_window/3min_ok, fr = first
// response sum/count, wait = wait sum/count, ratings = window/all hours):
//
//	a01 D1 10  buyer 4 window 4 3min 3 replied 4 Σr 450 001 agent 3 pairs 1/0 assign 1 picked 1 fr 90 000/1 wait 30 000/1
//	a01 D1 11  ratings 1/1 satisfied 1/1 (the re-rating; the 10:40 rating is gone)
//	a01 D1 14  buyer 1 window 1 3min 1 replied 1 Σr 60 000 agent 2 pairs 1/1 assign 1 picked 1 fr 30 000/1
//	a02 D1 14  buyer 1 window 1 3min 0 replied 1 Σr 270 000 pairs 1/0 assign 1 picked 0 wait 60 000/1
//	a03 D1 22  buyer 1 window 1 3min 1 replied 1 Σr 30 001 pairs 1/1 assign 1 picked 1 fr 565 000/1 wait 60 000/1
//	a03 D1 23  buyer 2 replied 2 Σr 930 000 agent 2
//	a03 D2 00  buyer 1 replied 1 Σr 60 000 agent 1 ratings 0/1 satisfied 0/1
//	a02 D2 07  buyer 1 replied 1 Σr 20 000 agent 1 assign 1 picked 1 fr 50 000/1 wait 60 000/1
//	a02 D2 08  ratings 1/1 satisfied 0
//	a01 D2 10  agent 2 assign 1 picked 1 fr 5 000/1
//	shop-0002-a01 D1 09  buyer 2 window 2 3min 2 replied 2 Σr 180 000 agent 2 pairs 1/1 assign 1 picked 1 fr 100 000/1 wait 120 000/1 ratings 1/1 satisfied 1/1
//	shop-0003-a01 D1 15  buyer 1 window 1 assign 1 picked 0 pairs 1/0 wait 30 000/1 ratings 1/1 satisfied 0
//
// Shop cells: shop-0001 D1: consult 3 (s1 09, s2 14, s3 22), transferred 3
// all picked, received 3; D2: consult 2 (s4 07, s6 09; s5 is proactive),
// transferred 1 (s4) picked, received 0 (s4 single sentence, s5
// monologue). shop-0002 D1: consult 2, transferred 2, picked 1, received
// 1, abandoned 1. shop-0003 D1: consult 2, transferred 2, picked 0,
// received 0, abandoned 1.

// wantScenario is, per named query of docs/queries.md, its rows on the
// scenario, columns joined by " | " (see formatValue).
var wantScenario = map[string][]string{
	// a01 5 = 4 (s1) + 1 (s2); a02 2 = 1 (s2) + 1 (s4); a03 4 = 1 + 2 + 1 (s3).
	"read_final":  {"shop-0001-a01 | 5", "shop-0001-a02 | 2", "shop-0001-a03 | 4"},
	"read_argmax": {"shop-0001-a01 | 5", "shop-0001-a02 | 2", "shop-0001-a03 | 4"},

	// New York: 09:00 local = 14:00 UTC; 22:00 local on 11-02 = 03:00 UTC on 11-03.
	"time_columns": {
		"2026-11-02 14:00:00 | 2026-11-02 09:00:00 | 2026-11-02 | 9 | 1",
		"2026-11-03 03:00:00 | 2026-11-02 22:00:00 | 2026-11-02 | 22 | 1",
	},

	// a01 D1: (3 + 1) / (4 + 1) = 0.8; a02 D1: 0 / 1; a03 D1: 1 / 1 (the
	// 23:00:00.000 message is outside); D2: no buyer message in 08–23.
	"reply_3min_rate_agent_day": {
		"2026-11-02 | shop-0001-a01 | 4 | 5 | 0.8",
		"2026-11-02 | shop-0001-a02 | 0 | 1 | 0",
		"2026-11-02 | shop-0001-a03 | 1 | 1 | 1",
		"2026-11-03 | shop-0001-a01 | 0 | 0 | NULL",
		"2026-11-03 | shop-0001-a02 | 0 | 0 | NULL",
		"2026-11-03 | shop-0001-a03 | 0 | 0 | NULL",
	},
	// shop-0001 D1: (4 + 0 + 1) / (5 + 1 + 1) = 5/7 = 0.7143 (not the mean
	// of the agents' 0.8, 0, 1).
	"reply_3min_rate_shop_day": {
		"2026-11-02 | shop-0001 | 5 | 7 | 0.7143",
		"2026-11-02 | shop-0002 | 2 | 2 | 1",
		"2026-11-02 | shop-0003 | 0 | 1 | 0",
		"2026-11-03 | shop-0001 | 0 | 0 | NULL",
	},
	// All hours. a01: (450 001 + 60 000) / 5 = 102 000.2 ms → 102.0 s;
	// a02: (270 000 + 20 000) / 2 = 145 s; a03: (30 001 + 930 000 + 60 000)
	// / 4 = 255 000.25 ms → 255.0 s.
	"avg_response_agent_week": {
		"2026-11-02 | shop-0001-a01 | 5 | 102",
		"2026-11-02 | shop-0001-a02 | 2 | 145",
		"2026-11-02 | shop-0001-a03 | 4 | 255",
	},
	// shop-0001 D1: (450 001 + 60 000 + 270 000 + 30 001 + 930 000) / 9 =
	// 193 333.6 ms → 193.3 s; D2: (60 000 + 20 000) / 2 = 40 s; shop-0002:
	// 180 000 / 2 = 90 s; shop-0003: nothing replied.
	"avg_response_shop_day": {
		"2026-11-02 | shop-0001 | 9 | 193.3",
		"2026-11-02 | shop-0002 | 2 | 90",
		"2026-11-02 | shop-0003 | 0 | NULL",
		"2026-11-03 | shop-0001 | 2 | 40",
	},
	// Pairs: (s1, a01) not OK (m4 at 180 001), (s2, a01) OK, (s2, a02) not
	// OK (270 000), (s3, a03) OK (only m1 is in the window).
	"reply_3min_session_rate_agent_month": {
		"2026-11-01 | shop-0001-a01 | 1 | 2 | 0.5",
		"2026-11-01 | shop-0001-a02 | 0 | 1 | 0",
		"2026-11-01 | shop-0001-a03 | 1 | 1 | 1",
	},
	"reply_3min_session_rate_shop_day": {
		"2026-11-02 | shop-0001 | 2 | 4 | 0.5",
		"2026-11-02 | shop-0002 | 1 | 1 | 1",
		"2026-11-02 | shop-0003 | 0 | 1 | 0",
		"2026-11-03 | shop-0001 | 0 | 0 | NULL",
	},
	// a01 D1: (90 000 + 30 000) / 2 = 60 s; a02's D1 assignment was never
	// answered; a03: 565 s; D2 a01 5 s (s5), a02 50 s (s4).
	"first_response_agent_day": {
		"2026-11-02 | shop-0001-a01 | 2 | 60",
		"2026-11-02 | shop-0001-a02 | 0 | NULL",
		"2026-11-02 | shop-0001-a03 | 1 | 565",
		"2026-11-03 | shop-0001-a01 | 1 | 5",
		"2026-11-03 | shop-0001-a02 | 1 | 50",
		"2026-11-03 | shop-0001-a03 | 0 | NULL",
	},
	// shop-0001: (90 000 + 30 000 + 565 000 + 5 000 + 50 000) / 5 = 148 s.
	"first_response_shop_week": {
		"2026-11-02 | shop-0001 | 5 | 148",
		"2026-11-02 | shop-0002 | 1 | 100",
		"2026-11-02 | shop-0003 | 0 | NULL",
	},
	// a03 D1: 2 agent messages (23:00:30, 23:35) ÷ 3 buyer messages; D2:
	// 1 ÷ 1. a01 D2: s5's 2 messages, no buyer message.
	"qa_ratio_agent_day": {
		"2026-11-02 | shop-0001-a01 | 5 | 5 | 1",
		"2026-11-02 | shop-0001-a02 | 0 | 1 | 0",
		"2026-11-02 | shop-0001-a03 | 2 | 3 | 0.6667",
		"2026-11-03 | shop-0001-a01 | 2 | 0 | NULL",
		"2026-11-03 | shop-0001-a02 | 1 | 1 | 1",
		"2026-11-03 | shop-0001-a03 | 1 | 1 | 1",
	},
	// shop-0001 D1: (5 + 0 + 2) / (5 + 1 + 3); D2: (2 + 1 + 1) / (0 + 1 + 1).
	"qa_ratio_shop_day": {
		"2026-11-02 | shop-0001 | 7 | 9 | 0.7778",
		"2026-11-02 | shop-0002 | 2 | 2 | 1",
		"2026-11-02 | shop-0003 | 0 | 1 | 0",
		"2026-11-03 | shop-0001 | 4 | 2 | 2",
	},
	// s5 (proactive) is no consultation; s6 (robot only) is one.
	"consult_sessions_shop_day": {
		"2026-11-02 | shop-0001 | 3",
		"2026-11-02 | shop-0002 | 2",
		"2026-11-02 | shop-0003 | 2",
		"2026-11-03 | shop-0001 | 2",
	},
	// Hours with a shop row: 0 (s3's messages), 7 (s4), 9 (s1 on D1, s6 on
	// D2), 10 (s1's transfer, s5), 14 (s2), 22 (s3), 23 (s3's messages).
	"consult_sessions_shop_hour_of_day": {"0 | 0", "7 | 1", "9 | 2", "10 | 0", "14 | 1", "22 | 1", "23 | 0"},
	"consult_sessions_channel_day": {
		"2026-11-02 | app | 2",
		"2026-11-02 | web | 1",
		"2026-11-03 | app | 1",
		"2026-11-03 | web | 1",
	},
	"transferred_sessions_shop_day": {
		"2026-11-02 | shop-0001 | 3",
		"2026-11-02 | shop-0002 | 2",
		"2026-11-02 | shop-0003 | 2",
		"2026-11-03 | shop-0001 | 1",
	},
	// By last agent: s1 and s2 ended with a01, s3 with a03, s4 with a02.
	"transferred_sessions_agent_day": {
		"2026-11-02 | shop-0001-a01 | 2",
		"2026-11-02 | shop-0001-a03 | 1",
		"2026-11-03 | shop-0001-a02 | 1",
	},
	// shop-0002: s1 picked, s2 abandoned; shop-0003: s1 abandoned, s2
	// never answered; D2: s4's single sentence is a pickup.
	"pickup_rate_shop_day": {
		"2026-11-02 | shop-0001 | 3 | 3 | 1",
		"2026-11-02 | shop-0002 | 1 | 2 | 0.5",
		"2026-11-02 | shop-0003 | 0 | 2 | 0",
		"2026-11-03 | shop-0001 | 1 | 1 | 1",
	},
	"pickup_rate_agent_day": {
		"2026-11-02 | shop-0001-a01 | 2 | 2 | 1",
		"2026-11-02 | shop-0001-a02 | 0 | 1 | 0",
		"2026-11-02 | shop-0001-a03 | 1 | 1 | 1",
		"2026-11-03 | shop-0001-a01 | 1 | 1 | 1",
		"2026-11-03 | shop-0001-a02 | 1 | 1 | 1",
		"2026-11-03 | shop-0001-a03 | 0 | 0 | NULL",
	},
	// D2: s4 (agent single sentence) and s5 (monologue) are filtered.
	"received_sessions_shop_day": {
		"2026-11-02 | shop-0001 | 3",
		"2026-11-02 | shop-0002 | 1",
		"2026-11-02 | shop-0003 | 0",
		"2026-11-03 | shop-0001 | 0",
	},
	"received_sessions_agent_day": {
		"2026-11-02 | shop-0001-a01 | 2 | 2 | 2",
		"2026-11-02 | shop-0001-a03 | 1 | 1 | 1",
		"2026-11-03 | shop-0001-a01 | 0 | 1 | 1",
		"2026-11-03 | shop-0001-a02 | 0 | 1 | 1",
	},
	// a01's transfer in s2 is no wait; a02's wait is s2's queue (D1) and
	// s4's (D2).
	"avg_wait_agent_day": {
		"2026-11-02 | shop-0001-a01 | 1 | 30",
		"2026-11-02 | shop-0001-a02 | 1 | 60",
		"2026-11-02 | shop-0001-a03 | 1 | 60",
		"2026-11-03 | shop-0001-a01 | 0 | NULL",
		"2026-11-03 | shop-0001-a02 | 1 | 60",
		"2026-11-03 | shop-0001-a03 | 0 | NULL",
	},
	// shop-0001 D1: (30 000 + 60 000 + 60 000) / 3 = 50 s.
	"avg_wait_shop_day": {
		"2026-11-02 | shop-0001 | 3 | 50",
		"2026-11-02 | shop-0002 | 1 | 120",
		"2026-11-02 | shop-0003 | 1 | 30",
		"2026-11-03 | shop-0001 | 1 | 60",
	},
	"abandoned_sessions_shop_day": {
		"2026-11-02 | shop-0001 | 0 | 3 | 0",
		"2026-11-02 | shop-0002 | 1 | 2 | 0.5",
		"2026-11-02 | shop-0003 | 1 | 2 | 0.5",
		"2026-11-03 | shop-0001 | 0 | 1 | 0",
	},
	// started_at is UTC: New York 22:30 = 03:30 next day; Shanghai 12:00 =
	// 04:00. Durations 210 s and 250 s.
	"abandoned_sessions_list": {
		"shop-0002 | shop-0002-s2 | shop-0002-b2 | 2026-11-03 03:30:00 | 210",
		"shop-0003 | shop-0003-s1 | shop-0003-b1 | 2026-11-02 04:00:00 | 250",
	},
	// a01: s1's 5 (re-rated from 2) at 11:10; a02: s4's 3 at 08:00:00.000,
	// in the window; a03: s3's 4 at 00:20, outside it.
	"satisfaction_rate_agent_week": {
		"2026-11-02 | shop-0001-a01 | 1 | 1 | 1 | 1",
		"2026-11-02 | shop-0001-a02 | 0 | 1 | 1 | 0",
		"2026-11-02 | shop-0001-a03 | 0 | 0 | 1 | NULL",
	},
	"satisfaction_rate_shop_day": {
		"2026-11-02 | shop-0001 | 1 | 1 | 1",
		"2026-11-02 | shop-0002 | 1 | 1 | 1",
		"2026-11-02 | shop-0003 | 0 | 1 | 0",
		"2026-11-03 | shop-0001 | 0 | 1 | 0",
	},
	// reply_3min, session, response, first response, Q/A, pickup, wait,
	// satisfaction. a01: 4/5, 1/2, 102.0, (90 000 + 30 000 + 5 000)/3 =
	// 41.7 s, 7/5, 3/3, 30, 1/1. a02: 0/1, 0/1, 145, 50, 1/2, 1/2,
	// (60 000 + 60 000)/2 = 60, 0/1. a03: 1/1, 1/1, 255, 565, 3/4, 1/1, 60,
	// none in the window.
	"agent_week_dashboard": {
		"2026-11-02 | shop-0001-a01 | 0.8 | 0.5 | 102 | 41.7 | 1.4 | 1 | 30 | 1",
		"2026-11-02 | shop-0001-a02 | 0 | 0 | 145 | 50 | 0.5 | 0.5 | 60 | 0",
		"2026-11-02 | shop-0001-a03 | 1 | 1 | 255 | 565 | 0.75 | 1 | 60 | NULL",
	},
	// hour_of_day 9..17 keeps a01's hours 10, 11, 14 and s5's 10 on D2 and
	// a02's 14; not a03 (22, 23, 0) nor a02's 07 and 08.
	"agent_day_office_hours": {
		"2026-11-02 | shop-0001-a01 | 0.8 | 102 | 1 | 1",
		"2026-11-02 | shop-0001-a02 | 0 | 270 | 0 | NULL",
		"2026-11-03 | shop-0001-a01 | NULL | NULL | 1 | NULL",
	},
	// pre-sales = a01 + a02: 3min (4 + 0)/(5 + 1); pairs (1 + 0)/(2 + 1);
	// pickup (3 + 1)/(3 + 2); wait (30 000 + 120 000)/3; satisfaction
	// (1 + 0)/(1 + 1).
	"group_month_dashboard": {
		"2026-11-01 | after-sales | 1 | 1 | 1 | 60 | NULL",
		"2026-11-01 | pre-sales | 0.6667 | 0.3333 | 0.8 | 50 | 0.5",
	},
	"shop_day_dashboard": {
		"2026-11-02 | shop-0001 | 3 | 3 | 3 | 0 | 1 | 0.7143 | 193.3 | 50 | 1",
		"2026-11-02 | shop-0002 | 2 | 2 | 1 | 1 | 0.5 | 1 | 90 | 120 | 1",
		"2026-11-02 | shop-0003 | 2 | 2 | 0 | 1 | 0 | 0 | NULL | 30 | 0",
		"2026-11-03 | shop-0001 | 2 | 1 | 0 | 0 | 1 | NULL | 40 | 60 | 0",
	},
	// 2026-11-02 session-level rates: a03 1/1, a01 1/2, a02 0/1; the shop
	// 2/4.
	"leaderboard_shop_day": {
		"shop-0001 | 1 | shop-0001-a03 | 1 | 1 | 0.5",
		"shop-0001 | 2 | shop-0001-a01 | 0.5 | 2 | 0.5",
		"shop-0001 | 3 | shop-0001-a02 | 0 | 1 | 0.5",
		"shop-0002 | 1 | shop-0002-a01 | 1 | 1 | 1",
		"shop-0003 | 1 | shop-0003-a01 | 0 | 1 | 0",
	},
	"session_timeline": {
		"shop-0001-s2 | shop-0001-b2 | buyer | web | 2026-11-02 14:00:00 | 60 | shop-0001-a02 → shop-0001-a01 | 320 | " +
			"2026-11-02 14:10:00 | ended | 600 | 2 | 2 | 0 | 1 | 1 | NULL | ''",
	},
	// s1: 09:58 → 10:30 = 1 920 s, first answer 10:02 − 10:00:30.
	"agent_sessions_day": {
		"2026-11-02 09:58:00 | shop-0001-s1 | shop-0001-a01 | 1920 | 90 | 1 | 5",
		"2026-11-02 14:00:00 | shop-0001-s2 | shop-0001-a02 → shop-0001-a01 | 600 | 320 | 1 | NULL",
	},
	"sessions_filtered_count": {"agent_single_sentence | 1", "monologue | 1"},
	"sessions_filtered_list": {
		"shop-0001-s4 | buyer | 2026-11-03 07:30:00 | shop-0001-a02 | 1 | 1 | agent_single_sentence",
		"shop-0001-s5 | proactive | 2026-11-03 10:00:00 | shop-0001-a01 | 0 | 2 | monologue",
	},
	"sessions_unpicked": {
		"shop-0002 | shop-0002-s2 | 2026-11-03 03:30:00 | '' | 1 | 0 | 0",
		"shop-0003 | shop-0003-s1 | 2026-11-02 04:00:00 | '' | 1 | 0 | 0",
		"shop-0003 | shop-0003-s2 | 2026-11-02 07:00:00 | shop-0003-a01 | 0 | 30 | 1",
	},
	// s1's first rating (2) was replaced by a 5: it is not low any more.
	"sessions_low_rating": {
		"shop-0001 | shop-0001-s4 | shop-0001-a02 | 3 | 2026-11-02 23:30:00",
		"shop-0003 | shop-0003-s2 | shop-0003-a01 | 1 | 2026-11-02 07:00:00",
	},
}

// metricQueries names, for every metric of SPEC §3.1–3.3, the queries of
// the page that must exist and be checked against the scenario.
var metricQueries = map[string][]string{
	"3-minute reply rate (message)": {"reply_3min_rate_agent_day", "reply_3min_rate_shop_day"},
	"average response time":         {"avg_response_agent_week", "avg_response_shop_day"},
	"3-minute reply rate (session)": {"reply_3min_session_rate_agent_month", "reply_3min_session_rate_shop_day"},
	"first response time":           {"first_response_agent_day", "first_response_shop_week"},
	"Q/A ratio":                     {"qa_ratio_agent_day", "qa_ratio_shop_day"},
	"consult sessions":              {"consult_sessions_shop_day"},
	"transferred sessions":          {"transferred_sessions_shop_day", "transferred_sessions_agent_day"},
	"pickup rate":                   {"pickup_rate_shop_day", "pickup_rate_agent_day"},
	"received sessions":             {"received_sessions_shop_day", "received_sessions_agent_day"},
	"average wait":                  {"avg_wait_agent_day", "avg_wait_shop_day"},
	"abandoned":                     {"abandoned_sessions_shop_day"},
	"satisfaction rate":             {"satisfaction_rate_agent_week", "satisfaction_rate_shop_day"},
	"rollups":                       {"agent_week_dashboard", "agent_day_office_hours", "group_month_dashboard", "shop_day_dashboard", "leaderboard_shop_day"},
}

func TestDocQueriesScenario(t *testing.T) {
	queries := loadDocQueries(t)
	byName := map[string]docQuery{}
	for _, q := range queries {
		byName[q.name] = q
	}
	for metric, names := range metricQueries {
		for _, n := range names {
			if _, ok := byName[n]; !ok {
				t.Errorf("docs/queries.md has no query %q (%s)", n, metric)
			}
			if _, ok := wantScenario[n]; !ok {
				t.Errorf("query %q (%s) has no expected rows", n, metric)
			}
		}
	}
	for n := range wantScenario {
		if _, ok := byName[n]; !ok {
			t.Errorf("expected rows for %q, which docs/queries.md does not have", n)
		}
	}

	h := newHarness(t)
	h.cfg.Time.ShopZones = scenarioZones
	recs := queryScenario()
	h.produce(recs)
	sum := h.run()
	if sum.Events != int64(len(recs)) || sum.DeadLetters != 0 {
		t.Fatalf("applied %d events with %d dead letters, want %d and 0", sum.Events, sum.DeadLetters, len(recs))
	}

	conn := testenv.Conn(t, h.chAddr, h.cfg.ClickHouse.Database)
	for _, q := range queries {
		want, ok := wantScenario[q.name]
		if !ok {
			t.Errorf("query %s: no expected rows in wantScenario; add them (worked out by hand)", q.name)
			continue
		}
		t.Run(q.name, func(t *testing.T) {
			got := queryRows(t, conn, q.sql)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n got: %s\nwant: %s\n%s", q.name,
					strings.Join(got, "\n      "), strings.Join(want, "\n      "), q.sql)
			}
		})
	}
}

// TestDocQueriesGenerated runs every block of the page on a generated day
// of three shops (one in America/New_York) and requires rows from each:
// the literals of the page must fit what the pipeline writes for real
// traffic.
func TestDocQueriesGenerated(t *testing.T) {
	queries := loadDocQueries(t)
	h := newHarness(t)
	gen := generator.DefaultConfig()
	gen.Seed = 11
	gen.Shops = 3
	gen.AgentsPerShop = 4
	gen.SessionsPerShopDay = 300
	gen.DuplicateRate = 0.01
	h.cfg.Time.ShopZones = gen.ShopZones()

	cl, err := kgo.NewClient(kgo.SeedBrokers(h.broker.Addr()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var produceErr error
	stats, err := generator.Generate(ctx, gen, func(r *generator.Record) error {
		// The generator reuses its buffers: copy.
		rec := &kgo.Record{Topic: r.Topic, Key: append([]byte(nil), r.Key...), Value: append([]byte(nil), r.Value...)}
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil && produceErr == nil {
				produceErr = err
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Flush(ctx); err != nil || produceErr != nil {
		t.Fatalf("produce: %v %v", err, produceErr)
	}
	cl.Close()
	sum := h.run()
	// Duplicates are applied (and change nothing), so at least every event.
	if sum.DeadLetters != 0 || sum.Events < stats.Events {
		t.Errorf("applied %d events with %d dead letters; the generator made %d events, no poison", sum.Events, sum.DeadLetters, stats.Events)
	}

	conn := testenv.Conn(t, h.chAddr, h.cfg.ClickHouse.Database)
	for _, q := range queries {
		if got := queryRows(t, conn, q.sql); len(got) == 0 {
			t.Errorf("query %s returned no rows on generated traffic:\n%s", q.name, q.sql)
		}
	}
	// The two read shapes agree on real data too.
	final, argmax := queryRows(t, conn, findQuery(t, queries, "read_final")), queryRows(t, conn, findQuery(t, queries, "read_argmax"))
	if !reflect.DeepEqual(final, argmax) {
		t.Errorf("FINAL and argMax shapes differ:\n%v\n%v", final, argmax)
	}
}

func findQuery(t *testing.T, qs []docQuery, name string) string {
	t.Helper()
	for _, q := range qs {
		if q.name == name {
			return q.sql
		}
	}
	t.Fatalf("no query %s", name)
	return ""
}

// queryRows runs sql and renders each row as its values joined by " | ".
func queryRows(t *testing.T, conn driver.Conn, sql string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("query fails: %v\n%s", err, sql)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	out := []string{}
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("scan: %v\n%s", err, sql)
		}
		vals := make([]string, len(dest))
		for i, d := range dest {
			vals[i] = formatValue(reflect.ValueOf(d).Elem(), types[i].DatabaseTypeName())
		}
		out = append(out, strings.Join(vals, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows: %v\n%s", err, sql)
	}
	return out
}

// formatValue renders one value the way wantScenario writes it: NULL for
// NULL, two apostrophes for an empty string, dates as 2006-01-02,
// date-times in the column's zone as 2006-01-02 15:04:05, numbers in their
// shortest form, arrays as [a,b].
func formatValue(v reflect.Value, dbType string) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		if strings.Contains(dbType, "DateTime") {
			return x.Format("2006-01-02 15:04:05")
		}
		return x.Format("2006-01-02")
	case string:
		if x == "" {
			return "''"
		}
		return x
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) {
			return "nan"
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatValue(v.Index(i), "")
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprint(v.Interface())
}
