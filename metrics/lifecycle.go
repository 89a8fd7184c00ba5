package metrics

import (
	"math"

	"github.com/cspulse/cspulse/schemas"
)

// A session lives through these phases, each ended by the watermark:
//
//	stub      evaluations only, waiting for the session's activity;
//	          removed (orphan) when watermark > last evaluation + lateness
//	open      log held; closes at `ended`, at a gap > timeout, or when
//	          watermark > last activity + timeout
//	closed    log held so that a late event can still rewrite (or reopen)
//	          it; compacted when watermark > close + lateness
//	compacted summary only (row values, assignments, evaluations), for
//	          evaluations up to rating_window after the close; removed when
//	          watermark > close + rating_window + lateness
//
// Each bound is the first watermark at which no event that could change
// the phase's state can still be accepted: such an event has ts ≤ the
// bound's instant and would be late (ts < watermark − lateness).

// wake runs when s's timer fires: it moves s through its phases.
func (e *Engine) wake(s *session) {
	e.touchSession(s) // its timer at least changed
	w := e.wm
	if s.stub() {
		if w > satAdd(s.evals[len(s.evals)-1].ts, e.lim.lateness) {
			e.stats.OrphanEvaluations += uint64(len(s.evals))
			e.remove(s)
			return
		}
		e.schedule(s)
		return
	}
	if !s.d.closed {
		e.catchUp(s)
		e.settle(s)
	} else if len(s.evals) > 0 {
		e.dueEvals(s, satSub(w, 1))
	}
	if s.d.closed && !s.compacted && w > satAdd(s.d.closeTS, e.lim.lateness) {
		e.compact(s)
	}
	if s.compacted && w > satAdd(satAdd(s.d.closeTS, e.lim.ratingWindow), e.lim.lateness) {
		e.remove(s)
		return
	}
	e.schedule(s)
}

// nextWake is the first watermark at which s's phase ends.
func (e *Engine) nextWake(s *session) int64 {
	d := &s.d
	switch {
	case s.stub():
		return satAdd(s.evals[len(s.evals)-1].ts, e.lim.lateness+1)
	case !d.closed:
		at := int64(math.MaxInt64)
		if d.applied > 0 {
			at = satAdd(d.lastAct, e.lim.timeout+1)
		}
		if i := int(d.applied); i < len(s.log) {
			at = min(at, satAdd(s.log[i].ts, 1)) // the first held entry, stepped once the watermark is past it
		}
		return min(at, satAdd(s.nextEval(), 1))
	case !s.compacted:
		return min(satAdd(d.closeTS, e.lim.lateness+1), satAdd(s.nextEval(), 1))
	}
	return min(satAdd(satAdd(d.closeTS, e.lim.ratingWindow), e.lim.lateness+1), satAdd(s.nextEval(), 1))
}

// schedule arms s's timer for nextWake unless an earlier one is pending.
// Timers are lazy: activity moves an open session's deadline later without
// touching the heap; the old timer fires, finds the session alive, and
// re-arms. That keeps the steady path free of heap operations.
func (e *Engine) schedule(s *session) {
	at := e.nextWake(s)
	if at >= s.timerAt {
		return
	}
	s.timerAt = at
	e.timers.push(at, s)
}

// compact drops the log of a closed session that no late event can change
// any more, keeping the summary that cs_sessions rows and ratings need.
func (e *Engine) compact(s *session) {
	e.setLogPin(s, 0, false)
	e.logs.put(s.log)
	s.assigns = keepApplied(s.assigns[:s.d.cur+1], s.assignBuf[:])
	s.log, s.pairs = nil, nil
	s.compacted = true
	e.show(s) // held back until now when its `started` never came
	e.markRow(s)
}

// keepApplied returns the applied assignments without their event ids, in
// buf when they fit, else in an array of their exact size.
func keepApplied(applied, buf []assignment) []assignment {
	var kept []assignment
	if len(applied) <= len(buf) {
		kept = buf[:len(applied):len(applied)]
	} else {
		kept = make([]assignment, len(applied))
	}
	copy(kept, applied)
	for i := range kept {
		kept[i].id = ""
	}
	return kept
}

// remove forgets s.
func (e *Engine) remove(s *session) {
	delete(e.sessions, s.key)
	e.setLogPin(s, 0, false)
	e.setPin(&s.pinEval, 0, false)
	s.deleted = true
}

// applyClose makes (sign +1) or takes back (−1) what a session contributes
// at its close, when its receptions are final (SPEC §3.2, §3.6): the
// received session, the session listener's view, and the cs_sessions row.
func (e *Engine) applyClose(s *session, sign int64) {
	s.closeApplied = sign > 0
	if s.dropped() {
		return
	}
	if ts, ok := e.firstReception(s); ok {
		e.shopCell(s, ts)[shopReceived] += sign
		if e.ranks != nil {
			e.ranks.sessionClosed(s, sign)
		}
	}
	if sign > 0 {
		e.show(s)
		e.markRow(s)
	} else {
		e.unshow(s)
	}
}

// known reports whether s's identity is settled: its `started` arrived,
// or it was compacted and nothing can arrive any more. Until then a
// `started` could still move its start (and the row's day, part of the
// table's partition) or name a listed buyer and drop the session, so
// neither the cs_sessions row nor the listener sees it before.
func (s *session) known() bool { return s.d.started || s.compacted }

// show gives the listener s's close, once s is known.
func (e *Engine) show(s *session) {
	if e.listener == nil || s.shown || !s.closeApplied || s.dropped() || !s.known() {
		return
	}
	s.shown = true
	e.viewBuf = e.view(s) // in the engine: a local would escape to the heap
	e.listener.SessionClosed(&e.viewBuf, 1)
}

// unshow takes back what show gave.
func (e *Engine) unshow(s *session) {
	if !s.shown {
		return
	}
	s.shown = false
	e.viewBuf = e.view(s)
	e.listener.SessionClosed(&e.viewBuf, -1)
}

// markRow queues s's cs_sessions row for the next flush, once s is known.
func (e *Engine) markRow(s *session) {
	if s.rowDirty || s.dropped() || !s.closeApplied || !s.known() {
		return
	}
	s.rowDirty = true
	e.dirtySessions = append(e.dirtySessions, s)
}

// monologue is SPEC §3.6's: agents spoke in the human phase, the buyer not.
func (e *Engine) monologue(s *session) bool {
	return s.d.humanAgent > 0 && s.d.humanBuyer == 0
}

// singleSentence is SPEC §3.6's: the agent sent exactly one message and
// the buyer none after it.
func singleSentence(a *assignment) bool { return a.agentMsgs == 1 && !a.buyerAfter }

// firstReception returns the instant of the session's first reception (a
// picked assignment that no enabled filter removes): the hour of its
// `assigned` is the hour of the received session.
func (e *Engine) firstReception(s *session) (int64, bool) {
	for i := range s.d.cur + 1 {
		if e.reception(s, i) {
			return s.assigns[i].ts, true
		}
	}
	return 0, false
}

// reception reports whether applied assignment i is a reception (SPEC
// §3.2, §3.6): picked, and removed by no enabled filter.
func (e *Engine) reception(s *session, i int32) bool {
	a := &s.assigns[i]
	switch {
	case a.agentMsgs == 0:
		return false
	case e.lim.singleSentence && singleSentence(a):
		return false
	case e.lim.monologue && e.monologue(s):
		return false
	}
	return true
}

// inquiry reports whether s is SPEC §3.4's inquiry (询单): origin buyer,
// the buyer's first human-phase message replied, and the assignment that
// reply belongs to a reception. A filtered reception makes no inquiry,
// even when another assignment of the session is a reception.
func (e *Engine) inquiry(s *session) bool {
	d := &s.d
	return s.hdr.origin == schemas.OriginBuyer && d.inquiryReplied && d.inquiryAssign >= 0 &&
		e.reception(s, d.inquiryAssign)
}

// Filter names in cs_sessions.filtered_by, in this fixed order.
const (
	filterSingleSentence = "agent_single_sentence"
	filterMonologue      = "monologue"
)

// filteredBy names the enabled filters that removed at least one of the
// session's picked assignments (agent single sentence) or the session
// (monologue), comma-separated in a fixed order, also when another
// assignment is still a reception; "" when none did.
func (e *Engine) filteredBy(s *session) string {
	if !s.d.pickedAny {
		return ""
	}
	single := false
	if e.lim.singleSentence {
		for i := range s.d.cur + 1 {
			if a := &s.assigns[i]; a.agentMsgs > 0 && singleSentence(a) {
				single = true
				break
			}
		}
	}
	mono := e.lim.monologue && e.monologue(s)
	switch {
	case single && mono:
		return filterSingleSentence + "," + filterMonologue
	case single:
		return filterSingleSentence
	case mono:
		return filterMonologue
	}
	return ""
}

// timerQueue holds the session wake-ups in two heaps split at the
// horizon, watermark + span. Almost every pop is due soon (held entries,
// timeouts, compactions: all within timeout + lateness of the watermark),
// while every compacted session also waits rating_window for its removal.
// In one heap those removals, most of its items, sat under every near
// item: each pop sifted a far item through all its levels, missing the
// cache on the lower ones. Pushes within the horizon go to the small near
// heap, which stays hot; the rest to the far heap. Each item is popped
// from the heap it was pushed to, whichever top comes first.
type timerQueue struct {
	near, far timerHeap
	span      int64
	horizon   int64 // pushes at or before it go to near
}

func newTimerQueue(span int64) timerQueue {
	return timerQueue{span: span, horizon: math.MinInt64}
}

func (q *timerQueue) push(at int64, s *session) {
	if at <= q.horizon {
		q.near.push(at, s)
	} else {
		q.far.push(at, s)
	}
}

// advance moves the horizon with the watermark.
func (q *timerQueue) advance(watermark int64) {
	q.horizon = max(q.horizon, satAdd(watermark, q.span))
}

// popDue returns the next live session whose timer is at or before
// watermark, disarmed; sessions due at the same time come out in key
// order, as from one heap.
func (q *timerQueue) popDue(watermark int64) (*session, bool) {
	s, _, ok := q.popDueAt(watermark)
	return s, ok
}

// popDueAt is popDue that also returns the instant the timer was set for.
func (q *timerQueue) popDueAt(watermark int64) (*session, int64, bool) {
	q.advance(watermark)
	for {
		h := &q.near
		if len(q.far) > 0 && (len(q.near) == 0 || q.far[0].before(&q.near[0])) {
			h = &q.far
		}
		if len(*h) == 0 || (*h)[0].at > watermark {
			return nil, 0, false
		}
		if it := h.pop(); it.live() {
			it.s.timerAt = math.MaxInt64
			return it.s, it.at, true
		}
	}
}

// timerHeap is a min-heap of session wake-ups. An item is stale when its
// session was re-armed earlier or removed since; stale items are skipped
// when they come up.
type timerHeap []timerItem

type timerItem struct {
	at int64
	s  *session
}

// before orders items by time, then by session key. Sessions due at the
// same instant therefore wake in key order, whatever the heap's history:
// an engine restored from a checkpoint, whose heap is rebuilt, wakes them
// (and emits their rows and listener calls) in the same order as the
// engine that saved it. Equal keys at equal times are one session (or a
// removed one and its successor, skipped as stale), so their order does
// not matter.
func (a *timerItem) before(b *timerItem) bool {
	return a.at < b.at || a.at == b.at && a.s.key < b.s.key
}

// live reports whether the item is its session's pending timer.
func (it *timerItem) live() bool { return !it.s.deleted && it.s.timerAt == it.at }

func (h *timerHeap) push(at int64, s *session) {
	*h = append(*h, timerItem{at: at, s: s})
	q := *h
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q[i].before(&q[p]) {
			break
		}
		q[p], q[i] = q[i], q[p]
		i = p
	}
}

func (h *timerHeap) pop() timerItem {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = timerItem{}
	q = q[:last]
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(q) {
			break
		}
		if r := c + 1; r < len(q) && q[r].before(&q[c]) {
			c = r
		}
		if !q[c].before(&q[i]) {
			break
		}
		q[i], q[c] = q[c], q[i]
		i = c
	}
	*h = q
	return top
}
