package metrics

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cspulse/cspulse/schemas"
)

// rankingRow is a cs_agent_rankings row reduced to what the scenarios
// check: value/rank/change per metric.
func rankingRow(cols map[string]any) string {
	s := fmt.Sprintf("%s %s/%s %s", cols["day"].(time.Time).Format(time.DateOnly), cols["scope"], cols["group_id"], cols["agent_id"])
	for _, m := range []string{"received_buyers", "reply_3min_rate_session", "satisfaction_rate", "received_sessions"} {
		s += fmt.Sprintf(" %s=%s#%s%s", m, normalize(m, cols[m]), normalize("", cols[m+"_rank"]), change(cols[m+"_rank_change"]))
	}
	return s
}

func change(v any) string {
	if p := v.(*int32); p != nil {
		return fmt.Sprintf("(%+d)", *p)
	}
	return ""
}

// TestRankings: three agents over two days. Day 1: a1 receives two
// sessions of one buyer (one received buyer), a2 two buyers, a3 one; day
// 2 a3 moves up. Ties share the smallest rank; the rank change compares
// with the previous day's rank; a group's ranking counts the agents'
// figures in that group only.
func TestRankings(t *testing.T) {
	var evs []schemas.Event
	conv := func(id, agent, group, buyer, at string, delay time.Duration) {
		c := conversation("s1", id, agent, group, atMs(at), delay)
		c[0].BuyerID = []byte(buyer)
		evs = append(evs, c...)
	}
	conv("d1-1", "a1", "g1", "b1", "2026-03-02T10:00:00+08:00", 30*time.Second)
	conv("d1-2", "a1", "g1", "b1", "2026-03-02T11:00:00+08:00", 5*time.Minute)
	conv("d1-3", "a2", "g1", "b2", "2026-03-02T10:00:00+08:00", 30*time.Second)
	conv("d1-4", "a2", "g2", "b3", "2026-03-02T12:00:00+08:00", 30*time.Second)
	conv("d1-5", "a3", "g2", "b4", "2026-03-02T12:00:00+08:00", 30*time.Second)
	conv("d2-1", "a3", "g2", "b5", "2026-03-03T10:00:00+08:00", 30*time.Second)
	conv("d2-2", "a3", "g2", "b6", "2026-03-03T11:00:00+08:00", 30*time.Second)
	conv("d2-3", "a1", "g1", "b7", "2026-03-03T10:00:00+08:00", 5*time.Minute)
	s := alertSettings(t, "Asia/Shanghai")
	s.Rankings = true
	_, rows := alertRun{settings: s, flushEvery: 9}.run(t, evs)
	// An engine saved for the first time mid-stream and restored gives
	// the same rows.
	_, again := alertRun{settings: s, flushEvery: 9, restoreAt: len(evs) / 2}.run(t, evs)
	if !reflect.DeepEqual(normalizeRows(again.final()), normalizeRows(rows.final())) {
		t.Errorf("restored mid-stream:\n%s", rowDiff(normalizeRows(rows.final()), normalizeRows(again.final())))
	}
	var got []string
	for _, cols := range rows.final()[RankingsTable.Name] {
		got = append(got, rankingRow(cols))
	}
	slices.Sort(got)
	want := []string{
		// Day 1, shop: buyers a2 2, a1 1, a3 1 (a tie at 2); session rate
		// a1 1 of 2 pairs; sessions a1 2, a2 2 (tie at 1), a3 1. In g1
		// a1 and a2 each had one buyer: a tie at 1.
		"2026-03-02 group/g1 a1 received_buyers=1#1 reply_3min_rate_session=0.5#2 satisfaction_rate=null#null received_sessions=2#1",
		"2026-03-02 group/g1 a2 received_buyers=1#1 reply_3min_rate_session=1#1 satisfaction_rate=null#null received_sessions=1#2",
		"2026-03-02 group/g2 a2 received_buyers=1#1 reply_3min_rate_session=1#1 satisfaction_rate=null#null received_sessions=1#1",
		"2026-03-02 group/g2 a3 received_buyers=1#1 reply_3min_rate_session=1#1 satisfaction_rate=null#null received_sessions=1#1",
		"2026-03-02 shop/ a1 received_buyers=1#2 reply_3min_rate_session=0.5#3 satisfaction_rate=null#null received_sessions=2#1",
		"2026-03-02 shop/ a2 received_buyers=2#1 reply_3min_rate_session=1#1 satisfaction_rate=null#null received_sessions=2#1",
		"2026-03-02 shop/ a3 received_buyers=1#2 reply_3min_rate_session=1#1 satisfaction_rate=null#null received_sessions=1#3",
		// Day 2: a3 first, a1 second; a2 has no reception, no row.
		"2026-03-03 group/g1 a1 received_buyers=1#1(+0) reply_3min_rate_session=0#1(+1) satisfaction_rate=null#null received_sessions=1#1(+0)",
		"2026-03-03 group/g2 a3 received_buyers=2#1(+0) reply_3min_rate_session=1#1(+0) satisfaction_rate=null#null received_sessions=2#1(+0)",
		"2026-03-03 shop/ a1 received_buyers=1#2(+0) reply_3min_rate_session=0#2(+1) satisfaction_rate=null#null received_sessions=1#2(-1)",
		"2026-03-03 shop/ a3 received_buyers=2#1(+1) reply_3min_rate_session=1#1(+0) satisfaction_rate=null#null received_sessions=2#1(+2)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rankings:\n got %s\nwant %s", indented(got), indented(want))
	}
	for _, cols := range rows.final()[RankingsTable.Name] {
		if cols["day"].(time.Time).Day() == 2 && cols["scope"] == ScopeShop {
			if m := *cols["received_buyers_mean"].(*float64); m != 4.0/3 {
				t.Errorf("day 1 shop mean of received buyers %v, want 4/3", m)
			}
			if n := cols["agents"].(uint32); n != 3 {
				t.Errorf("day 1 shop ranks %d agents, want 3", n)
			}
		}
	}
}

func atMs(s string) int64 { return at(s) }

func indented(xs []string) string {
	out := ""
	for _, x := range xs {
		out += "\n     " + x
	}
	return out
}
