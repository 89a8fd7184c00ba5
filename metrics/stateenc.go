package metrics

import (
	"errors"
	"fmt"
	"math"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/metrics/statecodec"
	"github.com/cspulse/cspulse/schemas"
)

// The binary layout of the state entries (see snapshot.go for the keys and
// the contract). Every value is
//
//	stateVersion (1 byte), then per kind:
//	meta     varint wm, varint finalBefore, varint sweptTo
//	cell     uvarint n, n × varint column (in the table's column order; a
//	         value with fewer columns than this build has leaves the rest 0,
//	         one with more is refused)
//	session  varint base, uvarint n, n × str name, body
//
// In a session's body a name is a uvarint: 0 the empty name, i the i-th of
// the value's names; a time ts is varint(ts − base), wrapping. The body,
// in order:
//
//	flags                 uvarint: the booleans of sessionBools, then
//	                      flagTimer and flagRated
//	origin                1 byte
//	buyer                 str
//	channel, task, robot  names
//	timer                 time, if flagTimer
//	row day               varint, if rowWritten
//	derived               uvarint mask of the set times, the set times of
//	                      derivedTimes, varint waitSum, uvarint applied,
//	                      varint pendingFrom, varint cur, uvarint buyerMsgs,
//	                      agentMsgs, robotMsgs, humanBuyer, humanAgent,
//	                      names inquiryAgent, intent, varint
//	                      inquiryAssign (version 2)
//	assignments           uvarint n, n × (str id, time, names agent, group,
//	                      uvarint agentMsgs, byte buyerAfter)
//	log                   uvarint n, n × (uvarint ts − previous ts (the
//	                      first: − base), 4 bytes meta little-endian, ref:
//	                      a name for agent and ended entries, else uvarint)
//	pairs                 uvarint n, n × (time firstTS, names agent, group,
//	                      uvarint inWindow, within)
//	evaluations           uvarint n, n × (str id, time, name agent,
//	                      varint score); if n > 0, time evalTo (version 2)
//	rating                if flagRated: time, names agent, group,
//	                      varint score
//
// Changing any of this means a new stateVersion. Version 1 lacked
// inquiryAssign and evalTo; it still loads: its evaluations were credited
// on arrival, so all of them count as stepped, and the reply's assignment
// is found again in the log (a summary: the inquiry agent's last one).
const (
	stateVersion    = 2
	oldStateVersion = 1 // still read
)

// sessionBools lists the session's booleans in the order of their bits in
// the flags; flagTimer and flagRated follow them.
func sessionBools(s *session) [numSessionBools]*bool {
	d := &s.d
	return [...]*bool{
		&s.compacted, &s.closeApplied, &s.shown, &s.rowWritten, &s.hdr.droppedByBuyerList,
		&d.closed, &d.closedByEnded, &d.started, &d.queued, &d.queueOpen, &d.pickedAny,
		&d.abandoned, &d.inquiryReplied, &d.firstAgentKnown, &s.rated.counted,
	}
}

const numSessionBools = 15

const (
	flagTimer = 1 << (numSessionBools + iota) // timerAt is set
	flagRated                                 // rated is not zero
	flagsAll  = flagRated<<1 - 1
)

// derivedTimes lists the instants of derived; 0 means unset and is not
// written.
func derivedTimes(d *derived) [8]*int64 {
	return [...]*int64{
		&d.startTS, &d.lastAct, &d.closeTS, &d.queueTS,
		&d.firstQueuedTS, &d.firstAssignTS, &d.firstAgentTS, &d.inquiryTS,
	}
}

// sessionBase is the instant a session's times are written relative to.
func sessionBase(s *session) int64 {
	switch {
	case len(s.log) > 0:
		return s.log[0].ts
	case s.compacted:
		return s.d.startTS
	case len(s.evals) > 0:
		return s.evals[0].ts
	}
	return 0
}

// writer and reader are the shared codec's (package statecodec); the
// session's parts are laid out by the functions below.
type (
	writer = statecodec.Writer
	reader = statecodec.Reader
)

// encoder builds keys and values in buffers it reuses: a key and a value
// are valid until the next call of the same kind.
type encoder struct {
	key, val []byte
	w        writer // the session body
}

func (enc *encoder) sessionKey(s *session) []byte {
	enc.key = append(append(enc.key[:0], keySession...), s.key...)
	return enc.key
}

func (enc *encoder) agentKey(e *Engine, k agentKey) []byte {
	return enc.agentKeyAs(keyAgentCell, e, k)
}

// agentKeyAs is agentKey under another prefix: the alerts' copies of the
// agent cells (alertstate.go) are keyed like the cells.
func (enc *encoder) agentKeyAs(prefix string, e *Engine, k agentKey) []byte {
	w := writer{B: append(enc.key[:0], prefix...)}
	w.Str(e.shopIDs.name(k.shop))
	w.Str(e.names.name(k.group))
	w.Str(e.names.name(k.agent))
	w.Int(k.hour)
	enc.key = w.B
	return w.B
}

func (enc *encoder) shopKey(e *Engine, k shopKey) []byte {
	w := writer{B: append(enc.key[:0], keyShopCell...)}
	w.Str(e.shopIDs.name(k.shop))
	w.Int(k.hour)
	enc.key = w.B
	return w.B
}

func (enc *encoder) values(v []int64) []byte {
	w := writer{B: append(enc.val[:0], stateVersion)}
	w.Uint(uint64(len(v)))
	for _, x := range v {
		w.Int(x)
	}
	enc.val = w.B
	return w.B
}

func (enc *encoder) meta(m engineMeta) []byte {
	w := writer{B: append(enc.val[:0], stateVersion)}
	w.Int(m.wm)
	w.Int(m.finalBefore)
	w.Int(m.sweptTo)
	enc.val = w.B
	return w.B
}

// session encodes s: the body first, which collects the names, then the
// value with its name table.
func (enc *encoder) session(e *Engine, s *session) []byte {
	w := &enc.w
	w.B, w.Base, w.Names = w.B[:0], sessionBase(s), w.Names[:0]
	writeSessionHeader(w, s)
	writeDerived(w, &s.d)
	writeAssignments(w, s.assigns)
	writeLog(w, s.log)
	writePairs(w, s.pairs)
	writeEvaluations(w, s.evals)
	if len(s.evals) > 0 {
		w.Time(s.evalTo)
	}
	if s.rated != (rating{}) {
		r := &s.rated
		w.Time(r.ts)
		w.Name(r.agent)
		w.Name(r.group)
		w.Int(int64(r.score))
	}
	v := writer{B: append(enc.val[:0], stateVersion)}
	v.Int(w.Base)
	v.Uint(uint64(len(w.Names)))
	for _, id := range w.Names {
		v.Str(e.names.name(id))
	}
	enc.val = append(v.B, w.B...)
	return enc.val
}

func writeSessionHeader(w *writer, s *session) {
	var flags uint64
	for i, b := range sessionBools(s) {
		if *b {
			flags |= 1 << i
		}
	}
	if s.timerAt != math.MaxInt64 {
		flags |= flagTimer
	}
	if s.rated != (rating{}) {
		flags |= flagRated
	}
	w.Uint(flags)
	w.Byte(byte(s.hdr.origin))
	w.Str(s.hdr.buyer)
	w.Name(s.hdr.channel)
	w.Name(s.hdr.task)
	w.Name(s.hdr.robot)
	if flags&flagTimer != 0 {
		w.Time(s.timerAt)
	}
	if s.rowWritten {
		w.Int(int64(s.rowDay))
	}
}

func writeDerived(w *writer, d *derived) {
	var mask uint64
	times := derivedTimes(d)
	for i, t := range times {
		if *t != 0 {
			mask |= 1 << i
		}
	}
	w.Uint(mask)
	for _, t := range times {
		if *t != 0 {
			w.Time(*t)
		}
	}
	w.Int(d.waitSum)
	w.Uint(uint64(d.applied))
	w.Int(int64(d.pendingFrom))
	w.Int(int64(d.cur))
	for _, n := range [...]uint32{d.buyerMsgs, d.agentMsgs, d.robotMsgs, d.humanBuyer, d.humanAgent} {
		w.Uint(uint64(n))
	}
	w.Name(d.inquiryAgent)
	w.Name(d.intent)
	w.Int(int64(d.inquiryAssign))
}

func writeAssignments(w *writer, as []assignment) {
	w.Uint(uint64(len(as)))
	for i := range as {
		a := &as[i]
		w.Str(a.id)
		w.Time(a.ts)
		w.Name(a.agent)
		w.Name(a.group)
		w.Uint(uint64(a.agentMsgs))
		w.Bool(a.buyerAfter)
	}
}

func writeLog(w *writer, log []entry) {
	w.Uint(uint64(len(log)))
	prev := w.Base
	for i := range log {
		en := &log[i]
		w.Uint(uint64(en.ts - prev)) // the log is sorted
		prev = en.ts
		w.Fixed(en.meta)
		if namedRef(en.kind()) {
			w.Name(en.ref)
		} else {
			w.Uint(uint64(en.ref))
		}
	}
}

// namedRef reports whether an entry's ref is an interned name.
func namedRef(k entryKind) bool { return k == kindAgent || k == kindEnded }

func writePairs(w *writer, ps []pair) {
	w.Uint(uint64(len(ps)))
	for i := range ps {
		p := &ps[i]
		w.Time(p.firstTS)
		w.Name(p.agent)
		w.Name(p.group)
		w.Uint(uint64(p.inWindow))
		w.Uint(uint64(p.within))
	}
}

func writeEvaluations(w *writer, evs []evaluation) {
	w.Uint(uint64(len(evs)))
	for i := range evs {
		ev := &evs[i]
		w.Str(ev.id)
		w.Time(ev.ts)
		w.Name(ev.agent)
		w.Int(int64(ev.score))
	}
}

// readVersion reads a session-state value's version byte.
func readVersion(r *reader) { r.Version(oldStateVersion, stateVersion) }

// decoder reads entries into an engine; its buffers are reused.
type decoder struct {
	r reader
}

func (dec *decoder) start(b []byte) *reader {
	dec.r = reader{B: b, Names: dec.r.Names[:0]}
	return &dec.r
}

func (dec *decoder) meta(value []byte) (engineMeta, error) {
	r := dec.start(value)
	readVersion(r)
	m := engineMeta{wm: r.Int(), finalBefore: r.Int(), sweptTo: r.Int()}
	return m, r.Done()
}

// values reads a cell's columns into dst.
func (dec *decoder) values(value []byte, dst []int64) error {
	r := dec.start(value)
	readVersion(r)
	n := r.UintMax(uint64(len(dst)), "column count")
	for i := range n {
		dst[i] = r.Int()
	}
	return r.Done()
}

func (dec *decoder) agentKey(e *Engine, key []byte) (agentKey, error) {
	r := dec.start(key)
	shop, _ := e.shop(r.Bytes())
	group := e.names.id(r.Bytes())
	agent := e.names.id(r.Bytes())
	k := agentKey{hour: r.Int(), shop: shop, group: group, agent: agent}
	return k, r.Done()
}

func (dec *decoder) shopKey(e *Engine, key []byte) (shopKey, error) {
	r := dec.start(key)
	shop, _ := e.shop(r.Bytes())
	k := shopKey{shop: shop, hour: r.Int()}
	return k, r.Done()
}

// session decodes the session of key (the part after the prefix).
func (dec *decoder) session(e *Engine, key, value []byte) (*session, error) {
	r := dec.start(key)
	shopID := r.Bytes()
	if err := r.Err; err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	shop, zone := e.shop(shopID)
	s := &session{
		key: string(key), shop: shop, zone: zone,
		timerAt: math.MaxInt64, evalTo: math.MinInt64, pinLog: pinNone, pinEval: pinNone,
		entryState: entryState{saved: true},
	}
	s.assigns, s.pairs = s.assignBuf[:0:1], s.pairBuf[:0:1]
	r = dec.start(value)
	readVersion(r)
	r.Base = r.Int()
	for range r.Count() {
		r.Names = append(r.Names, e.names.id(r.Bytes()))
	}
	flags := readSessionHeader(r, s)
	readDerived(r, &s.d)
	s.assigns = readAssignments(r, s.assignBuf[:0:1])
	s.log = readLog(r, &e.logs)
	s.pairs = readPairs(r, s.pairBuf[:0:1])
	s.evals = readEvaluations(r)
	switch {
	case len(s.evals) > 0 && r.Ver >= 2:
		s.evalTo = r.Time()
	case len(s.evals) > 0:
		s.evalTo = s.evals[len(s.evals)-1].ts // credited on arrival
	}
	if flags&flagRated != 0 {
		s.rated.ts, s.rated.agent, s.rated.group = r.Time(), r.Name(), r.Name()
		s.rated.score = int8(r.Int())
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	if s.compacted {
		s.log, s.pairs = nil, nil
	}
	if r.Ver < 2 && s.d.inquiryReplied {
		s.d.inquiryAssign = findInquiryAssign(s)
	}
	return s, checkSession(s)
}

func readSessionHeader(r *reader, s *session) uint64 {
	flags := r.Uint()
	if flags&^flagsAll != 0 {
		r.Failf("unknown flags %#x", flags&^flagsAll)
	}
	for i, b := range sessionBools(s) {
		*b = flags&(1<<i) != 0
	}
	s.hdr.origin = schemas.Origin(r.Byte())
	if s.hdr.origin > schemas.OriginRobotOutbound {
		r.Failf("unknown origin %d", s.hdr.origin)
	}
	s.hdr.buyer = string(r.Bytes())
	s.hdr.channel, s.hdr.task, s.hdr.robot = r.Name(), r.Name(), r.Name()
	if flags&flagTimer != 0 {
		s.timerAt = r.Time()
	}
	if s.rowWritten {
		s.rowDay = eventtime.Date(r.Int32("row day"))
	}
	return flags
}

func readDerived(r *reader, d *derived) {
	mask := r.Uint()
	times := derivedTimes(d)
	if mask>>len(times) != 0 {
		r.Failf("unknown time mask %#x", mask)
	}
	for i, t := range times {
		if mask&(1<<i) != 0 {
			*t = r.Time()
		}
	}
	d.waitSum = r.Int()
	d.applied = int32(r.UintMax(math.MaxInt32, "applied"))
	d.pendingFrom = r.Int32("pendingFrom")
	d.cur = r.Int32("cur")
	for _, n := range [...]*uint32{&d.buyerMsgs, &d.agentMsgs, &d.robotMsgs, &d.humanBuyer, &d.humanAgent} {
		*n = r.Uint32("message count")
	}
	d.inquiryAgent, d.intent = r.Name(), r.Name()
	d.inquiryAssign = -1
	if r.Ver >= 2 {
		d.inquiryAssign = r.Int32("inquiryAssign")
	}
}

// assignments reads into buf when they fit.
func readAssignments(r *reader, buf []assignment) []assignment {
	n := r.Count()
	as := buf
	if n > cap(buf) {
		as = make([]assignment, 0, n)
	}
	for range n {
		a := assignment{id: string(r.Bytes()), ts: r.Time()}
		a.agent, a.group = r.Name(), r.Name()
		a.agentMsgs = uint16(r.UintMax(math.MaxUint16, "agentMsgs"))
		a.buyerAfter = r.Bool()
		as = append(as, a)
	}
	return as
}

// log reads the log into an array of the engine's pool.
func readLog(r *reader, pool *logPool) []entry {
	n := r.Count()
	if n == 0 {
		return nil
	}
	log := pool.get(n)
	ts := r.Base
	for range n {
		ts += int64(r.Uint())
		en := entry{ts: ts, meta: r.Fixed()}
		if namedRef(en.kind()) {
			en.ref = r.Name()
		} else {
			en.ref = r.Uint32("ref")
		}
		log = append(log, en)
	}
	return log
}

func readPairs(r *reader, buf []pair) []pair {
	n := r.Count()
	ps := buf
	if n > cap(buf) {
		ps = make([]pair, 0, n)
	}
	for range n {
		p := pair{firstTS: r.Time()}
		p.agent, p.group = r.Name(), r.Name()
		p.inWindow, p.within = r.Uint32("inWindow"), r.Uint32("within")
		ps = append(ps, p)
	}
	return ps
}

func readEvaluations(r *reader) []evaluation {
	n := r.Count()
	if n == 0 {
		return nil
	}
	evs := make([]evaluation, 0, n)
	for range n {
		ev := evaluation{id: string(r.Bytes()), ts: r.Time()}
		ev.agent = r.Name()
		ev.score = int8(r.Int())
		evs = append(evs, ev)
	}
	return evs
}

// checkSession rejects a decoded session whose indexes would make the
// engine fail later: a corrupt entry is refused at Load, not met at Apply.
func checkSession(s *session) error {
	d := &s.d
	switch {
	case d.cur < -1 || int(d.cur) >= len(s.assigns):
		return fmt.Errorf("current assignment %d of %d", d.cur, len(s.assigns))
	case d.inquiryAssign < -1 || d.inquiryAssign > d.cur:
		return fmt.Errorf("inquiry assignment %d of %d applied", d.inquiryAssign, d.cur+1)
	case s.compacted && int(d.cur)+1 != len(s.assigns):
		return fmt.Errorf("summary with %d assignments, %d applied", len(s.assigns), d.cur+1)
	case s.compacted:
		return nil
	case len(s.log) == 0 && len(s.evals) == 0:
		return errors.New("neither activity nor evaluations")
	case int(d.applied) > len(s.log):
		return fmt.Errorf("%d entries applied of %d", d.applied, len(s.log))
	case d.pendingFrom < -1 || d.pendingFrom >= d.applied:
		return fmt.Errorf("pending from %d of %d applied", d.pendingFrom, d.applied)
	}
	return checkLogRefs(s)
}

// checkLogRefs checks the log's references to s.assigns: the i-th
// `assigned` entry refers to the i-th assignment, a buyer message to one
// of them (or 0 before the human phase).
func checkLogRefs(s *session) error {
	assigned := 0
	for i := range s.log {
		en := &s.log[i]
		switch en.kind() {
		case kindAssigned:
			if int(en.ref) != assigned {
				return fmt.Errorf("log entry %d: assignment %d, want %d", i, en.ref, assigned)
			}
			assigned++
		case kindBuyer:
			if en.ref != 0 && int(en.ref) >= len(s.assigns) {
				return fmt.Errorf("log entry %d: assignment %d of %d", i, en.ref, len(s.assigns))
			}
		}
	}
	if assigned != len(s.assigns) {
		return fmt.Errorf("%d assignments, %d in the log", len(s.assigns), assigned)
	}
	return nil
}

// findInquiryAssign rebuilds derived.inquiryAssign for a version 1 session:
// the assignment current at the first agent message after the first
// human-phase buyer message; for a summary without its log, the inquiry
// agent's last assignment.
func findInquiryAssign(s *session) int32 {
	d := &s.d
	cur, buyer := int32(-1), false
	for i := 0; i < int(d.applied) && i < len(s.log); i++ {
		switch en := &s.log[i]; en.kind() {
		case kindAssigned:
			cur = int32(en.ref)
		case kindBuyer:
			buyer = buyer || cur >= 0
		case kindAgent:
			if buyer {
				return cur
			}
		}
	}
	for i := d.cur; i >= 0; i-- {
		if s.assigns[i].agent == d.inquiryAgent {
			return i
		}
	}
	return d.cur
}
