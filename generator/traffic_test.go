package generator

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// This file checks the generated traffic as a whole: sessions are coherent
// (one start, agents only after an assignment, transfers from the current
// agent, orders paid after they were created), and every rule of SPEC §1–3
// meets at least one case that exercises it.

type wireEvent struct {
	topic       string
	EventID     string `json:"event_id"`
	ShopID      string `json:"shop_id"`
	TS          int64  `json:"ts"`
	Type        string `json:"type"`
	SessionID   string `json:"session_id"`
	BuyerID     string `json:"buyer_id"`
	Origin      string `json:"origin"`
	Channel     string `json:"channel"`
	Intent      string `json:"intent"`
	GroupID     string `json:"group_id"`
	AgentID     string `json:"agent_id"`
	FromAgentID string `json:"from_agent_id"`
	Sender      string `json:"sender"`
	ContentType string `json:"content_type"`
	IsAd        bool   `json:"is_ad"`
	Score       int    `json:"score"`
	OrderID     string `json:"order_id"`
	Amount      int64  `json:"amount"`
	Stage       string `json:"stage"`
	Via         string `json:"via"`
}

func (e *wireEvent) isActivity() bool {
	return e.topic == "cs.sessions" || e.topic == "cs.transfers" || e.topic == "cs.messages"
}

// traffic is every event of a run, grouped.
type traffic struct {
	zones    map[string]*time.Location
	sessions map[string][]*wireEvent
	orders   map[string][]*wireEvent // by order id
	buyers   map[string][]*wireEvent // session starts by shop|buyer
	outreach []*wireEvent            // cs.outreach, in emission order
}

func collect(t *testing.T, cfg Config) *traffic {
	t.Helper()
	tr := &traffic{zones: map[string]*time.Location{}, sessions: map[string][]*wireEvent{},
		orders: map[string][]*wireEvent{}, buyers: map[string][]*wireEvent{}}
	for shop, zone := range cfg.ShopZones() {
		tr.zones[shop], _ = time.LoadLocation(zone)
	}
	ids := map[string]bool{}
	idFormat := regexp.MustCompile(`^shop-\d{4}-[0-9a-f]{10}$`)
	generate(t, cfg, func(r *Record) {
		ev := &wireEvent{topic: r.Topic}
		if err := json.Unmarshal(r.Value, ev); err != nil {
			t.Fatalf("%v: %s", err, r.Value)
		}
		if ids[ev.EventID] || !idFormat.MatchString(ev.EventID) || !strings.HasPrefix(ev.EventID, ev.ShopID) {
			t.Fatalf("event_id %q repeated or malformed", ev.EventID)
		}
		ids[ev.EventID] = true
		switch {
		case ev.topic == "cs.orders":
			tr.orders[ev.OrderID] = append(tr.orders[ev.OrderID], ev)
		case ev.topic == "cs.outreach":
			tr.outreach = append(tr.outreach, ev)
		default:
			tr.sessions[ev.SessionID] = append(tr.sessions[ev.SessionID], ev)
		}
		if ev.Type == "started" {
			tr.buyers[ev.ShopID+"|"+ev.BuyerID] = append(tr.buyers[ev.ShopID+"|"+ev.BuyerID], ev)
		}
	})
	for _, evs := range tr.sessions {
		sort.Slice(evs, func(i, j int) bool {
			return evs[i].TS < evs[j].TS || (evs[i].TS == evs[j].TS && evs[i].EventID < evs[j].EventID)
		})
	}
	return tr
}

func TestTrafficCoversTheSpec(t *testing.T) {
	if testing.Short() {
		t.Skip("large run")
	}
	cfg := testConfig(10, 1500, 2)
	tr := collect(t, cfg)
	seen := map[string]int{}
	errs := 0
	for id, evs := range tr.sessions {
		if err := tr.checkSession(evs, seen); err != "" {
			t.Errorf("session %s: %s", id, err)
			if errs++; errs == 10 {
				t.FailNow()
			}
		}
	}
	tr.checkOrders(t, seen)
	tr.checkOutreach(t, seen)
	cases := []string{
		// §1 sessions
		"origin buyer", "origin proactive", "origin robot_outbound", "ended", "timed out",
		"exact timeout gap", "activity after ended", "activity after timeout",
		"started at local 07h", "started at local 23h", "crosses local midnight",
		"test buyer b0", "no channel", "no content_type", "image without text",
		// §1 transfers
		"queued twice", "abandoned", "assigned without group", "transfer", "same-ts assigned",
		// §1 messages, §3.6 filters
		"advert", "supervisor message", "system message", "robot message",
		"single sentence", "monologue", "unanswered",
		// §3.1 reply speed
		"reply 180000 ms", "reply 180001 ms", "burst of 4", "reply > 3 min",
		"buyer msg at local 23:00:00.000", "buyer msg at local 22:59:59.999",
		"buyer msg at local 08:00:00.000", "buyer msg at local 07:59:59.999",
		// §3.3 satisfaction
		"evaluation", "evaluation without agent", "re-rating", "same-ts re-rating", "evaluation after 24h",
		"score 1", "score 2", "score 3", "score 4", "score 5",
		// §3.4 sales
		"paid", "unpaid order", "paid less than created", "silent buyer order",
		"order after inquiries to two agents", "created before a new session, paid after it",
		"order > 48h after the buyer's last session", "presale in two payments",
		// §3.7 exclusive customers
		"outreach invited", "outreach accepted", "outreach accepted auto", "outreach rejected", "outreach unsubscribed",
		"outreach read", "outreach visited", "read after local midnight", "campaign at local 23:30",
		// §3.5 robots
		"intent A", "intent B", "intent C", "intent D", "intent E", "intent F", "call not connected", "call without intent",
	}
	for _, c := range cases {
		if seen[c] == 0 {
			t.Errorf("no case of %q", c)
		}
	}
	t.Logf("cases: %v", seen)
}

// sessionWalk follows one session's events in (ts, event_id) order, the
// way the pipeline would, checking coherence and counting cases.
type sessionWalk struct {
	tr           *traffic
	seen         map[string]int
	start        *wireEvent
	local        func(int64) time.Time
	agent        string // current agent
	human        bool
	closed       bool
	closeTS      int64
	lastActivity int64
	queued       int
	pendingBuyer []int64 // buyer human-phase messages not yet replied
	// messages of the current assignment, and of the whole human phase
	agentMsgs, buyerMsgs           int
	humanAgentMsgs, humanBuyerMsgs int
	lastRating                     *wireEvent
}

// checkSession checks one session and counts the cases it exercises; it
// returns what is wrong, if anything.
func (tr *traffic) checkSession(evs []*wireEvent, seen map[string]int) string {
	w := &sessionWalk{tr: tr, seen: seen, start: evs[0], lastActivity: evs[0].TS}
	if w.start.Type != "started" {
		return "first event is not started: " + w.start.EventID
	}
	loc := tr.zones[w.start.ShopID]
	w.local = func(ts int64) time.Time { return time.UnixMilli(ts).In(loc) }
	w.onStart()
	for i, ev := range evs[1:] {
		if ev.Type == "started" {
			return "second started " + ev.EventID
		}
		if ev.isActivity() && !w.beforeActivity(ev) {
			continue
		}
		var err string
		switch ev.topic {
		case "cs.sessions":
			err = w.onEnded(ev)
		case "cs.transfers":
			err = w.onTransfer(ev, evs[i])
		case "cs.messages":
			err = w.onMessage(ev)
		case "cs.evaluations":
			err = w.onEvaluation(ev)
		}
		if err != "" {
			return err
		}
	}
	w.onEnd(evs)
	return ""
}

func (w *sessionWalk) onStart() {
	w.seen["origin "+w.start.Origin]++
	if h := w.local(w.start.TS).Hour(); h == 7 || h == 23 {
		w.seen[fmt.Sprintf("started at local %02dh", h)]++
	}
	if w.start.Channel == "" {
		w.seen["no channel"]++
	}
	if strings.HasSuffix(w.start.BuyerID, "-b0") {
		w.seen["test buyer b0"]++
	}
}

// beforeActivity applies session_timeout; false when the session is
// already closed, so the event is not part of it.
func (w *sessionWalk) beforeActivity(ev *wireEvent) bool {
	if w.closed {
		w.seen["activity after ended"]++
		return false
	}
	switch gap := ev.TS - w.lastActivity; {
	case gap == sessionTimeout:
		w.seen["exact timeout gap"]++
	case gap > sessionTimeout:
		w.closed, w.closeTS = true, w.lastActivity+sessionTimeout
		w.seen["activity after timeout"]++
		return false
	}
	w.lastActivity = ev.TS
	return true
}

func (w *sessionWalk) onEnded(ev *wireEvent) string {
	w.seen["ended"]++
	w.closed, w.closeTS = true, ev.TS
	if w.start.Origin != "robot_outbound" {
		if ev.Intent != "" {
			return "intent on a non-robot session"
		}
		return ""
	}
	w.seen["intent "+ev.Intent]++
	if ev.Intent == "" {
		w.seen["call without intent"]++
	}
	return ""
}

func (w *sessionWalk) onTransfer(ev, previous *wireEvent) string {
	switch ev.Type {
	case "queued":
		if w.queued++; w.queued == 2 {
			w.seen["queued twice"]++
		}
		return ""
	case "abandoned":
		w.seen["abandoned"]++
		return ""
	}
	if ev.FromAgentID != w.agent {
		return "assigned from " + ev.FromAgentID + " while the agent is " + w.agent
	}
	if w.agent != "" {
		w.seen["transfer"]++
		if previous.Type == "assigned" && previous.TS == ev.TS {
			w.seen["same-ts assigned"]++
		}
	}
	if ev.GroupID == "" {
		w.seen["assigned without group"]++
	}
	if w.start.Origin == "buyer" && w.queued == 0 {
		return "buyer session assigned without queue"
	}
	w.endAssignment()
	w.agent, w.human, w.agentMsgs, w.buyerMsgs = ev.AgentID, true, 0, 0
	return ""
}

func (w *sessionWalk) endAssignment() {
	if w.human && w.agentMsgs == 1 && w.buyerMsgs == 0 {
		w.seen["single sentence"]++
	}
}

func (w *sessionWalk) onMessage(ev *wireEvent) string {
	w.tr.checkMessage(ev, w.seen)
	switch {
	case ev.Sender == "buyer" && w.human:
		w.pendingBuyer = append(w.pendingBuyer, ev.TS)
		w.buyerMsgs++
		w.humanBuyerMsgs++
		w.tr.checkWindowEdge(ev.TS, w.local, w.seen)
	case ev.Sender == "agent":
		if !w.human {
			return "agent message before the human phase"
		}
		if ev.AgentID != w.agent && !strings.HasSuffix(ev.AgentID, "-a00") {
			return "message of " + ev.AgentID + " while the agent is " + w.agent
		}
		if !ev.IsAd {
			w.onReply(ev)
		}
	}
	return ""
}

// onReply measures the pending buyer messages against an agent message.
func (w *sessionWalk) onReply(ev *wireEvent) {
	w.agentMsgs++
	w.humanAgentMsgs++
	for _, m := range w.pendingBuyer {
		switch d := ev.TS - m; {
		case d == 180000:
			w.seen["reply 180000 ms"]++
		case d == 180001:
			w.seen["reply 180001 ms"]++
		case d > 180001:
			w.seen["reply > 3 min"]++
		}
	}
	if len(w.pendingBuyer) == 4 {
		w.seen["burst of 4"]++
	}
	w.pendingBuyer = w.pendingBuyer[:0]
}

func (w *sessionWalk) onEvaluation(ev *wireEvent) string {
	if !w.human {
		return "evaluation of a session without human phase"
	}
	w.seen["evaluation"]++
	w.seen[fmt.Sprintf("score %d", ev.Score)]++
	if ev.AgentID == "" {
		w.seen["evaluation without agent"]++
	}
	if w.lastRating != nil {
		w.seen["re-rating"]++
		if ev.TS == w.lastRating.TS {
			w.seen["same-ts re-rating"]++
		}
	}
	if !w.closed {
		w.closed, w.closeTS = true, w.lastActivity+sessionTimeout
	}
	if ev.TS > w.closeTS+24*time.Hour.Milliseconds() {
		w.seen["evaluation after 24h"]++
	}
	w.lastRating = ev
	return ""
}

func (w *sessionWalk) onEnd(evs []*wireEvent) {
	w.endAssignment()
	if w.human && w.humanAgentMsgs > 1 && w.humanBuyerMsgs == 0 {
		w.seen["monologue"]++
	}
	if w.human && w.humanAgentMsgs == 0 && w.humanBuyerMsgs > 0 {
		w.seen["unanswered"]++
	}
	if !hasEnded(evs) {
		w.seen["timed out"]++
	}
	if w.local(w.start.TS).Day() != w.local(w.lastActivity).Day() {
		w.seen["crosses local midnight"]++
	}
	if w.start.Origin == "robot_outbound" && !hasSender(evs, "buyer") {
		w.seen["call not connected"]++
	}
}

func hasEnded(evs []*wireEvent) bool {
	for _, ev := range evs {
		if ev.Type == "ended" {
			return true
		}
	}
	return false
}

func hasSender(evs []*wireEvent, sender string) bool {
	for _, ev := range evs {
		if ev.Sender == sender {
			return true
		}
	}
	return false
}

func (tr *traffic) checkMessage(ev *wireEvent, seen map[string]int) {
	switch {
	case ev.IsAd:
		seen["advert"]++
	case strings.HasSuffix(ev.AgentID, "-a00"):
		seen["supervisor message"]++
	case ev.Sender == "system":
		seen["system message"]++
	case ev.Sender == "robot":
		seen["robot message"]++
	}
	if ev.ContentType == "" {
		seen["no content_type"]++
	}
	if ev.ContentType == "image" {
		seen["image without text"]++
	}
}

func (tr *traffic) checkWindowEdge(ts int64, local func(int64) time.Time, seen map[string]int) {
	lt := local(ts)
	if lt.Second() == 0 && lt.Minute() == 0 && lt.Nanosecond() == 0 && (lt.Hour() == 8 || lt.Hour() == 23) {
		seen["buyer msg at local "+lt.Format("15:04:05.000")]++
	}
	if lt.Minute() == 59 && lt.Second() == 59 && lt.Nanosecond() == 999e6 && (lt.Hour() == 7 || lt.Hour() == 22) {
		seen["buyer msg at local "+lt.Format("15:04:05.000")]++
	}
}

// checkOrders: paid after created by the same buyer, and the attribution
// cases of SPEC §3.4.
func (tr *traffic) checkOrders(t *testing.T, seen map[string]int) {
	for id, evs := range tr.orders {
		sort.Slice(evs, func(i, j int) bool { return evs[i].TS < evs[j].TS })
		created := evs[0]
		if len(evs) == 3 && checkPresale(t, id, evs) {
			seen["presale in two payments"]++
			continue
		}
		if created.Type != "created" || len(evs) > 2 {
			t.Errorf("order %s: %d events, first %s", id, len(evs), created.Type)
			continue
		}
		starts := tr.buyers[created.ShopID+"|"+created.BuyerID]
		if len(starts) == 0 {
			seen["silent buyer order"]++
		} else {
			tr.orderCases(created, starts, seen)
		}
		if len(evs) == 1 {
			seen["unpaid order"]++
			continue
		}
		paid := evs[1]
		seen["paid"]++
		if paid.BuyerID != created.BuyerID || paid.Amount > created.Amount {
			t.Errorf("order %s: paid %d by %s, created %d by %s", id, paid.Amount, paid.BuyerID, created.Amount, created.BuyerID)
		}
		if paid.Amount < created.Amount {
			seen["paid less than created"]++
		}
		for _, s := range starts {
			if created.TS < s.TS && s.TS < paid.TS && s.TS-created.TS < time.Hour.Milliseconds() {
				seen["created before a new session, paid after it"]++
				break
			}
		}
	}
}

// checkOutreach: every read names a proactive session of its buyer and
// comes after that session's start; the late campaign's reads run past
// midnight.
func (tr *traffic) checkOutreach(t *testing.T, seen map[string]int) {
	for _, ev := range tr.outreach {
		seen["outreach "+ev.Type]++
		if ev.Type == "accepted" && ev.Via == "auto" {
			seen["outreach accepted auto"]++
		}
		if ev.Type != "read" {
			continue
		}
		var start *wireEvent
		for _, s := range tr.sessions[ev.SessionID] {
			if s.Type == "started" {
				start = s
			}
		}
		if start == nil || start.Origin != "proactive" || start.BuyerID != ev.BuyerID || start.TS > ev.TS {
			t.Errorf("read %s of session %s: not after a proactive session of its buyer", ev.EventID, ev.SessionID)
			continue
		}
		loc := tr.zones[ev.ShopID]
		s, r := time.UnixMilli(start.TS).In(loc), time.UnixMilli(ev.TS).In(loc)
		if s.Hour() == 23 && s.Minute() >= 30 {
			seen["campaign at local 23:30"]++
			if r.YearDay() != s.YearDay() {
				seen["read after local midnight"]++
			}
		}
	}
}

// checkPresale: a presale (预售) order is created, then paid in two
// parts, the deposit and days later the final payment, which add up to the
// order's amount.
func checkPresale(t *testing.T, id string, evs []*wireEvent) bool {
	c, d, f := evs[0], evs[1], evs[2]
	if c.Type != "created" || d.Stage != "deposit" || f.Stage != "final" {
		return false
	}
	if d.Amount+f.Amount != c.Amount || f.TS-d.TS < 24*time.Hour.Milliseconds() || d.BuyerID != c.BuyerID || f.BuyerID != c.BuyerID {
		t.Errorf("order %s: presale created %d, deposit %d, final %d %d ms later", id, c.Amount, d.Amount, f.Amount, f.TS-d.TS)
	}
	return true
}

func (tr *traffic) orderCases(created *wireEvent, starts []*wireEvent, seen map[string]int) {
	var last *wireEvent
	agents := map[string]bool{}
	for _, s := range starts {
		if s.TS > created.TS {
			continue
		}
		last = s
		if created.TS-s.TS < 8*time.Hour.Milliseconds() {
			for _, ev := range tr.sessions[s.SessionID] {
				if ev.Sender == "agent" && !ev.IsAd && !strings.HasSuffix(ev.AgentID, "-a00") {
					agents[ev.AgentID] = true
				}
			}
		}
	}
	if len(agents) >= 2 {
		seen["order after inquiries to two agents"]++
	}
	if last != nil && created.TS-last.TS > 48*time.Hour.Milliseconds() {
		seen["order > 48h after the buyer's last session"]++
	}
}
