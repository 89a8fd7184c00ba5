package metrics

import (
	"math"

	"github.com/cspulse/cspulse/schemas"
)

// applyEvaluation handles cs.evaluations (SPEC §3.3). Evaluations are not
// activity: they do not enter the log, but the session's list of
// evaluations, from which the effective rating is derived.
//
// Like the log's entries, an evaluation is held until the watermark passes
// it and then stepped after every activity event before it (dueEvals): the
// rating is credited only once the session's earlier events are applied,
// so it never lands, even for a while, on an agent or group that a held
// `assigned` would change, and the rows do not depend on where the
// watermark steps or the flushes fall.
//
// An evaluation more than rating_window after the close of its (closed)
// session changes nothing: it is late (SPEC §3.3), counted in
// Stats.LateRatings and returned as ReasonLate, to be dead-lettered.
//
// An evaluation whose session is unknown and that is not late starts a stub
// session (cross-topic disorder: the evaluation overtook the session's own
// events). The stub counts nothing until the session's activity arrives;
// if none arrives before watermark > evaluation + lateness, the evaluation
// is an orphan and is dropped (Stats.OrphanEvaluations).
func (e *Engine) applyEvaluation(ev *schemas.Event) (schemas.Reason, bool) {
	if ev.TS < e.finalBefore {
		return e.late()
	}
	s := e.lookup(ev)
	if s == nil {
		if e.isLate(ev.TS) {
			return e.late()
		}
		s = e.newSession(ev)
	}
	if s.dropped() {
		e.stats.Filtered++
		return "", true
	}
	if !s.stub() && s.d.closed && ev.TS > satAdd(s.d.closeTS, e.lim.ratingWindow) {
		e.stats.LateRatings++
		return e.late()
	}
	added := s.addEval(evaluation{
		id:    string(ev.EventID),
		ts:    ev.TS,
		agent: e.names.id(ev.AgentID),
		score: ev.Score,
	})
	if !added {
		e.stats.Duplicates++
		return "", true
	}
	e.touchSession(s)
	e.setPin(&s.pinEval, s.evals[0].ts, true)
	if ev.TS < e.wm || ev.TS <= s.evalTo {
		// Behind the watermark: every activity event before it that can
		// still come on time is applied.
		e.dueEvals(s, satSub(e.wm, 1))
		e.refreshRating(s)
	}
	e.schedule(s)
	return "", true
}

// dueEvals steps the session's evaluations up to upTo: from now on they
// are part of its rating. They are stepped one instant at a time, as they
// would be by a watermark that stopped at each, so that a rating replaced
// by a re-rating was credited in between whatever the watermark's steps.
// A stub's evaluations wait for its activity.
func (e *Engine) dueEvals(s *session, upTo int64) {
	if upTo <= s.evalTo || s.stub() {
		return
	}
	for {
		next := s.nextEval()
		if next > upTo || next == math.MaxInt64 {
			break
		}
		s.evalTo = next
		e.refreshRating(s)
	}
	s.evalTo = upTo
}

// nextEval returns the ts of the first held evaluation, or MaxInt64.
func (s *session) nextEval() int64 {
	if len(s.evals) == 0 {
		return math.MaxInt64
	}
	at := int64(math.MaxInt64)
	for i := len(s.evals) - 1; i >= 0 && s.evals[i].ts > s.evalTo; i-- {
		at = s.evals[i].ts
	}
	return at
}

// refreshRating makes the cells hold the rating that the session's current
// state calls for, retracting the one they held.
func (e *Engine) refreshRating(s *session) {
	if len(s.evals) == 0 {
		return
	}
	want := e.wantRating(s)
	if want == s.rated {
		return
	}
	e.contributeRating(s, &s.rated, -1)
	e.contributeRating(s, &want, 1)
	s.rated = want
	e.markRow(s)
}

// wantRating is SPEC §3.3: of the stepped evaluations, the latest by (ts,
// event id) that lies within rating_window of the close is the session's
// one rating. It is credited to its agent_id, else to the session's last
// assigned agent, in the group of that agent's (last) assignment in the
// session, in the hour of the evaluation. With no agent to credit, the
// session's row shows the score but no agent row counts it.
//
// A stepped evaluation of an open session comes after every applied
// activity event; one more than the timeout after the last of them is
// after the timeout close, at lastAct + timeout, whatever arrives later.
func (e *Engine) wantRating(s *session) rating {
	if s.dropped() || s.stub() || s.d.applied == 0 && !s.compacted {
		return rating{} // nothing of the session is applied yet
	}
	d := &s.d
	closeTS := d.closeTS
	if !d.closed {
		closeTS = satAdd(d.lastAct, e.lim.timeout)
	}
	for i := len(s.evals) - 1; i >= 0; i-- {
		ev := &s.evals[i]
		if ev.ts > s.evalTo || ev.ts > satAdd(closeTS, e.lim.ratingWindow) {
			continue // held, or outside the rating window
		}
		r := rating{ts: ev.ts, agent: ev.agent, score: ev.score}
		if r.agent == 0 && d.cur >= 0 {
			r.agent = s.assigns[d.cur].agent
		}
		if r.agent != 0 {
			r.counted = true
			r.group = s.groupOf(r.agent, int(d.cur))
		}
		return r
	}
	return rating{}
}

func (e *Engine) contributeRating(s *session, r *rating, sign int64) {
	if r.score == 0 || !r.counted {
		return
	}
	c := e.agentCell(s, r.group, r.agent, r.ts)
	satisfied := r.score >= e.lim.satisfied
	c[agentRatings] += sign
	if satisfied {
		c[agentSatisfied] += sign
	}
	if s.zone.InDailyWindow(r.ts, e.lim.windowFrom, e.lim.windowTo) {
		c[agentRatingsWindow] += sign
		if satisfied {
			c[agentSatisfiedWindow] += sign
		}
	}
}
