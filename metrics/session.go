package metrics

import (
	"cmp"
	"encoding/binary"
	"math"
	"strings"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
)

// entryKind is what a log entry is. The numeric order is the order of
// entries with equal ts (SPEC §2 only fixes it for two `assigned` and two
// evaluations; for the rest it is chosen so that every definition reads
// naturally at equal ts, see doc.go): a session starts before anything
// happens in it, a queue is entered before an agent is assigned from it, an
// assignment precedes the messages of its instant (the current agent at t
// is the latest `assigned` at or before t), a buyer message precedes an
// agent message of the same instant (which replies to it), and `ended`
// comes last, so that events of its instant are still part of the session.
type entryKind uint8

const (
	kindStarted entryKind = iota
	kindQueued
	kindAssigned
	kindBuyer
	kindAgent
	kindOther // robot and system messages: activity, counted in cs_sessions only
	kindAbandoned
	kindEnded
)

const (
	kindShift = 29
	hashMask  = 1<<kindShift - 1
)

// entry is one activity event in a session's log: 16 bytes, because a
// typical open session holds a few dozen and the budget is 1 KiB per open
// session.
//
// ref depends on the kind: the assignment's index in session.assigns for
// kindAssigned; the sender's interned agent for kindAgent; the current
// assignment when the message was applied for kindBuyer (derived, rewritten
// by every replay); 1 for a robot message (kindOther); the interned intent
// for kindEnded.
type entry struct {
	ts   int64
	meta uint32 // kind << 29 | 29 bits of the event id's hash
	ref  uint32
}

func (e *entry) kind() entryKind { return entryKind(e.meta >> kindShift) }
func (e *entry) hash() uint32    { return e.meta & hashMask }

func makeMeta(k entryKind, eventID []byte) uint32 {
	return uint32(k)<<kindShift | fnv32(eventID)&hashMask
}

// fnv32 is FNV-1a. Duplicates are found by (ts, kind, hash): an event and
// its re-delivery agree on all three, and two different events of one
// session agree on ts and kind and collide on 29 bits of hash with
// probability 2⁻²⁹, rarely enough next to the shared millisecond.
// `assigned`, whose order at equal ts the SPEC fixes by event_id, keeps its
// whole id instead (assignment.id).
func fnv32(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// assignment is one `assigned` event and what the replay derived about the
// assignment it opens (SPEC §3.2: from its `assigned` to the next one or the
// close).
type assignment struct {
	id           string // event id: the order of equal-ts assignments, exact duplicates
	ts           int64
	agent, group uint32
	// Derived by the replay.
	agentMsgs  uint16 // messages of this agent within the assignment, saturating
	buyerAfter bool   // a buyer message came after the agent's first message
}

// pair is a (session, agent) pair of SPEC §3.1's session 3-minute rate: the
// agent's in-window buyer messages and how many were replied within.
type pair struct {
	firstTS      int64 // the pair's first in-window buyer message: its hour
	agent, group uint32
	inWindow     uint32
	within       uint32
}

func (p *pair) ok() bool { return p.inWindow > 0 && p.within == p.inWindow }

// evaluation is one cs.evaluations event of the session.
type evaluation struct {
	id    string
	ts    int64
	agent uint32
	score int8
}

// rating is the contribution a session's rating makes to an agent cell; it
// is remembered so that a re-rating or a new attribution retracts exactly
// what was added.
type rating struct {
	ts           int64 // of the winning evaluation: its hour, its window
	agent, group uint32
	score        int8 // 0: no valid evaluation
	counted      bool // an agent could be credited
}

// header holds what the session's first `started` (in log order) says.
type header struct {
	buyer              string
	channel            uint32
	task, robot        uint32
	origin             schemas.Origin
	droppedByBuyerList bool
}

// session is all the engine keeps of one session: its header, its sorted
// activity log (until the log is compacted), the evaluations, and the
// state derived by replaying the log (d).
type session struct {
	key     string // map key: uvarint(len(shop)) shop session_id
	hdr     header
	log     []entry      // from the engine's logPool
	assigns []assignment // sorted like the log; entries refer by index
	pairs   []pair
	evals   []evaluation // sorted by (ts, event id)
	zone    *eventtime.Zone

	// Room for the usual one assignment and one pair, saving an
	// allocation each per session.
	assignBuf [1]assignment
	pairBuf   [1]pair

	// The cells this session wrote last (see Engine.agentCell).
	lastAgentCell *agentCell
	lastShopCell  *shopCell

	d     derived
	rated rating

	timerAt int64 // pending wake-up; math.MaxInt64 none
	// evalTo: the evaluations at or before it are stepped (part of the
	// rating); later ones are held until the session's log has been
	// stepped up to them (see dueEvals).
	evalTo  int64
	pinLog  int32 // pinned hour of log[0] (see pinHour); pinNone when none
	pinEval int32 // pinned hour of the earliest evaluation

	shop         uint32
	rowDay       eventtime.Date // day column, frozen when first written
	closeApplied bool           // close contributions are in the cells
	shown        bool           // the session listener holds its close
	compacted    bool           // log dropped: only the summary is left
	deleted      bool
	rowDirty     bool
	rowWritten   bool
	entryState   // changes.go
}

func (s *session) gone() bool { return s.deleted }

const pinNone = math.MinInt32

func (s *session) dropped() bool { return s.hdr.droppedByBuyerList }

// stub reports whether s is only a holder for evaluations of a session
// whose activity has not arrived yet.
func (s *session) stub() bool { return len(s.log) == 0 && !s.compacted }

// sessionID returns the session id part of s.key.
func (s *session) sessionID() string {
	n, shift, i := 0, 0, 0
	for ; s.key[i] >= 0x80; i++ {
		n |= int(s.key[i]&0x7f) << shift
		shift += 7
	}
	n |= int(s.key[i]) << shift
	return s.key[i+1+n:]
}

// appendSessionKey builds the map key of (shop, session): length-prefixed
// so that no shop id can make two keys collide.
func appendSessionKey(dst, shop, sessionID []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(shop)))
	dst = append(dst, shop...)
	return append(dst, sessionID...)
}

// compare orders a (in the log) against b (new, with event id id):
// by ts, then kind, then event id for assignments and hash for the rest.
// 0 means b is a duplicate of a.
func (s *session) compare(a, b *entry, id []byte) int {
	switch {
	case a.ts != b.ts:
		return cmp.Compare(a.ts, b.ts)
	case a.kind() != b.kind():
		return cmp.Compare(int64(a.kind()), int64(b.kind()))
	case a.kind() == kindAssigned:
		return strings.Compare(s.assigns[a.ref].id, string(id))
	}
	return cmp.Compare(int64(a.hash()), int64(b.hash()))
}

// position returns where e belongs in the log, searching from the end
// (most events arrive in order or nearly), and whether the log already
// holds it.
func (s *session) position(e *entry, id []byte) (int, bool) {
	i := len(s.log)
	for ; i > 0; i-- {
		c := s.compare(&s.log[i-1], e, id)
		if c == 0 {
			return i - 1, true
		}
		if c < 0 {
			break
		}
	}
	return i, false
}

// insert puts e at log position i, growing the log from pool. An
// assignment record is inserted at the matching place of s.assigns and the
// log's references are renumbered.
func (s *session) insert(i int, e entry, a *assignment, pool *logPool) {
	if a != nil {
		at := len(s.assigns) // appended: after every assignment
		if i < len(s.log) {
			at = s.assignsBefore(i)
		}
		s.assigns = growInsert(s.assigns, at, *a, 1)
		for j := range s.log {
			if l := &s.log[j]; l.kind() == kindAssigned && int(l.ref) >= at {
				l.ref++
			}
		}
		e.ref = uint32(at)
	}
	s.log = pool.grow(s.log)[:len(s.log)+1]
	copy(s.log[i+1:], s.log[i:])
	s.log[i] = e
}

// assignsBefore counts the assignments among the first i log entries.
func (s *session) assignsBefore(i int) int {
	n := 0
	for j := range i {
		if s.log[j].kind() == kindAssigned {
			n++
		}
	}
	return n
}

// growInsert inserts v at i, growing capacity by a quarter (at least
// minGrow elements) rather than append's doubling.
func growInsert[T any](xs []T, i int, v T, minGrow int) []T {
	if len(xs) == cap(xs) {
		grown := make([]T, len(xs), len(xs)+max(minGrow, len(xs)/4))
		copy(grown, xs)
		xs = grown
	}
	xs = xs[:len(xs)+1]
	copy(xs[i+1:], xs[i:])
	xs[i] = v
	return xs
}

// groupOf returns the group of agent's latest assignment among the applied
// ones (up to index cur), or 0 when the agent has none: SPEC §3 puts an
// agent's figures in the group of the assignment they belong to.
func (s *session) groupOf(agent uint32, cur int) uint32 {
	for i := cur; i >= 0; i-- {
		if s.assigns[i].agent == agent {
			return s.assigns[i].group
		}
	}
	return 0
}

// addEval stores ev in (ts, event id) order; false when it is a duplicate.
func (s *session) addEval(ev evaluation) bool {
	i := len(s.evals)
	for ; i > 0; i-- {
		prev := &s.evals[i-1]
		c := cmp.Compare(prev.ts, ev.ts)
		if c == 0 {
			c = strings.Compare(prev.id, ev.id)
		}
		if c == 0 {
			return false
		}
		if c < 0 {
			break
		}
	}
	s.evals = growInsert(s.evals, i, ev, 1)
	return true
}
