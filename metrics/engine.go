package metrics

import (
	"fmt"
	"math"

	"github.com/cspulse/cspulse/schemas"
)

// Engine computes SPEC §3.1–3.3 for the shops of one task (one input
// partition number). It is single-goroutine and lock-free: the task calls
// Apply for each valid event, Advance when its watermark moves, and
// Checkpoint at each checkpoint.
type Engine struct {
	shared // names, shops, event time: what the families see (shared.go)

	lim      limits
	listener SessionListener

	// Sessions by key, compacted summaries included: one map costs one
	// lookup per event and nothing at compaction (two maps, to keep the
	// hot one small, measured 10 % slower on BenchmarkTaskHotPath).
	sessions map[string]*session
	keyBuf   []byte
	timers   timerQueue
	logs     logPool

	agents        map[agentKey]*agentCell
	shops         map[shopKey]*shopCell
	dirtyAgents   []*agentCell
	dirtyShops    []*shopCell
	dirtySessions []*session
	pins          map[int32]int32 // UTC hour (pinHour) → pins (see cells.go)
	logPins       map[int32]int32 // the same, counting the session logs' pins only

	sweptTo int64 // finalBefore / 1h at the last sweep of final cells

	ckpt checkpoints // change tracking for saveChanged (snapshot.go)

	// The operators on the engine's seams (seams.go), owned so that they
	// share its time, finality, flushes and checkpoints.
	attr   *attribution // SPEC §3.4, cs.orders and cs_inquiry_daily
	robots *robots      // SPEC §3.5, cs_robot_hourly
	fig    *figures     // copies of the agent cells' figures (figures.go); nil without alerts
	alerts *alerts      // SPEC §4.2, and the hour clock of the figures; nil without fig
	ranks  *rankings    // SPEC §4.3; nil unless Settings.Rankings
	excl   *exclusive   // SPEC §3.7, cs.outreach and cs_exclusive_daily
	// families are the operators above, in the order they flush, save
	// and load (families.go).
	families []family
	viewBuf  SessionView // the listeners' view, valid during their call

	// discard absorbs the contributions of dropped sessions.
	discard struct {
		agent agentValues
		shop  shopValues
	}
	stats Stats
}

// NewEngine returns an empty engine. It panics when s is invalid
// (Settings.Validate), which configuration validation rules out.
func NewEngine(s Settings) *Engine {
	if err := s.Validate(); err != nil {
		panic(err)
	}
	e := &Engine{
		lim:      newLimits(&s),
		sessions: make(map[string]*session),
		agents:   make(map[agentKey]*agentCell),
		shops:    make(map[shopKey]*shopCell),
		pins:     make(map[int32]int32),
		logPins:  make(map[int32]int32),
		sweptTo:  math.MinInt64,
	}
	e.shared = newShared(s.Zones.Clone(), &e.stats)
	e.timers = newTimerQueue(e.lim.nearTimers())
	e.attr = newAttribution(&e.shared, e, e.lim.lateness, &s.Attribution)
	e.robots = newRobots(&e.shared)
	e.excl = newExclusive(&e.shared, e)
	e.listener = sessionListeners(e.attr, e.robots, e.excl, s.Sessions)
	e.families = []family{e.attr, e.robots}
	if len(s.Alerts) > 0 || s.Rankings {
		e.fig = newFigures()
		e.alerts = newAlerts(e, s.Alerts) // also forgets the copies no one needs
		e.fig.listen = append(e.fig.listen, e.alerts)
		e.families = append(e.families, e.alerts)
		if s.Rankings {
			e.ranks = newRankings(e)
			e.fig.listen = append(e.fig.listen, e.ranks)
			e.families = append(e.families, e.ranks)
		}
	}
	e.families = append(e.families, e.excl)
	return e
}

// Apply takes one valid event. Its []byte fields are read during the call
// only. ok=false means the event is late and the state it needs is gone:
// the caller dead-letters it with the returned reason. Duplicates,
// filtered events and events after their session's close return ok=true
// and change nothing. cs.orders events go to the attribution operator.
func (e *Engine) Apply(ev *schemas.Event) (reason schemas.Reason, ok bool) {
	if e.alerts != nil {
		e.alerts.seen(ev.TS)
	}
	switch ev.Topic {
	case schemas.TopicSessions, schemas.TopicTransfers, schemas.TopicMessages:
		return e.applyActivity(ev)
	case schemas.TopicEvaluations:
		return e.applyEvaluation(ev)
	case schemas.TopicOrders:
		reason, ok := e.attr.apply(ev)
		if ok { // a dead letter counts nowhere
			e.excl.order(ev)
		}
		return reason, ok
	case schemas.TopicOutreach:
		return e.excl.apply(ev)
	}
	return "", true
}

// Advance moves event time to watermark: sessions time out, closed
// sessions give up their logs and later their summaries, and hours become
// final. Watermarks that do not move forward are ignored.
//
// Held order events are stepped in event time with the sessions' closes:
// while the sessions wake, the inquiries they reveal are queued with the
// instant of their wake-up (attribution.deferring), and then inquiries and
// held order events are applied merged in that order, as a watermark that
// stopped at each would have (attribution.catchUp). The rows are therefore
// the same whatever the steps of the watermark.
func (e *Engine) Advance(watermark int64) {
	if watermark <= e.wm {
		return
	}
	if e.alerts != nil {
		// Stop at every local hour end a shop is evaluated at (alerts.go).
		for {
			b, due := e.alerts.nextDue(watermark)
			if !due {
				break
			}
			e.advance(b)
			e.drainFigures()
			e.alerts.evaluateAt(b)
		}
	}
	e.advance(watermark)
}

// advance is Advance without the alerts' stops.
func (e *Engine) advance(watermark int64) {
	if watermark <= e.wm {
		return
	}
	e.wm = watermark
	e.attr.deferring = true
	for {
		s, at, ok := e.timers.popDueAt(watermark)
		if !ok {
			break
		}
		e.attr.heardAt = at
		e.wake(s)
	}
	e.attr.deferring = false
	e.attr.catchUp()
	e.attr.advance() // after the closes, before finality: see attribution
	e.advanceFinality()
	e.robots.sweep()
	e.excl.advance()
}

// isLate is SPEC §2's lateness: behind watermark − allowed_lateness.
func (e *Engine) isLate(ts int64) bool {
	return ts < satSub(e.wm, e.lim.lateness)
}

// applyActivity handles session, transfer and message events: the events
// that make up a session's log.
func (e *Engine) applyActivity(ev *schemas.Event) (schemas.Reason, bool) {
	kind, keep := e.classify(ev)
	if !keep {
		e.stats.Filtered++
		return "", true
	}
	if ev.TS < e.finalBefore {
		return e.late()
	}
	s := e.lookup(ev)
	switch {
	case s == nil:
		if e.isLate(ev.TS) {
			return e.late()
		}
		s = e.newSession(ev)
	case s.compacted:
		if ev.TS <= s.d.closeTS {
			return e.late() // it would be part of the session, whose log is gone
		}
		e.stats.AfterClose++
		return "", true
	}
	e.addEntry(s, ev, kind)
	return "", true
}

// classify maps an event to its log kind; false when a filter (§3.6)
// removes it: adverts and the messages of listed agents do not exist for
// the engine, not even as activity.
func (e *Engine) classify(ev *schemas.Event) (entryKind, bool) {
	switch ev.Topic {
	case schemas.TopicSessions:
		if ev.Type == schemas.TypeStarted {
			return kindStarted, true
		}
		return kindEnded, true
	case schemas.TopicTransfers:
		switch ev.Type {
		case schemas.TypeQueued:
			return kindQueued, true
		case schemas.TypeAssigned:
			return kindAssigned, true
		}
		return kindAbandoned, true
	}
	if ev.IsAd && e.lim.adverts {
		return 0, false
	}
	switch ev.Sender {
	case schemas.SenderBuyer:
		return kindBuyer, true
	case schemas.SenderAgent:
		if _, listed := e.lim.agents[string(ev.AgentID)]; listed {
			return 0, false
		}
		return kindAgent, true
	}
	return kindOther, true
}

// lookup finds the event's session; the key is built in a reused buffer
// and the map lookup does not copy it.
func (e *Engine) lookup(ev *schemas.Event) *session {
	e.keyBuf = appendSessionKey(e.keyBuf[:0], ev.ShopID, ev.SessionID)
	return e.sessions[string(e.keyBuf)]
}

// newSession creates the session whose key lookup just built. Sessions are
// created by whichever of their events arrives first (cross-topic
// disorder): the log sorts the rest out.
func (e *Engine) newSession(ev *schemas.Event) *session {
	shop, zone := e.shop(ev.ShopID)
	s := &session{
		key:     string(e.keyBuf),
		shop:    shop,
		zone:    zone,
		timerAt: math.MaxInt64,
		evalTo:  math.MinInt64,
		pinLog:  pinNone,
		pinEval: pinNone,
	}
	s.assigns, s.pairs = s.assignBuf[:0:1], s.pairBuf[:0:1]
	s.d.reset()
	e.sessions[s.key] = s
	return s
}

// addEntry puts an activity event into its session's log. The log doubles
// as the session's reorder buffer: an entry ahead of the watermark waits
// in it, sorted, and is stepped when the watermark passes it (wake), so
// cross-topic disorder within max_out_of_order costs an insertion, not a
// replay. An entry behind the watermark that follows everything applied is
// stepped at once; one that lands after the session's close changes
// nothing; any other (late within allowed_lateness, or changing the header
// of applied entries) retracts the session's contributions, goes into the
// log, and the log is replayed.
func (e *Engine) addEntry(s *session, ev *schemas.Event, kind entryKind) {
	en := entry{ts: ev.TS, meta: makeMeta(kind, ev.EventID)}
	var a *assignment
	switch kind {
	case kindAssigned:
		a = &assignment{ts: ev.TS, agent: e.names.id(ev.AgentID), group: e.names.id(ev.GroupID)}
	case kindAgent:
		en.ref = e.names.id(ev.AgentID)
	case kindOther:
		if ev.Sender == schemas.SenderRobot {
			en.ref = 1
		}
	case kindEnded:
		en.ref = e.names.id(ev.Intent)
	}
	pos, dup := s.position(&en, ev.EventID)
	if dup {
		e.stats.Duplicates++
		return
	}
	e.touchSession(s)
	if a != nil {
		a.id = string(ev.EventID)
	}
	d := &s.d
	newHeader := kind == kindStarted && !s.hasStartedBefore(pos)
	inOrder := pos >= int(d.applied) && !d.closed && (!newHeader || d.applied == 0)
	switch {
	case inOrder && en.ts >= e.wm: // on time: ts ≥ watermark can still come before it
		if newHeader {
			e.setHeader(s, ev)
		}
		e.holdEntry(s, pos, en, a)
	case inOrder && pos == int(d.applied):
		if newHeader {
			e.setHeader(s, ev)
		}
		e.appendEntry(s, pos, en, a)
	case d.closed && pos >= int(d.applied) && (d.closedByEnded || en.ts > d.closeTS):
		s.insert(pos, en, a, &e.logs)
		e.stats.AfterClose++
	default:
		e.retract(s)
		s.insert(pos, en, a, &e.logs)
		if newHeader {
			e.setHeader(s, ev)
		}
		e.reapply(s)
	}
}

// holdEntry puts an entry ahead of the watermark into the log, unapplied,
// and arms the session's wake for it.
func (e *Engine) holdEntry(s *session, pos int, en entry, a *assignment) {
	e.insertEntry(s, pos, en, a)
	e.schedule(s)
}

// appendEntry steps an entry behind the watermark that follows every
// applied one (and precedes the held ones).
func (e *Engine) appendEntry(s *session, pos int, en entry, a *assignment) {
	e.insertEntry(s, pos, en, a)
	if len(s.evals) > 0 {
		e.dueEvals(s, en.ts-1)
	}
	e.step(s, pos, 1)
	switch {
	case s.d.closed || len(s.evals) > 0:
		e.settle(s)
	case s.timerAt == math.MaxInt64:
		e.schedule(s)
	}
}

// insertEntry puts en at pos in s's log; a new first entry moves the log's
// hour pin to it.
func (e *Engine) insertEntry(s *session, pos int, en entry, a *assignment) {
	s.insert(pos, en, a, &e.logs)
	if pos == 0 {
		e.setLogPin(s, en.ts, true)
	}
}

// catchUp steps the held entries the watermark has passed.
func (e *Engine) catchUp(s *session) {
	for i := int(s.d.applied); i < len(s.log) && s.log[i].ts < e.wm; i++ {
		if len(s.evals) > 0 {
			e.dueEvals(s, s.log[i].ts-1)
		}
		if !e.step(s, i, 1) {
			return
		}
	}
}

// retract takes back every contribution of s, under the header and log
// that made them: its rating, its close, then its log.
func (e *Engine) retract(s *session) {
	e.stats.Replays++
	e.contributeRating(s, &s.rated, -1)
	s.rated = rating{}
	s.evalTo = math.MinInt64 // the replay steps them again
	if s.closeApplied {
		e.applyClose(s, -1)
	}
	e.replay(s, -1)
}

// reapply replays the changed log and settles the session again.
func (e *Engine) reapply(s *session) {
	e.setLogPin(s, s.log[0].ts, true)
	e.replay(s, 1)
	e.settle(s)
}

// settle brings s up to date with the watermark after its log was applied:
// it closes by timeout when due, makes the close contributions, refreshes
// the rating and arms the next wake-up.
func (e *Engine) settle(s *session) {
	d := &s.d
	if !d.closed && d.applied > 0 && e.wm > satAdd(d.lastAct, e.lim.timeout) {
		d.closed, d.closeTS = true, d.lastAct+e.lim.timeout
	}
	if d.closed && !s.closeApplied {
		e.applyClose(s, 1)
	}
	e.dueEvals(s, satSub(e.wm, 1))
	e.refreshRating(s)
	e.schedule(s)
}

func (s *session) hasStartedBefore(pos int) bool {
	for i := range pos {
		if s.log[i].kind() == kindStarted {
			return true
		}
	}
	return false
}

// setHeader takes the session's identity from its first `started`.
func (e *Engine) setHeader(s *session, ev *schemas.Event) {
	_, dropped := e.lim.buyers[string(ev.BuyerID)]
	s.hdr = header{
		buyer:              string(ev.BuyerID),
		channel:            e.names.id(ev.Channel),
		task:               e.names.id(ev.TaskID),
		robot:              e.names.id(ev.RobotID),
		origin:             ev.Origin,
		droppedByBuyerList: dropped,
	}
}

// String describes the engine's position, for logs and test failures.
func (e *Engine) String() string {
	return fmt.Sprintf("metrics.Engine{watermark %d, final before %d, %d sessions, %d agent cells, %d shop cells}",
		e.wm, e.finalBefore, len(e.sessions), len(e.agents), len(e.shops))
}

// Checkpoint cuts the engine's output since the last checkpoint: every
// changed row, as a full row carrying version, into rows; the alerts raised
// (they are in rows too, as cs_alerts); and, when state is not nil, every
// state entry changed. One call, so that no caller can get the order wrong:
// the state saved never has a row pending.
func (e *Engine) Checkpoint(version uint64, rows RowSink, state StateSink) []schemas.Alert {
	e.flush(version, rows)
	alerts := e.takeAlerts()
	if state != nil {
		e.saveChanged(state)
	}
	return alerts
}
