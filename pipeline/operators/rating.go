package operators

import "github.com/cspulse/cspulse/schemas"

// applyEvaluation handles cs.evaluations (SPEC §3.3). Evaluations are not
// activity: they do not enter the log, but the session's list of
// evaluations, from which the effective rating is derived whenever the
// list or the session changes.
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
	e.refreshRating(s)
	e.schedule(s)
	return "", true
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

// wantRating is SPEC §3.3: the latest evaluation by (ts, event id) that
// lies within rating_window of the close (any, while the session is open)
// is the session's one rating. It is credited to its agent_id, else to the
// session's last assigned agent, in the group of that agent's (last)
// assignment in the session, in the hour of the evaluation. With no agent
// to credit, the session's row shows the score but no agent row counts it.
func (e *Engine) wantRating(s *session) rating {
	if s.dropped() || s.stub() || s.d.applied == 0 && !s.compacted {
		return rating{} // nothing of the session is applied yet
	}
	d := &s.d
	for i := len(s.evals) - 1; i >= 0; i-- {
		ev := &s.evals[i]
		if d.closed && ev.ts > satAdd(d.closeTS, e.lim.ratingWindow) {
			continue // outside the rating window
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
