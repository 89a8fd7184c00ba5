package metrics

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cspulse/cspulse/eventtime"
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

// writer appends values. Names go to a table of the value's own.
type writer struct {
	b     []byte
	base  int64
	names []uint32 // engine ids, in order of first use
}

func (w *writer) byte(v byte)    { w.b = append(w.b, v) }
func (w *writer) uint(v uint64)  { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) int(v int64)    { w.b = binary.AppendVarint(w.b, v) }
func (w *writer) time(v int64)   { w.int(v - w.base) }
func (w *writer) str(s string)   { w.uint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *writer) fixed(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }

func (w *writer) bool(v bool) {
	if v {
		w.byte(1)
	} else {
		w.byte(0)
	}
}

// name writes an interned id as its index in the value's table.
func (w *writer) name(id uint32) {
	if id == 0 {
		w.uint(0)
		return
	}
	for i, x := range w.names {
		if x == id {
			w.uint(uint64(i + 1))
			return
		}
	}
	w.names = append(w.names, id)
	w.uint(uint64(len(w.names)))
}

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
	w := writer{b: append(enc.key[:0], prefix...)}
	w.str(e.shopIDs.name(k.shop))
	w.str(e.names.name(k.group))
	w.str(e.names.name(k.agent))
	w.int(k.hour)
	enc.key = w.b
	return w.b
}

func (enc *encoder) shopKey(e *Engine, k shopKey) []byte {
	w := writer{b: append(enc.key[:0], keyShopCell...)}
	w.str(e.shopIDs.name(k.shop))
	w.int(k.hour)
	enc.key = w.b
	return w.b
}

func (enc *encoder) values(v []int64) []byte {
	w := writer{b: append(enc.val[:0], stateVersion)}
	w.uint(uint64(len(v)))
	for _, x := range v {
		w.int(x)
	}
	enc.val = w.b
	return w.b
}

func (enc *encoder) meta(m engineMeta) []byte {
	w := writer{b: append(enc.val[:0], stateVersion)}
	w.int(m.wm)
	w.int(m.finalBefore)
	w.int(m.sweptTo)
	enc.val = w.b
	return w.b
}

// session encodes s: the body first, which collects the names, then the
// value with its name table.
func (enc *encoder) session(e *Engine, s *session) []byte {
	w := &enc.w
	w.b, w.base, w.names = w.b[:0], sessionBase(s), w.names[:0]
	w.sessionHeader(s)
	w.derived(&s.d)
	w.assignments(s.assigns)
	w.log(s.log)
	w.pairs(s.pairs)
	w.evaluations(s.evals)
	if len(s.evals) > 0 {
		w.time(s.evalTo)
	}
	if s.rated != (rating{}) {
		r := &s.rated
		w.time(r.ts)
		w.name(r.agent)
		w.name(r.group)
		w.int(int64(r.score))
	}
	v := writer{b: append(enc.val[:0], stateVersion)}
	v.int(w.base)
	v.uint(uint64(len(w.names)))
	for _, id := range w.names {
		v.str(e.names.name(id))
	}
	enc.val = append(v.b, w.b...)
	return enc.val
}

func (w *writer) sessionHeader(s *session) {
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
	w.uint(flags)
	w.byte(byte(s.hdr.origin))
	w.str(s.hdr.buyer)
	w.name(s.hdr.channel)
	w.name(s.hdr.task)
	w.name(s.hdr.robot)
	if flags&flagTimer != 0 {
		w.time(s.timerAt)
	}
	if s.rowWritten {
		w.int(int64(s.rowDay))
	}
}

func (w *writer) derived(d *derived) {
	var mask uint64
	times := derivedTimes(d)
	for i, t := range times {
		if *t != 0 {
			mask |= 1 << i
		}
	}
	w.uint(mask)
	for _, t := range times {
		if *t != 0 {
			w.time(*t)
		}
	}
	w.int(d.waitSum)
	w.uint(uint64(d.applied))
	w.int(int64(d.pendingFrom))
	w.int(int64(d.cur))
	for _, n := range [...]uint32{d.buyerMsgs, d.agentMsgs, d.robotMsgs, d.humanBuyer, d.humanAgent} {
		w.uint(uint64(n))
	}
	w.name(d.inquiryAgent)
	w.name(d.intent)
	w.int(int64(d.inquiryAssign))
}

func (w *writer) assignments(as []assignment) {
	w.uint(uint64(len(as)))
	for i := range as {
		a := &as[i]
		w.str(a.id)
		w.time(a.ts)
		w.name(a.agent)
		w.name(a.group)
		w.uint(uint64(a.agentMsgs))
		w.bool(a.buyerAfter)
	}
}

func (w *writer) log(log []entry) {
	w.uint(uint64(len(log)))
	prev := w.base
	for i := range log {
		en := &log[i]
		w.uint(uint64(en.ts - prev)) // the log is sorted
		prev = en.ts
		w.fixed(en.meta)
		if namedRef(en.kind()) {
			w.name(en.ref)
		} else {
			w.uint(uint64(en.ref))
		}
	}
}

// namedRef reports whether an entry's ref is an interned name.
func namedRef(k entryKind) bool { return k == kindAgent || k == kindEnded }

func (w *writer) pairs(ps []pair) {
	w.uint(uint64(len(ps)))
	for i := range ps {
		p := &ps[i]
		w.time(p.firstTS)
		w.name(p.agent)
		w.name(p.group)
		w.uint(uint64(p.inWindow))
		w.uint(uint64(p.within))
	}
}

func (w *writer) evaluations(evs []evaluation) {
	w.uint(uint64(len(evs)))
	for i := range evs {
		ev := &evs[i]
		w.str(ev.id)
		w.time(ev.ts)
		w.name(ev.agent)
		w.int(int64(ev.score))
	}
}

// reader reads values. The first error sticks and every later read returns
// zero, so decoding runs to its end and reports that error.
type reader struct {
	b     []byte
	base  int64
	names []uint32 // the value's name table, as this engine's ids
	err   error
	ver   byte // the value's format version
}

var errTruncated = errors.New("truncated")

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) failf(format string, args ...any) { r.fail(fmt.Errorf(format, args...)) }

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail(errTruncated)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) time() int64 { return r.int() + r.base }

func (r *reader) fixed() uint32 {
	if len(r.b) < 4 {
		r.fail(errTruncated)
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) bool() bool {
	switch b := r.byte(); b {
	case 0, 1:
		return b == 1
	default:
		r.failf("bad boolean %d", b)
		return false
	}
}

// uintMax reads a uvarint of at most max.
func (r *reader) uintMax(max uint64, what string) uint64 {
	v := r.uint()
	if v > max {
		r.failf("%s %d out of range", what, v)
		return 0
	}
	return v
}

func (r *reader) int32(what string) int32 {
	v := r.int()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.failf("%s %d out of range", what, v)
		return 0
	}
	return int32(v)
}

func (r *reader) uint32(what string) uint32 {
	return uint32(r.uintMax(math.MaxUint32, what))
}

// count reads a number of items, each of which takes at least a byte: a
// larger count than the bytes left is a truncated value.
func (r *reader) count() int {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail(fmt.Errorf("%w: %d items in %d bytes", errTruncated, n, len(r.b)))
		return 0
	}
	return int(n)
}

// bytes reads a str; the result points into the value.
func (r *reader) bytes() []byte {
	n := r.count()
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) name() uint32 {
	i := r.uintMax(uint64(len(r.names)), "name reference")
	if i == 0 {
		return 0
	}
	return r.names[i-1]
}

// version reads byte 0.
func (r *reader) version() {
	r.ver = r.byte()
	if r.err == nil && r.ver != stateVersion && r.ver != oldStateVersion {
		r.failf("state format version %d; this build reads versions %d and %d", r.ver, oldStateVersion, stateVersion)
	}
}

// done reports the first error, or bytes left over.
func (r *reader) done() error {
	if r.err == nil && len(r.b) > 0 {
		return fmt.Errorf("%d bytes after the value", len(r.b))
	}
	return r.err
}

// decoder reads entries into an engine; its buffers are reused.
type decoder struct {
	r reader
}

func (dec *decoder) start(b []byte) *reader {
	dec.r = reader{b: b, names: dec.r.names[:0]}
	return &dec.r
}

func (dec *decoder) meta(value []byte) (engineMeta, error) {
	r := dec.start(value)
	r.version()
	m := engineMeta{wm: r.int(), finalBefore: r.int(), sweptTo: r.int()}
	return m, r.done()
}

// values reads a cell's columns into dst.
func (dec *decoder) values(value []byte, dst []int64) error {
	r := dec.start(value)
	r.version()
	n := r.uintMax(uint64(len(dst)), "column count")
	for i := range n {
		dst[i] = r.int()
	}
	return r.done()
}

func (dec *decoder) agentKey(e *Engine, key []byte) (agentKey, error) {
	r := dec.start(key)
	shop, _ := e.shop(r.bytes())
	group := e.names.id(r.bytes())
	agent := e.names.id(r.bytes())
	k := agentKey{hour: r.int(), shop: shop, group: group, agent: agent}
	return k, r.done()
}

func (dec *decoder) shopKey(e *Engine, key []byte) (shopKey, error) {
	r := dec.start(key)
	shop, _ := e.shop(r.bytes())
	k := shopKey{shop: shop, hour: r.int()}
	return k, r.done()
}

// session decodes the session of key (the part after the prefix).
func (dec *decoder) session(e *Engine, key, value []byte) (*session, error) {
	r := dec.start(key)
	shopID := r.bytes()
	if err := r.err; err != nil {
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
	r.version()
	r.base = r.int()
	for range r.count() {
		r.names = append(r.names, e.names.id(r.bytes()))
	}
	flags := r.sessionHeader(s)
	r.derived(&s.d)
	s.assigns = r.assignments(s.assignBuf[:0:1])
	s.log = r.log(&e.logs)
	s.pairs = r.pairs(s.pairBuf[:0:1])
	s.evals = r.evaluations()
	switch {
	case len(s.evals) > 0 && r.ver >= 2:
		s.evalTo = r.time()
	case len(s.evals) > 0:
		s.evalTo = s.evals[len(s.evals)-1].ts // credited on arrival
	}
	if flags&flagRated != 0 {
		s.rated.ts, s.rated.agent, s.rated.group = r.time(), r.name(), r.name()
		s.rated.score = int8(r.int())
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	if s.compacted {
		s.log, s.pairs = nil, nil
	}
	if r.ver < 2 && s.d.inquiryReplied {
		s.d.inquiryAssign = findInquiryAssign(s)
	}
	return s, checkSession(s)
}

func (r *reader) sessionHeader(s *session) uint64 {
	flags := r.uint()
	if flags&^flagsAll != 0 {
		r.failf("unknown flags %#x", flags&^flagsAll)
	}
	for i, b := range sessionBools(s) {
		*b = flags&(1<<i) != 0
	}
	s.hdr.origin = schemas.Origin(r.byte())
	if s.hdr.origin > schemas.OriginRobotOutbound {
		r.failf("unknown origin %d", s.hdr.origin)
	}
	s.hdr.buyer = string(r.bytes())
	s.hdr.channel, s.hdr.task, s.hdr.robot = r.name(), r.name(), r.name()
	if flags&flagTimer != 0 {
		s.timerAt = r.time()
	}
	if s.rowWritten {
		s.rowDay = eventtime.Date(r.int32("row day"))
	}
	return flags
}

func (r *reader) derived(d *derived) {
	mask := r.uint()
	times := derivedTimes(d)
	if mask>>len(times) != 0 {
		r.failf("unknown time mask %#x", mask)
	}
	for i, t := range times {
		if mask&(1<<i) != 0 {
			*t = r.time()
		}
	}
	d.waitSum = r.int()
	d.applied = int32(r.uintMax(math.MaxInt32, "applied"))
	d.pendingFrom = r.int32("pendingFrom")
	d.cur = r.int32("cur")
	for _, n := range [...]*uint32{&d.buyerMsgs, &d.agentMsgs, &d.robotMsgs, &d.humanBuyer, &d.humanAgent} {
		*n = r.uint32("message count")
	}
	d.inquiryAgent, d.intent = r.name(), r.name()
	d.inquiryAssign = -1
	if r.ver >= 2 {
		d.inquiryAssign = r.int32("inquiryAssign")
	}
}

// assignments reads into buf when they fit.
func (r *reader) assignments(buf []assignment) []assignment {
	n := r.count()
	as := buf
	if n > cap(buf) {
		as = make([]assignment, 0, n)
	}
	for range n {
		a := assignment{id: string(r.bytes()), ts: r.time()}
		a.agent, a.group = r.name(), r.name()
		a.agentMsgs = uint16(r.uintMax(math.MaxUint16, "agentMsgs"))
		a.buyerAfter = r.bool()
		as = append(as, a)
	}
	return as
}

// log reads the log into an array of the engine's pool.
func (r *reader) log(pool *logPool) []entry {
	n := r.count()
	if n == 0 {
		return nil
	}
	log := pool.get(n)
	ts := r.base
	for range n {
		ts += int64(r.uint())
		en := entry{ts: ts, meta: r.fixed()}
		if namedRef(en.kind()) {
			en.ref = r.name()
		} else {
			en.ref = r.uint32("ref")
		}
		log = append(log, en)
	}
	return log
}

func (r *reader) pairs(buf []pair) []pair {
	n := r.count()
	ps := buf
	if n > cap(buf) {
		ps = make([]pair, 0, n)
	}
	for range n {
		p := pair{firstTS: r.time()}
		p.agent, p.group = r.name(), r.name()
		p.inWindow, p.within = r.uint32("inWindow"), r.uint32("within")
		ps = append(ps, p)
	}
	return ps
}

func (r *reader) evaluations() []evaluation {
	n := r.count()
	if n == 0 {
		return nil
	}
	evs := make([]evaluation, 0, n)
	for range n {
		ev := evaluation{id: string(r.bytes()), ts: r.time()}
		ev.agent = r.name()
		ev.score = int8(r.int())
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
