package metrics

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/schemas"
)

// The oracle is a second, deliberately naive implementation of SPEC
// §3.1–3.3 and §3.6: it sees every event at once, sorts each session, and
// evaluates each definition by searching the sorted session, in the words
// of the SPEC ("its reply is the first agent message with ts ≥ m.ts", "the
// current agent is the agent of the latest assigned at or before t"). It
// shares no metric code with the engine. It knows nothing of watermarks, so
// it applies to runs in which no event is late.

// TestOracleAgreesWithScenarios checks the oracle against the hand-written
// expectations, so that it can be trusted on random streams.
func TestOracleAgreesWithScenarios(t *testing.T) {
	for _, dir := range scenarioDirs(t) {
		for _, sc := range scenarioVariants(t, dir) {
			if !sc.permutable() {
				continue
			}
			t.Run(sc.name, func(t *testing.T) {
				sc := sc.withoutExclusive()
				for _, diff := range sc.diff(sc.oracle(t)) {
					t.Error(diff)
				}
			})
		}
	}
}

// TestEngineAgreesWithOracle compares the engine with the oracle on
// random streams, with filters on and off.
func TestEngineAgreesWithOracle(t *testing.T) {
	sessions := 400
	if testing.Short() {
		sessions = 60
	}
	for seed := range uint64(4) {
		for _, filtersOn := range []bool{true, false} {
			t.Run(fmt.Sprintf("seed%d/filters=%v", seed, filtersOn), func(t *testing.T) {
				sc := randomScenario(seed, sessions, filtersOn)
				rows, _ := sc.run(t, sc.steps, true)
				// The oracle computes the tables; alerts and rankings are
				// checked by their own scenarios (alerts_test.go,
				// rankings_test.go).
				only := func(rows map[string]map[string]map[string]any) map[string]map[string]map[string]any {
					return withoutTable(withoutTable(rows, AlertsTable.Name), RankingsTable.Name)
				}
				got := normalizeRows(only(rows.final()))
				want := only(sc.oracle(t))
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("engine differs from oracle:\n%s", rowDiff(want, got))
				}
			})
		}
	}
}

func normalizeRows(rows map[string]map[string]map[string]any) map[string]map[string]map[string]any {
	out := map[string]map[string]map[string]any{}
	for table, byKey := range rows {
		out[table] = map[string]map[string]any{}
		for key, row := range byKey {
			n := map[string]any{}
			for col, v := range row {
				n[col] = normalize(col, v)
			}
			out[table][key] = n
		}
	}
	return out
}

// oracleRows accumulates rows as column → value maps.
type oracleRows struct {
	sc   *scenario
	rows map[string]map[string]map[string]int64
	meta map[string]map[string]map[string]any // non-additive columns

	inquiries []oracleInquiry // SPEC §3.4, for attribution_oracle_test.go
}

func (sc *scenario) oracle(t testing.TB) map[string]map[string]map[string]any {
	o := &oracleRows{sc: sc, rows: map[string]map[string]map[string]int64{}, meta: map[string]map[string]map[string]any{}}
	settings := sc.engineSettings(t)
	for _, s := range oracleSessions(sc.steps, &settings.Filters) {
		o.session(s, &settings)
	}
	o.attribution(sc.steps, &settings)
	return o.final()
}

type oracleSession struct {
	shop, id string
	acts     []*schemas.Event // activity, filtered, deduplicated, sorted
	evals    []*schemas.Event
}

// oracleSessions groups the events by session, drops duplicates and
// filtered messages, and sorts activity by (ts, kind order, event id).
func oracleSessions(steps []step, f *Filters) []*oracleSession {
	byKey := map[string]*oracleSession{}
	var order []*oracleSession
	seen := map[string]bool{}
	for i := range steps {
		ev := &steps[i].event
		key := string(ev.ShopID) + "|" + string(ev.SessionID)
		if ev.Topic == schemas.TopicInvalid || ev.Topic == schemas.TopicOrders || seen[key+"|"+string(ev.EventID)] || oracleFiltered(ev, f) {
			continue
		}
		seen[key+"|"+string(ev.EventID)] = true
		s := byKey[key]
		if s == nil {
			s = &oracleSession{shop: string(ev.ShopID), id: string(ev.SessionID)}
			byKey[key] = s
			order = append(order, s)
		}
		if ev.Topic == schemas.TopicEvaluations {
			s.evals = append(s.evals, ev)
		} else {
			s.acts = append(s.acts, ev)
		}
	}
	for _, s := range order {
		slices.SortFunc(s.acts, func(a, b *schemas.Event) int {
			return cmp.Or(cmp.Compare(a.TS, b.TS), cmp.Compare(oracleRank(a), oracleRank(b)),
				strings.Compare(string(a.EventID), string(b.EventID)))
		})
		slices.SortFunc(s.evals, func(a, b *schemas.Event) int {
			return cmp.Or(cmp.Compare(a.TS, b.TS), strings.Compare(string(a.EventID), string(b.EventID)))
		})
	}
	return order
}

func oracleFiltered(ev *schemas.Event, f *Filters) bool {
	if ev.Topic != schemas.TopicMessages {
		return false
	}
	return f.Adverts && ev.IsAd || ev.Sender == schemas.SenderAgent && slices.Contains(f.AgentIDs, string(ev.AgentID))
}

// oracleRank is the documented order of kinds at equal ts.
func oracleRank(ev *schemas.Event) int {
	switch ev.Type {
	case schemas.TypeStarted:
		return 0
	case schemas.TypeQueued:
		return 1
	case schemas.TypeAssigned:
		return 2
	case schemas.TypeAbandoned:
		return 6
	case schemas.TypeEnded:
		return 7
	}
	switch ev.Sender {
	case schemas.SenderBuyer:
		return 3
	case schemas.SenderAgent:
		return 4
	}
	return 5
}

func is(ev *schemas.Event, t schemas.EventType) bool {
	return ev.Type == t && ev.Topic != schemas.TopicMessages
}
func isMsg(ev *schemas.Event, s schemas.Sender) bool {
	return ev.Topic == schemas.TopicMessages && ev.Sender == s
}

func (o *oracleRows) session(s *oracleSession, set *Settings) {
	if len(s.acts) == 0 {
		return // evaluations of a session that never showed up
	}
	var header *schemas.Event
	for _, ev := range s.acts {
		if is(ev, schemas.TypeStarted) {
			header = ev
			break
		}
	}
	if header != nil && slices.Contains(set.Filters.BuyerIDs, string(header.BuyerID)) {
		return // a listed buyer's session is dropped
	}
	closeTS, byEnded := o.truncate(s, set.SessionTimeout.Milliseconds())
	x := &oracleCtx{o: o, s: s, set: set, zone: s.shop}
	x.messages()
	x.assignments()
	x.queues()
	x.sessionRow(header, closeTS, byEnded, x.rating(closeTS))
	x.inquiry(header)
	x.robotCall(header, byEnded)
}

// truncate cuts the session at its close (SPEC §1): the first `ended`, or
// a gap longer than the timeout, or the last activity + timeout.
func (o *oracleRows) truncate(s *oracleSession, timeout int64) (int64, bool) {
	for i, ev := range s.acts {
		if i > 0 && ev.TS > s.acts[i-1].TS+timeout {
			closeTS := s.acts[i-1].TS + timeout
			s.acts = s.acts[:i]
			return closeTS, false
		}
		if is(ev, schemas.TypeEnded) {
			s.acts = s.acts[:i+1]
			return ev.TS, true
		}
	}
	return s.acts[len(s.acts)-1].TS + timeout, false
}

type oracleCtx struct {
	o    *oracleRows
	s    *oracleSession
	set  *Settings
	zone string

	buyerMsgs, agentMsgs, robotMsgs, humanBuyer, humanAgent int
	firstAgentTS                                            int64
	hasFirstAgent                                           bool
	waitSum                                                 int64
	queued, abandoned, picked                               bool
	receptionTS                                             int64
	received, singleSeen, monologueSeen                     bool
	receptions                                              map[int]bool // by index of the `assigned`
}

// assignedBefore returns the latest `assigned` before index i: the current
// assignment of the event at i (ranks put an assignment before the
// messages of its instant).
func (x *oracleCtx) assignedBefore(i int) (*schemas.Event, int) {
	for j := i - 1; j >= 0; j-- {
		if is(x.s.acts[j], schemas.TypeAssigned) {
			return x.s.acts[j], j
		}
	}
	return nil, -1
}

// groupOf is the group of agent's latest assignment before index i.
func (x *oracleCtx) groupOf(agent string, i int) string {
	for j := i - 1; j >= 0; j-- {
		if ev := x.s.acts[j]; is(ev, schemas.TypeAssigned) && string(ev.AgentID) == agent {
			return string(ev.GroupID)
		}
	}
	return ""
}

func (x *oracleCtx) inWindow(ts int64) bool {
	return x.o.sc.zones.LookupString(x.zone).InDailyWindow(ts, x.set.WindowStartMin, x.set.WindowEndMin)
}

// messages evaluates SPEC §3.1 message by message.
func (x *oracleCtx) messages() {
	type pairAcc struct {
		firstTS  int64
		group    string
		n, ok    int
		assigned bool
	}
	pairs := map[string]*pairAcc{}
	var pairOrder []string
	for i, m := range x.s.acts {
		switch {
		case isMsg(m, schemas.SenderRobot):
			x.robotMsgs++
		case isMsg(m, schemas.SenderAgent):
			x.agentMsgs++
			// Every agent message counts for its sender (SPEC §3 intro).
			agent := string(m.AgentID)
			x.o.agent(x.s.shop, x.groupOf(agent, i), agent, m.TS)["agent_msgs"]++
			x.o.shop(x.s.shop, m.TS)["agent_msgs"]++
			if a, _ := x.assignedBefore(i); a != nil {
				x.humanAgent++
				if !x.hasFirstAgent {
					x.hasFirstAgent, x.firstAgentTS = true, m.TS
				}
			}
		case isMsg(m, schemas.SenderBuyer):
			x.buyerMsgs++
			a, _ := x.assignedBefore(i)
			if a == nil {
				continue
			}
			x.humanBuyer++
			agent, group := string(a.AgentID), string(a.GroupID)
			c := x.o.agent(x.s.shop, group, agent, m.TS)
			c["buyer_msgs"]++
			x.o.shop(x.s.shop, m.TS)["buyer_msgs"]++
			window := x.inWindow(m.TS)
			if window {
				c["buyer_msgs_window"]++
				if pairs[agent] == nil {
					pairs[agent] = &pairAcc{firstTS: m.TS, group: group}
					pairOrder = append(pairOrder, agent)
				}
				pairs[agent].n++
			}
			for _, r := range x.s.acts[i+1:] {
				if isMsg(r, schemas.SenderAgent) { // its reply
					c["replied_msgs"]++
					c["response_ms_sum"] += r.TS - m.TS
					if r.TS-m.TS <= x.set.ReplyWithin.Milliseconds() && window {
						c["replied_3min_window"]++
						pairs[agent].ok++
					}
					break
				}
			}
		}
	}
	for _, agent := range pairOrder {
		p := pairs[agent]
		c := x.o.agent(x.s.shop, p.group, agent, p.firstTS)
		c["session_pairs_window"]++
		if p.ok == p.n {
			c["session_pairs_3min_ok"]++
		}
	}
}

// assignments evaluates pickup, first response and reception (SPEC §3.1,
// §3.2, §3.6) assignment by assignment.
func (x *oracleCtx) assignments() {
	acts := x.s.acts
	monologue := x.humanAgent > 0 && x.humanBuyer == 0
	for i, a := range acts {
		if !is(a, schemas.TypeAssigned) {
			continue
		}
		agent := string(a.AgentID)
		c := x.o.agent(x.s.shop, string(a.GroupID), agent, a.TS)
		c["assignments"]++
		end := len(acts)
		for j := i + 1; j < len(acts); j++ {
			if is(acts[j], schemas.TypeAssigned) {
				end = j
				break
			}
		}
		var own []int // messages of this agent within the assignment
		for j := i + 1; j < end; j++ {
			if isMsg(acts[j], schemas.SenderAgent) && string(acts[j].AgentID) == agent {
				own = append(own, j)
			}
		}
		if len(own) == 0 {
			continue
		}
		x.picked = true
		c["picked_assignments"]++
		c["first_response_ms_sum"] += acts[own[0]].TS - a.TS
		c["first_response_count"]++
		single := len(own) == 1 && !x.buyerBetween(own[0]+1, end)
		x.singleSeen = x.singleSeen || single
		x.monologueSeen = x.monologueSeen || monologue
		if (x.set.Filters.AgentSingleSentence && single) || (x.set.Filters.Monologue && monologue) {
			continue
		}
		if x.receptions == nil {
			x.receptions = map[int]bool{}
		}
		x.receptions[i] = true
		if !x.received {
			x.received, x.receptionTS = true, a.TS
		}
	}
}

func (x *oracleCtx) buyerBetween(from, to int) bool {
	for j := from; j < to; j++ {
		if isMsg(x.s.acts[j], schemas.SenderBuyer) {
			return true
		}
	}
	return false
}

// queues evaluates the consult, transfer, wait and abandonment figures
// (SPEC §3.2) by walking the session.
func (x *oracleCtx) queues() {
	open, openTS := false, int64(0)
	started := false
	for _, ev := range x.s.acts {
		switch {
		case is(ev, schemas.TypeStarted) && !started:
			started = true
			if ev.Origin == schemas.OriginBuyer {
				x.o.shop(x.s.shop, ev.TS)["consult_sessions"]++
			}
		case is(ev, schemas.TypeQueued):
			if !x.queued {
				x.queued = true
				x.o.shop(x.s.shop, ev.TS)["transferred_sessions"]++
				if x.picked {
					x.o.shop(x.s.shop, ev.TS)["transferred_picked_sessions"]++
				}
			}
			if !open {
				open, openTS = true, ev.TS
			}
		case is(ev, schemas.TypeAssigned) && open:
			open = false
			c := x.o.agent(x.s.shop, string(ev.GroupID), string(ev.AgentID), ev.TS)
			c["wait_ms_sum"] += ev.TS - openTS
			c["wait_count"]++
			x.waitSum += ev.TS - openTS
		case is(ev, schemas.TypeAbandoned) && open:
			open = false
			if !x.abandoned {
				x.abandoned = true
				x.o.shop(x.s.shop, ev.TS)["abandoned_sessions"]++
			}
		}
	}
	if x.received {
		x.o.shop(x.s.shop, x.receptionTS)["received_sessions"]++
	}
}

// rating evaluates SPEC §3.3 and returns the session's score.
func (x *oracleCtx) rating(closeTS int64) int {
	for i := len(x.s.evals) - 1; i >= 0; i-- {
		ev := x.s.evals[i]
		if ev.TS > closeTS+x.set.RatingWindow.Milliseconds() {
			continue
		}
		agent := string(ev.AgentID)
		if agent == "" {
			if a, _ := x.assignedBefore(len(x.s.acts)); a != nil {
				agent = string(a.AgentID)
			}
		}
		if agent != "" {
			c := x.o.agent(x.s.shop, x.groupOf(agent, len(x.s.acts)), agent, ev.TS)
			satisfied := int(ev.Score) >= x.set.SatisfiedMinScore
			c["ratings"]++
			c["satisfied"] += b2i(satisfied)
			if x.inWindow(ev.TS) {
				c["ratings_window"]++
				c["satisfied_window"] += b2i(satisfied)
			}
		}
		return int(ev.Score)
	}
	return 0
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (x *oracleCtx) sessionRow(header *schemas.Event, closeTS int64, byEnded bool, score int) {
	acts := x.s.acts
	start := acts[0].TS
	row := map[string]any{"buyer_id": "", "origin": "", "channel": ""}
	for _, ev := range acts {
		if is(ev, schemas.TypeStarted) {
			start = ev.TS
			break
		}
	}
	if header != nil {
		row["buyer_id"], row["origin"], row["channel"] = string(header.BuyerID), header.Origin.String(), string(header.Channel)
	}
	var agents []string
	lastAgent, group := "", ""
	firstAssign := int64(0)
	for _, ev := range acts {
		if is(ev, schemas.TypeAssigned) {
			if lastAgent == "" {
				firstAssign = ev.TS
			}
			lastAgent, group = string(ev.AgentID), string(ev.GroupID)
			if !slices.Contains(agents, lastAgent) {
				agents = append(agents, lastAgent)
			}
		}
	}
	firstResponse, rating := "null", "null" // Nullable columns
	if x.hasFirstAgent {
		firstResponse = fmt.Sprint(x.firstAgentTS - firstAssign)
	}
	if score > 0 {
		rating = fmt.Sprint(score)
	}
	loc := x.o.sc.zones.LookupString(x.s.shop).Location()
	reason := "timeout"
	if byEnded {
		reason = "ended"
	}
	// Every filter that removed one of its assignments or the session,
	// also when another assignment is a reception.
	var filteredBy []string
	if x.set.Filters.AgentSingleSentence && x.singleSeen {
		filteredBy = append(filteredBy, "agent_single_sentence")
	}
	if x.set.Filters.Monologue && x.monologueSeen {
		filteredBy = append(filteredBy, "monologue")
	}
	if agents == nil {
		agents = []string{}
	}
	for k, v := range map[string]any{
		"shop_id": x.s.shop, "session_id": x.s.id,
		"started_at": normalize("started_at", time.UnixMilli(start).UTC()), "started_at_ms": fmt.Sprint(start),
		"ended_at": normalize("ended_at", time.UnixMilli(closeTS).UTC()), "ended_at_ms": fmt.Sprint(closeTS),
		"duration_ms": fmt.Sprint(closeTS - start), "day": time.UnixMilli(start).In(loc).Format(time.DateOnly),
		"close_reason": reason, "last_agent_id": lastAgent, "agent_ids": agents, "group_id": group,
		"buyer_msgs": fmt.Sprint(x.buyerMsgs), "agent_msgs": fmt.Sprint(x.agentMsgs), "robot_msgs": fmt.Sprint(x.robotMsgs),
		"queued": fmt.Sprint(b2i(x.queued)), "abandoned": fmt.Sprint(b2i(x.abandoned)),
		"queue_wait_ms": fmt.Sprint(x.waitSum), "first_response_ms": firstResponse,
		"picked": fmt.Sprint(b2i(x.picked)), "received": fmt.Sprint(b2i(x.received)), "rating": rating,
		"filtered_by": strings.Join(filteredBy, ","),
	} {
		row[k] = v
	}
	o := x.o
	if o.meta[SessionsTable.Name] == nil {
		o.meta[SessionsTable.Name] = map[string]map[string]any{}
	}
	o.meta[SessionsTable.Name][x.s.shop+"|"+x.s.id] = row
}

func (o *oracleRows) agent(shop, group, agent string, ts int64) map[string]int64 {
	z := o.sc.zones.LookupString(shop)
	hour := time.UnixMilli(z.HourStart(ts)).In(z.Location()).Format("2006-01-02T15:04Z07:00")
	return o.cell(AgentHourlyTable.Name, strings.Join([]string{shop, group, agent, hour}, "|"), shop, group, agent, z.HourStart(ts))
}

func (o *oracleRows) shop(shop string, ts int64) map[string]int64 {
	z := o.sc.zones.LookupString(shop)
	hour := time.UnixMilli(z.HourStart(ts)).In(z.Location()).Format("2006-01-02T15:04Z07:00")
	return o.cell(ShopHourlyTable.Name, shop+"|"+hour, shop, "", "", z.HourStart(ts))
}

func (o *oracleRows) cell(table, key, shop, group, agent string, hour int64) map[string]int64 {
	if o.rows[table] == nil {
		o.rows[table] = map[string]map[string]int64{}
		o.meta[table] = map[string]map[string]any{}
	}
	if o.rows[table][key] == nil {
		o.rows[table][key] = map[string]int64{}
		z := o.sc.zones.LookupString(shop)
		local := time.UnixMilli(hour).In(z.Location())
		meta := map[string]any{"shop_id": shop, "hour": normalize("hour", time.UnixMilli(hour).UTC()),
			"day": local.Format(time.DateOnly), "hour_of_day": fmt.Sprint(local.Hour())}
		if table == AgentHourlyTable.Name {
			meta["group_id"], meta["agent_id"] = group, agent
		}
		o.meta[table][key] = meta
	}
	return o.rows[table][key]
}

// final renders the accumulated rows like normalizeRows(rowSet.final()):
// every column present, all-zero hourly rows left out.
func (o *oracleRows) final() map[string]map[string]map[string]any {
	out := map[string]map[string]map[string]any{}
	for _, table := range Tables {
		if table.Name == ExclusiveTable.Name {
			continue // not modelled: see withoutExclusive
		}
		out[table.Name] = map[string]map[string]any{}
		for key, meta := range o.meta[table.Name] {
			row := map[string]any{}
			for _, col := range table.Columns {
				if v, ok := meta[col]; ok {
					row[col] = v
				} else if col != "version" {
					row[col] = fmt.Sprint(o.rows[table.Name][key][col])
				}
			}
			if table.Name != SessionsTable.Name && allZero(row) {
				continue
			}
			out[table.Name][key] = row
		}
	}
	return out
}

// withoutExclusive is sc without cs_exclusive_daily, which the oracle does
// not model (SPEC §3.7 is checked by hand-written scenarios and by
// exclusive_test.go).
func (sc *scenario) withoutExclusive() *scenario {
	c := *sc
	c.expected = maps.Clone(sc.expected)
	delete(c.expected, ExclusiveTable.Name)
	if sc.settings.Columns != nil {
		c.settings.Columns = maps.Clone(sc.settings.Columns)
		delete(c.settings.Columns, ExclusiveTable.Name)
	}
	return &c
}
