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

	"github.com/cspulse/cspulse/generator"
	"github.com/cspulse/cspulse/internal/pipetest"
	"github.com/cspulse/cspulse/internal/testenv"
)

// The analysts' queries of docs/queries.md, run on the whole path: events
// → embedded Kafka → runner and engine → real ClickHouse → each named sql
// block of the page. TestDocQueriesScenario checks their results against
// figures worked out by hand from SPEC §3 for two small scenarios (service
// metrics, sections 1–6; sales attribution and robot calls, section 7);
// TestDocQueriesGenerated runs every block on a generated day of traffic
// and requires rows from each (none from a consistency check).

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
// silent, the decisions written in metrics/doc.go). Times are
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
	tOrders      = "cs.orders"
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
func robotCall(sess, buyer, task, robot string) string {
	return fmt.Sprintf(`,"type":"started","session_id":%q,"buyer_id":%q,"origin":"robot_outbound","channel":"phone","task_id":%q,"robot_id":%q`, sess, buyer, task, robot)
}
func endedIntent(sess, intent string) string {
	return fmt.Sprintf(`,"type":"ended","session_id":%q,"intent":%q`, sess, intent)
}
func orderCreated(order, buyer string, amount int) string {
	return fmt.Sprintf(`,"type":"created","order_id":%q,"buyer_id":%q,"amount":%d`, order, buyer, amount)
}
func orderPaid(order, buyer string, amount int) string {
	return fmt.Sprintf(`,"type":"paid","order_id":%q,"buyer_id":%q,"amount":%d`, order, buyer, amount)
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
	// The shop_day_dashboard figures of 2026-11-02 (consult, received,
	// 3-min rate, response, pickup, wait, satisfaction); no order in this
	// scenario: sales 0, no silent share.
	"monitor_shop_day": {
		"shop-0001 | 3 | 3 | 0.7143 | 193.3 | 1 | 50 | 1 | 0 | NULL",
		"shop-0002 | 2 | 1 | 1 | 90 | 0.5 | 120 | 1 | 0 | NULL",
		"shop-0003 | 2 | 0 | 0 | NULL | 0 | 30 | 0 | 0 | NULL",
	},
	// shop-0001 (UTC+8) on 2026-11-02: local 10 (02 UTC) s1's m1–m4, 3
	// within; 11 (03 UTC) only the re-rating; 14 (06 UTC) s2's m1 (a02, not
	// within) and m2 (a01, within); 22 (14 UTC) s3's m1; 23 (15 UTC) m2 and
	// m3, outside the window.
	"reply_volume_shop_hour": {
		"2026-11-02 02:00:00 | 4 | 4 | 3 | 0.75",
		"2026-11-02 03:00:00 | 0 | 0 | 0 | NULL",
		"2026-11-02 06:00:00 | 2 | 2 | 1 | 0.5",
		"2026-11-02 14:00:00 | 1 | 1 | 1 | 1",
		"2026-11-02 15:00:00 | 2 | 0 | 0 | NULL",
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
	// First response from the first assignment, NULL when no agent spoke
	// after it; rating NULL when none. shop-0001 D1: s1 90 000, s2 320 000,
	// s3 565 000 → 325 s; ratings 5 (s1), 4 (s3). D2: s4 50 000, s5 5 000,
	// s6 none → 27.5 s; rating 3 (s4). shop-0002 D1 (local): s1 100 000,
	// s2 none; rating 5. shop-0003 D1: s1 unassigned, s2 never answered;
	// rating 1.
	"sessions_averages_day": {
		"shop-0001 | 2026-11-02 | 3 | 3 | 325 | 2 | 4.5",
		"shop-0001 | 2026-11-03 | 3 | 2 | 27.5 | 1 | 3",
		"shop-0002 | 2026-11-02 | 2 | 1 | 100 | 1 | 5",
		"shop-0003 | 2026-11-02 | 2 | 0 | NULL | 1 | 1",
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

// ---------------------------------------------------------------------------
// The sales and robot scenario (SPEC §3.4–3.5), run on a pipeline and a
// database of its own so that the figures of sections 1–6 above stay as
// they are. Same shops, zones and agents; default settings: rule
// order_first, inquiry_valid_days 2. D1 = Mon 2026-11-02, D2 = Tue 11-03,
// D3 = Wed 11-04; Sun 11-08 still belongs to the week of Monday 11-02,
// Mon 11-09 starts the next one. Amounts in fen.
//
// Inquiry sessions (inquirySession): started hh:mm, queued +10 s, assigned
// +40 s, buyer +1:00 (the inquiry time, SPEC §3.4: the first human-phase
// buyer message), agent reply +1:30, buyer +2:00, agent +2:30, ended +5:00:
// picked, a reception (two agent messages, the buyer spoke after them),
// origin buyer, the first human-phase message replied → an inquiry at
// hh:(mm+1) to the assigned agent, in its group; valid (doc.go) for
// instants in [hh:(mm+1), start of the local day after next).
//
//	I1  s1  b1 → a01 pre-sales    D1 10:01, valid until D3 00:00
//	I2  s2  b3 → a02 pre-sales    D1 11:01, until D3 00:00
//	I3  s3  b3 → a03 after-sales  D1 16:01, until D3 00:00
//	I4  s4  b1 → a01 pre-sales    D1 19:01, until D3 00:00 (b1's second, same agent and day)
//	I5  s5  b4 → a02 pre-sales    D2 09:01, until 11-05 00:00
//	I7  s7  b4 → a01 pre-sales    D2 13:01, until 11-05 00:00
//	I8  s8  b6 → a02 pre-sales    D2 15:01, until 11-05 00:00
//	I10 s10 b8 → a01 pre-sales    Sun 11-08 22:01, until 11-10 00:00
//	J1  shop-0002-s1 b1 → shop-0002-a01 pre-sales, 11-02 21:01 New York
//	    (= 11-03 02:01 UTC), until 11-04 00:00 New York
//
// No inquiry: s6 (b5, D2 10:00) is proactive — assigned a01, a01 10:00:05,
// buyer 10:01, a01 10:01:30, ended 10:05: a real conversation, but 客服主动
// 跟进不算询单. s9 (b7, D2 16:00, after-sales/a03): buyer 16:01, a03
// 16:01:30, ended 16:03 — the agent's single sentence, a filtered
// reception (§3.6), so no inquiry although the buyer was answered.
//
// Orders (credit: order_first = the order agent, the agent of the latest
// valid inquiry at or before `created`, else the pay agent, at or before
// `paid`; the sale in the hour of `paid`; cs_inquiry_daily through the
// crediting inquiry, paid there when paid before its validity ended):
//
//	o1  b1 created D1 10:20, paid D1 10:25, 29 900: latest valid ≤ 10:20 is
//	    I1 → a01, hour D1 10; I1's row (a01, 11-02): ordered, paid 29 900.
//	o2  b1 created D2 20:00, paid D2 23:59:59.999, 19 900: the next day,
//	    I4 (19:01 > 10:01) still valid → a01, hour D2 23; paid 1 ms before
//	    I4's validity ends → (a01, 11-02) paid +19 900.
//	o3  b1 created D3 00:00:00.000, paid D3 00:05, 9 900: day D+2; I1 and
//	    I4 ended at D3 00:00 (half-open) → silent, hour D3 0.
//	o4  b2 created D1 14:58, paid D1 15:00, 5 990: b2 never asked → silent,
//	    hour D1 15.
//	o5  b3 created D1 16:30, paid D1 16:35, 12 900: two inquiries, I2 (a02
//	    11:01) and I3 (a03 16:01); the latest wins → a03 after-sales, hour
//	    D1 16; (a03, 11-02) ordered, paid 12 900; (a02, 11-02) nothing.
//	o6  b4 created D2 09:30, paid D2 14:00, 49 900: order agent a02 (I5),
//	    pay agent a01 (I7 at 13:01, between the two) → order_first: a02,
//	    hour D2 14; (a02, 11-03) ordered, paid 49 900; (a01, 11-03) nothing.
//	o7  b5 created D2 10:30, paid D2 10:31, 3 990: after the proactive s6
//	    only → silent, hour D2 10.
//	o8  b6 created D2 15:30, 2 990, never paid: no sale; through I8
//	    (a02, 11-03): ordered, not paid.
//	o9  b1 created D2 22:00, paid D3 01:00, 8 980: order agent a01 (I4,
//	    valid at 22:00) → a sale of a01, hour D3 01; paid after I4's
//	    validity → (a01, 11-02) not paid there, no amount (doc.go).
//	o10 b7 created D2 16:20, paid D2 16:30, 7 990: s9 was no inquiry →
//	    silent, hour D2 16.
//	o11 b8 created Mon 11-09 08:50, paid 09:00, 99 900: I10 (Sun 22:01,
//	    valid through Mon) → a01, hour 11-09 09; (a01, 11-08) ordered, paid
//	    99 900.
//	shop-0002-o1 b1 created 11-03 23:00, paid 23:30 New York (11-04 04:30
//	    UTC), 15 000: J1 still valid → shop-0002-a01, local day 11-03;
//	    (shop-0002-a01, 11-02) ordered, paid 15 000.
//	shop-0002-o2 b2 created 11-02 09:55, paid 10:00 New York, 2 000: silent.
//
// Robot outbound calls of shop-0001 (origin robot_outbound; counted in the
// local hour of `started`; connected = ≥ 1 buyer message; intent of the
// closing `ended`, '' when it names none or the call timed out):
//
//	r1 task-01 robot-1 D1 10:15  buyer 10:15:20, robot, ended A    connected
//	r2 task-01 robot-1 D1 10:40  robot only, ended without intent  not connected, ''
//	r3 task-01 robot-2 D1 11:05  buyer, ended B                    connected
//	r4 task-02 robot-1 D1 14:10  buyer, ended B                    connected
//	r5 task-02 robot-2 D2 09:20  buyer, robot 09:20:30, no ended: times out at 09:50:30, ''  connected
//	r6 task-02 robot-1 D2 11:10  buyer, ended G (not A–F: "other") connected
//	r7 task-02 robot-1 D2 11:30  robot only, ended F               not connected
//	r8 task-01 robot-1 11-09 10:30  buyer, ended A                 connected
//
// Robot calls add nothing to cs_shop_hourly (not a consult session, no
// human phase; no figure below depends on it). cs_shop_hourly rows of
// shop-0001, by the events above: D1 hours 10 (s1, o1), 11 (s2), 15 (o4,
// paid; a `created` writes nothing), 16 (s3, o5), 19 (s4); D2 hours 9
// (s5), 10 (s6, o7), 13 (s7), 14 (o6), 15 (s8), 16 (s9, o10), 23 (o2); D3
// hours 0 (o3), 1 (o9); 11-08 hour 22 (s10); 11-09 hour 9 (o11). Paid per
// hour:
//
//	D1 10 a01 29 900 · D1 15 silent 5 990 · D1 16 a03 12 900
//	D2 10 silent 3 990 · D2 14 a02 49 900 · D2 16 silent 7 990 · D2 23 a01 19 900
//	D3 00 silent 9 900 · D3 01 a01 8 980 · 11-09 09 a01 99 900
//
// Days: D1 total 29 900 + 5 990 + 12 900 = 48 790, agents 42 800, silent
// 5 990, 3 orders; D2 3 990 + 49 900 + 7 990 + 19 900 = 81 780, agents
// 69 800, silent 11 980, 4 orders; D3 9 900 + 8 980 = 18 880, agents 8 980,
// silent 9 900, 2 orders; 11-08 nothing paid; 11-09 99 900, all a01's.
// November: total 48 790 + 81 780 + 18 880 + 99 900 = 249 350, agents
// 221 480, silent 27 870. Agents: a01 29 900 + 19 900 + 8 980 + 99 900 =
// 158 680 (4 orders), a02 49 900, a03 12 900.
//
// cs_inquiry_daily of shop-0001 (inquiry, ordered, paid buyers, amount):
//
//	(a01, 11-02)  b1 (I1, I4)      1, 1 (o1, o2, o9), 1 (o1, o2), 29 900 + 19 900 = 49 800
//	(a02, 11-02)  b3 (I2)          1, 0, 0, 0
//	(a03, 11-02)  b3 (I3)          1, 1 (o5), 1, 12 900
//	(a01, 11-03)  b4 (I7)          1, 0, 0, 0
//	(a02, 11-03)  b4 (I5), b6 (I8) 2, 2 (o6, o8), 1 (o6), 49 900
//	(a01, 11-08)  b8 (I10)         1, 1 (o11), 1, 99 900
//
// shop-0002: (shop-0002-a01, 11-02) 1, 1, 1, 15 000.
// ---------------------------------------------------------------------------

// clockPlus adds d to a shop-local wall clock "2006-01-02 15:04".
func clockPlus(start string, d time.Duration) string {
	t, err := time.Parse("2006-01-02 15:04", start)
	if err != nil {
		panic(err)
	}
	return t.Add(d).Format("2006-01-02 15:04:05.000")
}

// inquirySession adds a buyer session that is an inquiry to agent at
// start + 1 min (see above).
func (s *scenario) inquirySession(shop, sess, buyer, group, agent, start string) {
	s.at(tSessions, shop, clockPlus(start, 0), started(sess, buyer, "buyer", "app"))
	s.at(tTransfers, shop, clockPlus(start, 10*time.Second), queued(sess, group))
	s.at(tTransfers, shop, clockPlus(start, 40*time.Second), assigned(sess, group, agent))
	s.at(tMessages, shop, clockPlus(start, time.Minute), buyerSays(sess))
	s.at(tMessages, shop, clockPlus(start, 90*time.Second), agentSays(sess, agent))
	s.at(tMessages, shop, clockPlus(start, 2*time.Minute), buyerSays(sess))
	s.at(tMessages, shop, clockPlus(start, 150*time.Second), agentSays(sess, agent))
	s.at(tSessions, shop, clockPlus(start, 5*time.Minute), ended(sess))
}

// order adds an order's `created` and, when paid is not "", its `paid`.
func (s *scenario) order(shop, id, buyer string, amount int, created, paid string) {
	s.at(tOrders, shop, created, orderCreated(id, buyer, amount))
	if paid != "" {
		s.at(tOrders, shop, paid, orderPaid(id, buyer, amount))
	}
}

// salesScenario is the sales and robot scenario described above.
func salesScenario() []record {
	s := &scenario{}
	const (
		sh1, sh2      = "shop-0001", "shop-0002"
		a01, a02, a03 = "shop-0001-a01", "shop-0001-a02", "shop-0001-a03"
		pre, after    = "pre-sales", "after-sales"
		b1, b2, b3    = "shop-0001-b1", "shop-0001-b2", "shop-0001-b3"
		b4, b5, b6    = "shop-0001-b4", "shop-0001-b5", "shop-0001-b6"
		b7, b8        = "shop-0001-b7", "shop-0001-b8"
	)

	// Inquiries.
	s.inquirySession(sh1, "shop-0001-s1", b1, pre, a01, "2026-11-02 10:00")   // I1
	s.inquirySession(sh1, "shop-0001-s2", b3, pre, a02, "2026-11-02 11:00")   // I2
	s.inquirySession(sh1, "shop-0001-s3", b3, after, a03, "2026-11-02 16:00") // I3
	s.inquirySession(sh1, "shop-0001-s4", b1, pre, a01, "2026-11-02 19:00")   // I4
	s.inquirySession(sh1, "shop-0001-s5", b4, pre, a02, "2026-11-03 09:00")   // I5
	s.inquirySession(sh1, "shop-0001-s7", b4, pre, a01, "2026-11-03 13:00")   // I7
	s.inquirySession(sh1, "shop-0001-s8", b6, pre, a02, "2026-11-03 15:00")   // I8
	s.inquirySession(sh1, "shop-0001-s10", b8, pre, a01, "2026-11-08 22:00")  // I10
	// J1, in New York.
	s.inquirySession(sh2, "shop-0002-s1", "shop-0002-b1", pre, "shop-0002-a01", "2026-11-02 21:00")

	// No inquiry: proactive (s6), and a filtered reception (s9).
	s6 := "shop-0001-s6"
	s.at(tSessions, sh1, "2026-11-03 10:00:00", started(s6, b5, "proactive", "app"))
	s.at(tTransfers, sh1, "2026-11-03 10:00:00", assigned(s6, pre, a01))
	s.at(tMessages, sh1, "2026-11-03 10:00:05", agentSays(s6, a01))
	s.at(tMessages, sh1, "2026-11-03 10:01:00", buyerSays(s6))
	s.at(tMessages, sh1, "2026-11-03 10:01:30", agentSays(s6, a01))
	s.at(tSessions, sh1, "2026-11-03 10:05:00", ended(s6))
	s9 := "shop-0001-s9"
	s.at(tSessions, sh1, "2026-11-03 16:00:00", started(s9, b7, "buyer", "app"))
	s.at(tTransfers, sh1, "2026-11-03 16:00:10", queued(s9, after))
	s.at(tTransfers, sh1, "2026-11-03 16:00:40", assigned(s9, after, a03))
	s.at(tMessages, sh1, "2026-11-03 16:01:00", buyerSays(s9))
	s.at(tMessages, sh1, "2026-11-03 16:01:30", agentSays(s9, a03))
	s.at(tSessions, sh1, "2026-11-03 16:03:00", ended(s9))

	// Orders.
	s.order(sh1, "shop-0001-o1", b1, 29900, "2026-11-02 10:20:00", "2026-11-02 10:25:00")
	s.order(sh1, "shop-0001-o2", b1, 19900, "2026-11-03 20:00:00", "2026-11-03 23:59:59.999")
	s.order(sh1, "shop-0001-o3", b1, 9900, "2026-11-04 00:00:00.000", "2026-11-04 00:05:00")
	s.order(sh1, "shop-0001-o4", b2, 5990, "2026-11-02 14:58:00", "2026-11-02 15:00:00")
	s.order(sh1, "shop-0001-o5", b3, 12900, "2026-11-02 16:30:00", "2026-11-02 16:35:00")
	s.order(sh1, "shop-0001-o6", b4, 49900, "2026-11-03 09:30:00", "2026-11-03 14:00:00")
	s.order(sh1, "shop-0001-o7", b5, 3990, "2026-11-03 10:30:00", "2026-11-03 10:31:00")
	s.order(sh1, "shop-0001-o8", b6, 2990, "2026-11-03 15:30:00", "")
	s.order(sh1, "shop-0001-o9", b1, 8980, "2026-11-03 22:00:00", "2026-11-04 01:00:00")
	s.order(sh1, "shop-0001-o10", b7, 7990, "2026-11-03 16:20:00", "2026-11-03 16:30:00")
	s.order(sh1, "shop-0001-o11", b8, 99900, "2026-11-09 08:50:00", "2026-11-09 09:00:00")
	s.order(sh2, "shop-0002-o1", "shop-0002-b1", 15000, "2026-11-03 23:00:00", "2026-11-03 23:30:00")
	s.order(sh2, "shop-0002-o2", "shop-0002-b2", 2000, "2026-11-02 09:55:00", "2026-11-02 10:00:00")

	// Robot outbound calls.
	call := func(sess, buyer, task, robot, start string, buyerSpeaks bool, end string, intent string) {
		s.at(tSessions, sh1, clockPlus(start, 0), robotCall(sess, buyer, task, robot))
		if buyerSpeaks {
			s.at(tMessages, sh1, clockPlus(start, 20*time.Second), buyerSays(sess))
		}
		s.at(tMessages, sh1, clockPlus(start, 30*time.Second), robotSays(sess))
		switch {
		case end == "":
			// no `ended`: the session times out
		case intent == "":
			s.at(tSessions, sh1, end, ended(sess))
		default:
			s.at(tSessions, sh1, end, endedIntent(sess, intent))
		}
	}
	call("shop-0001-s21", "shop-0001-b21", "task-01", "robot-1", "2026-11-02 10:15", true, "2026-11-02 10:17:00", "A")  // r1
	call("shop-0001-s22", "shop-0001-b22", "task-01", "robot-1", "2026-11-02 10:40", false, "2026-11-02 10:41:00", "")  // r2
	call("shop-0001-s23", "shop-0001-b23", "task-01", "robot-2", "2026-11-02 11:05", true, "2026-11-02 11:06:00", "B")  // r3
	call("shop-0001-s24", "shop-0001-b24", "task-02", "robot-1", "2026-11-02 14:10", true, "2026-11-02 14:12:00", "B")  // r4
	call("shop-0001-s25", "shop-0001-b25", "task-02", "robot-2", "2026-11-03 09:20", true, "", "")                      // r5
	call("shop-0001-s26", "shop-0001-b26", "task-02", "robot-1", "2026-11-03 11:10", true, "2026-11-03 11:12:00", "G")  // r6
	call("shop-0001-s27", "shop-0001-b27", "task-02", "robot-1", "2026-11-03 11:30", false, "2026-11-03 11:31:00", "F") // r7
	call("shop-0001-s28", "shop-0001-b28", "task-01", "robot-1", "2026-11-09 10:30", true, "2026-11-09 10:32:00", "A")  // r8

	return s.sorted()
}

// wantSalesScenario is, per named query of section 7, its rows on the
// sales and robot scenario.
var wantSalesScenario = map[string][]string{
	// Credited paid orders per agent and day of payment (the table above).
	"agent_sales_day": {
		"2026-11-02 | shop-0001-a01 | 1 | 29900 | 299",
		"2026-11-02 | shop-0001-a03 | 1 | 12900 | 129",
		"2026-11-03 | shop-0001-a01 | 1 | 19900 | 199",
		"2026-11-03 | shop-0001-a02 | 1 | 49900 | 499",
		"2026-11-04 | shop-0001-a01 | 1 | 8980 | 89.8",
		"2026-11-09 | shop-0001-a01 | 1 | 99900 | 999",
	},
	// a01: 158 680 / 4 = 39 670 fen = 396.7 yuan per order, 158 680 /
	// 249 350 = 0.63637; a02: 49 900 / 249 350 = 0.20012; a03: 12 900 /
	// 249 350 = 0.05173 (the shop total includes 27 870 silent).
	"agent_sales_month": {
		"2026-11-01 | shop-0001-a01 | 4 | 1586.8 | 396.7 | 0.6364",
		"2026-11-01 | shop-0001-a02 | 1 | 499 | 499 | 0.2001",
		"2026-11-01 | shop-0001-a03 | 1 | 129 | 129 | 0.0517",
	},
	// Week of 11-02: pre-sales = a01's o1, o2, o9 + a02's o6 = 29 900 +
	// 19 900 + 8 980 + 49 900 = 108 680; after-sales = a03's o5. Week of
	// 11-09: o11.
	"group_sales_week": {
		"2026-11-02 | after-sales | 1 | 129",
		"2026-11-02 | pre-sales | 4 | 1086.8",
		"2026-11-09 | pre-sales | 1 | 999",
	},
	// D1 42 800 / 48 790 = 0.87723, 5 990 / 48 790 = 0.12277; D2 69 800 /
	// 81 780 = 0.85351, 11 980 / 81 780 = 0.14649; D3 8 980 / 18 880 =
	// 0.47564, 9 900 / 18 880 = 0.52436; 11-08 has rows (s10) but no sale.
	"shop_sales_day": {
		"2026-11-02 | 3 | 487.9 | 428 | 59.9 | 0.8772 | 0.1228",
		"2026-11-03 | 4 | 817.8 | 698 | 119.8 | 0.8535 | 0.1465",
		"2026-11-04 | 2 | 188.8 | 89.8 | 99 | 0.4756 | 0.5244",
		"2026-11-08 | 0 | 0 | 0 | 0 | NULL | NULL",
		"2026-11-09 | 1 | 999 | 999 | 0 | 1 | 0",
	},
	// shop-0001: 27 870 / 249 350 = 0.11177; shop-0002: 15 000 credited
	// (local day 11-03 although paid 11-04 UTC) + 2 000 silent, 2 000 /
	// 17 000 = 0.11765.
	"shop_sales_month": {
		"2026-11-01 | shop-0001 | 2493.5 | 2214.8 | 278.7 | 0.1118",
		"2026-11-01 | shop-0002 | 170 | 150 | 20 | 0.1176",
	},
	// Every hour_of_day with a shop-0001 row (above). 10: D1 a01 29 900 +
	// D2 silent 3 990, 3 990 / 33 890 = 0.11773; 16: D1 a03 12 900 + D2
	// silent 7 990, 7 990 / 20 890 = 0.38248; 9: D2 s5 nothing + 11-09
	// 99 900; 15: D1 silent 5 990 + D2 s8 nothing.
	"shop_sales_hour_of_day": {
		"0 | 0 | 99 | 1",
		"1 | 89.8 | 0 | 0",
		"9 | 999 | 0 | 0",
		"10 | 299 | 39.9 | 0.1177",
		"11 | 0 | 0 | NULL",
		"13 | 0 | 0 | NULL",
		"14 | 499 | 0 | 0",
		"15 | 0 | 59.9 | 1",
		"16 | 129 | 79.9 | 0.3825",
		"19 | 0 | 0 | NULL",
		"22 | 0 | 0 | NULL",
		"23 | 199 | 0 | 0",
	},
	// agent + silent = shop in every row: no line.
	"sales_split_check": {},
	// The cs_inquiry_daily table above; conversions paid / inquiry,
	// ordered / inquiry, paid / ordered; yuan per paying buyer = amount /
	// paid buyers. (a02, 11-03): 1/2, 2/2, 1/2.
	"inquiry_conversion_agent_day": {
		"2026-11-02 | shop-0001-a01 | 1 | 1 | 1 | 1 | 1 | 1 | 498 | 498",
		"2026-11-02 | shop-0001-a02 | 1 | 0 | 0 | 0 | 0 | NULL | 0 | NULL",
		"2026-11-02 | shop-0001-a03 | 1 | 1 | 1 | 1 | 1 | 1 | 129 | 129",
		"2026-11-03 | shop-0001-a01 | 1 | 0 | 0 | 0 | 0 | NULL | 0 | NULL",
		"2026-11-03 | shop-0001-a02 | 2 | 2 | 1 | 0.5 | 1 | 0.5 | 499 | 499",
		"2026-11-08 | shop-0001-a01 | 1 | 1 | 1 | 1 | 1 | 1 | 999 | 999",
	},
	// Week of 11-02 (Sunday 11-08 included), buyer-days: a01 = 11-02 (1, 1,
	// 1, 49 800) + 11-03 (1, 0, 0) + 11-08 (1, 1, 1, 99 900) = 3, 2, 2,
	// 149 700; a02 = 11-02 (1, 0, 0) + 11-03 (2, 2, 1, 49 900) = 3, 2, 1;
	// a03 = 1, 1, 1, 12 900. Best inquiry conversion first: a03 1, a01 2/3,
	// a02 1/3.
	"inquiry_conversion_agent_week": {
		"2026-11-02 | shop-0001-a03 | 1 | 1 | 1 | 1 | 1 | 1 | 129",
		"2026-11-02 | shop-0001-a01 | 3 | 2 | 2 | 0.6667 | 0.6667 | 1 | 1497",
		"2026-11-02 | shop-0001-a02 | 3 | 2 | 1 | 0.3333 | 0.6667 | 0.5 | 499",
	},
	// shop-0001: inquiry 1+1+1+1+2+1 = 7, ordered 1+0+1+0+2+1 = 5, paid
	// 1+0+1+0+1+1 = 4: 4/7, 5/7, 4/5. shop-0002: 1, 1, 1.
	"inquiry_conversion_shop_month": {
		"2026-11-01 | shop-0001 | 7 | 0.5714 | 0.7143 | 0.8",
		"2026-11-01 | shop-0002 | 1 | 1 | 1 | 1",
	},
	// D1 r1–r4: 4 calls, 3 connected (not r2); D2 r5–r7: 3, 2 (not r7);
	// 11-09 r8.
	"robot_calls_day": {
		"2026-11-02 | 4 | 3 | 0.75",
		"2026-11-03 | 3 | 2 | 0.6667",
		"2026-11-09 | 1 | 1 | 1",
	},
	// task-01 week of 11-02: r1 A, r2 '' (not connected), r3 B; task-02:
	// r4 B, r5 '' (timed out), r6 G (other), r7 F (not connected); week of
	// 11-09: r8 A.
	"robot_task_week": {
		"2026-11-02 | task-01 | 3 | 2 | 0.6667 | 1 | 1 | 0 | 0 | 0 | 0 | 1 | 0",
		"2026-11-02 | task-02 | 4 | 3 | 0.75 | 0 | 1 | 0 | 0 | 0 | 1 | 1 | 1",
		"2026-11-09 | task-01 | 1 | 1 | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 0",
	},
	// task-01: r1, r2, r3, r8 = 4 calls: '' 1, A 2, B 1; task-02: r4–r7 = 4
	// calls: '' 1, B 1, F 1, G 1.
	"robot_task_intent_month": {
		"2026-11-01 | task-01 | '' | 1 | 0.25",
		"2026-11-01 | task-01 | A | 2 | 0.5",
		"2026-11-01 | task-01 | B | 1 | 0.25",
		"2026-11-01 | task-02 | '' | 1 | 0.25",
		"2026-11-01 | task-02 | B | 1 | 0.25",
		"2026-11-01 | task-02 | F | 1 | 0.25",
		"2026-11-01 | task-02 | G | 1 | 0.25",
	},
	// 11-02: robot-1/task-01 r1 A + r2 '' (1 of 2 connected, A/B 1 of 2);
	// robot-1/task-02 r4 B; robot-2/task-01 r3 B. 11-03: robot-1/task-02 r6
	// G + r7 F (1 of 2 connected, no A/B); robot-2/task-02 r5 ''. 11-09: r8.
	"robot_robot_task_day": {
		"2026-11-02 | robot-1 | task-01 | 2 | 1 | 0.5 | 0.5",
		"2026-11-02 | robot-1 | task-02 | 1 | 1 | 1 | 1",
		"2026-11-02 | robot-2 | task-01 | 1 | 1 | 1 | 1",
		"2026-11-03 | robot-1 | task-02 | 2 | 1 | 0.5 | 0",
		"2026-11-03 | robot-2 | task-02 | 1 | 1 | 1 | 0",
		"2026-11-09 | robot-1 | task-01 | 1 | 1 | 1 | 1",
	},
	// hour_of_day 10 and 11: r1, r2, r8 (robot-1/task-01: 3 calls, 2
	// connected), r6, r7 (robot-1/task-02: 2, 1), r3 (robot-2/task-01);
	// not r4 (14:10) nor r5 (09:20).
	"robot_hours_10_12_month": {
		"2026-11-01 | robot-1 | task-01 | 3 | 2 | 0.6667",
		"2026-11-01 | robot-1 | task-02 | 2 | 1 | 0.5",
		"2026-11-01 | robot-2 | task-01 | 1 | 1 | 1",
	},
	// 9: r5 (''); 10: r1 A, r2 '', r8 A → A/B 2 of 3; 11: r3 B, r6 G, r7 F
	// → 1 of 3, connected r3, r6; 14: r4 B.
	"robot_hour_of_day": {
		"9 | 1 | 1 | 1 | 0",
		"10 | 3 | 2 | 0.6667 | 0.6667",
		"11 | 3 | 2 | 0.6667 | 0.3333",
		"14 | 1 | 1 | 1 | 1",
	},
}

// metricQueries names, for every metric of SPEC §3.1–3.5, the queries of
// the page that must exist and be checked against a scenario.
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
	"rollups": {"agent_week_dashboard", "agent_day_office_hours", "group_month_dashboard", "shop_day_dashboard", "leaderboard_shop_day",
		"monitor_shop_day", "reply_volume_shop_hour"},
	"agent sales":         {"agent_sales_day", "agent_sales_month", "group_sales_week"},
	"silent sales":        {"shop_sales_day", "shop_sales_month", "shop_sales_hour_of_day", "sales_split_check"},
	"inquiry conversion":  {"inquiry_conversion_agent_day", "inquiry_conversion_agent_week", "inquiry_conversion_shop_month"},
	"exclusive customers": {"exclusive_agent_day", "exclusive_shop_day", "exclusive_relationships_agent_day", "exclusive_agent_month"},
	"robot outbound":      {"robot_calls_day", "robot_task_week", "robot_task_intent_month", "robot_robot_task_day", "robot_hours_10_12_month", "robot_hour_of_day"},
}

// docScenario is a hand-made scenario with the expected rows of the
// queries it checks. Every named query of the page is checked on exactly
// one of them.
type docScenario struct {
	name string
	recs func() []record
	want map[string][]string
}

var docScenarios = []docScenario{
	{"service", queryScenario, wantScenario},                // sections 1–6
	{"sales_robots", salesScenario, wantSalesScenario},      // section 7
	{"exclusive", exclusiveScenario, wantExclusiveScenario}, // section 10 (queries_exclusive_test.go)
}

func TestDocQueriesScenario(t *testing.T) {
	queries := loadDocQueries(t)
	byName := map[string]docQuery{}
	for _, q := range queries {
		byName[q.name] = q
	}
	owner := map[string]string{}
	for _, sc := range docScenarios {
		for n := range sc.want {
			if _, ok := byName[n]; !ok {
				t.Errorf("scenario %s: expected rows for %q, which docs/queries.md does not have", sc.name, n)
			}
			if o, dup := owner[n]; dup {
				t.Errorf("query %q has expected rows in two scenarios, %s and %s", n, o, sc.name)
			}
			owner[n] = sc.name
		}
	}
	for metric, names := range metricQueries {
		for _, n := range names {
			if _, ok := byName[n]; !ok {
				t.Errorf("docs/queries.md has no query %q (%s)", n, metric)
			}
			if _, ok := owner[n]; !ok {
				t.Errorf("query %q (%s) has no expected rows", n, metric)
			}
		}
	}
	for _, q := range queries {
		if _, ok := owner[q.name]; !ok && !checkedElsewhere[q.name] {
			t.Errorf("query %s: no expected rows in wantScenario or wantSalesScenario; add them (worked out by hand)", q.name)
		}
	}

	for _, sc := range docScenarios {
		t.Run(sc.name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.Time.ShopZones = scenarioZones
			recs := sc.recs()
			h.produce(recs)
			sum := h.run()
			if sum.Events != int64(len(recs)) || sum.DeadLetters != 0 {
				t.Fatalf("applied %d events with %d dead letters, want %d and 0", sum.Events, sum.DeadLetters, len(recs))
			}
			conn := testenv.Conn(t, h.chAddr, h.cfg.ClickHouse.Database)
			for _, q := range queries {
				want, ok := sc.want[q.name]
				if !ok {
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
		})
	}
}

// TestDocQueriesGenerated runs every block of the page on a generated day
// of three shops (one in America/New_York), with its orders (paid over
// the following days) and robot outbound calls, and requires rows from
// each — none from the consistency checks (emptyChecks): the literals of
// the page must fit what the pipeline writes for real traffic.
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

	stats := pipetest.ProduceGenerated(t, h.broker.Addr(), gen)
	sum := h.run()
	// Duplicates are applied (and change nothing), so at least every event.
	// The ratings made after the rating window are dead-lettered as late,
	// however the topics' fetches interleave; nothing else is.
	if sum.DeadLetters != stats.LateRatings || sum.Events < stats.Events-stats.LateRatings {
		t.Errorf("applied %d events with %d dead letters; the generator made %d events, no poison, %d ratings after the window",
			sum.Events, sum.DeadLetters, stats.Events, stats.LateRatings)
	}

	conn := testenv.Conn(t, h.chAddr, h.cfg.ClickHouse.Database)
	rows := map[string][]string{}
	for _, q := range queries {
		got := queryRows(t, conn, q.sql)
		rows[q.name] = got
		switch {
		case emptyChecks[q.name] && len(got) != 0:
			t.Errorf("check %s must print no row; on generated traffic:\n%s\n%s", q.name, strings.Join(got, "\n"), q.sql)
		case !emptyChecks[q.name] && !mayBeEmpty[q.name] && len(got) == 0:
			t.Errorf("query %s returned no rows on generated traffic:\n%s", q.name, q.sql)
		}
	}
	// The sales split check is not vacuous: every shop has agent and
	// silent sales (month, shop, shop, agents, silent yuan, share).
	for _, r := range rows["shop_sales_month"] {
		if f := strings.Split(r, " | "); len(f) != 6 || f[3] == "0" || f[4] == "0" {
			t.Errorf("shop_sales_month: want agent and silent sales in every shop of generated traffic, got %q", r)
		}
	}
	// The conversion funnel: inquiry ≥ ordered ≥ paid buyers in every row,
	// and some buyers paid.
	paid := false
	for _, r := range rows["inquiry_conversion_agent_day"] {
		f := strings.Split(r, " | ")
		inq, _ := strconv.Atoi(f[2])
		ord, _ := strconv.Atoi(f[3])
		pay, _ := strconv.Atoi(f[4])
		if !(inq >= ord && ord >= pay && inq > 0) {
			t.Errorf("inquiry_conversion_agent_day: want inquiry ≥ ordered ≥ paid buyers, inquiry > 0: %q", r)
		}
		paid = paid || pay > 0
	}
	if !paid {
		t.Errorf("inquiry_conversion_agent_day: no paid buyer on generated traffic")
	}
	// The two read shapes agree on real data too.
	final, argmax := queryRows(t, conn, findQuery(t, queries, "read_final")), queryRows(t, conn, findQuery(t, queries, "read_argmax"))
	if !reflect.DeepEqual(final, argmax) {
		t.Errorf("FINAL and argMax shapes differ:\n%v\n%v", final, argmax)
	}
}

// checkedElsewhere are the queries of section 9 (cs_alerts,
// cs_agent_rankings), which have no hand-worked rows on the doc scenarios
// here: the scenarios are far below the alert rules' minimum sample, and
// the rankings' figures are worked out by hand in the engine's own
// scenarios (metrics TestRankings, TestAlert*). Here they must
// return rows on generated traffic; report and web check them against
// hand-made rows (testenv.InsertRankingsAndAlerts).
var checkedElsewhere = map[string]bool{"alerts_recent": true, "alerts_open_breaches": true,
	"ranking_shop_day": true, "ranking_group_day": true, "ranking_agent_history": true}

// mayBeEmpty are queries whose answer on the generated day may rightly be
// empty: shop-0001 ends the day with no breach open (the slipping shop of
// the generator is shop-0003; alerts_recent shows shop-0001's alerts).
var mayBeEmpty = map[string]bool{"alerts_open_breaches": true}

// emptyChecks are the page's consistency checks: queries that must print
// no row, on any data.
var emptyChecks = map[string]bool{"sales_split_check": true}

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
