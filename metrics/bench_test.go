package metrics

import (
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/tables"
)

// A realistic in-order stream, produced without allocating: shops with
// generator-like ids ("shop-0001", "shop-0001-s42", 20-byte event ids),
// `slots` sessions open at once, each session started → queued →
// assigned → 20 messages (buyer and agent alternating) → ended, a third of
// them rated. Event time advances 2 ms per event, so a session lasts a few
// minutes and sessions overlap like real traffic. Decoding is not part of
// it: Apply gets ready Events, as the task hands them over.

const (
	streamShops   = 100
	streamAgents  = 5
	streamMsgs    = 20
	streamTickMs  = 2
	streamStartMs = 1772409600000 // 2026-03-02T00:00:00Z
)

type streamSlot struct {
	session int // session number; its script position is step
	step    int
	shop    int
	agent   int
}

type benchStream struct {
	slots   []streamSlot
	turn    int // slot whose turn it is
	nextSID int
	clock   int64
	seq     uint64
	ev      schemas.Event
	buf     [4][]byte // event id, shop, session id, agent/buyer
	shops   [][]byte
	agents  [][]byte
	groups  [][]byte
}

func newBenchStream(slots int) *benchStream {
	s := &benchStream{slots: make([]streamSlot, slots), clock: streamStartMs}
	for i := range streamShops {
		s.shops = append(s.shops, []byte("shop-"+pad4(i+1)))
	}
	for i := range streamAgents {
		s.agents = append(s.agents, []byte("a"+strconv.Itoa(i+1)))
	}
	s.groups = [][]byte{[]byte("pre-sales"), []byte("after-sales")}
	for i := range s.slots {
		s.restart(&s.slots[i])
	}
	return s
}

func pad4(n int) string {
	return string([]byte{byte('0' + n/1000%10), byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}

func (s *benchStream) restart(sl *streamSlot) {
	s.nextSID++
	*sl = streamSlot{session: s.nextSID, shop: s.nextSID % streamShops, agent: s.nextSID % streamAgents}
}

// scriptLen is the number of events of a session: started, queued,
// assigned, messages, ended, and an evaluation for every third session.
func scriptLen(session int) int {
	n := 4 + streamMsgs
	if session%3 == 0 {
		n++
	}
	return n
}

// next fills s.ev with the next event of the stream. The []byte fields
// point into s's buffers until the next call.
func (s *benchStream) next() *schemas.Event {
	sl := &s.slots[s.turn]
	s.turn = (s.turn + 1) % len(s.slots)
	s.clock += streamTickMs
	s.seq++
	shop := s.shops[sl.shop]
	ev := &s.ev
	*ev = schemas.Event{TS: s.clock}
	s.buf[0] = appendHexID(append(append(s.buf[0][:0], shop...), '-'), s.seq)
	s.buf[1] = append(s.buf[1][:0], shop...)
	s.buf[2] = strconv.AppendInt(append(append(s.buf[2][:0], shop...), "-s"...), int64(sl.session), 10)
	ev.EventID, ev.ShopID, ev.SessionID = s.buf[0], s.buf[1], s.buf[2]
	s.script(sl, ev)
	sl.step++
	if sl.step == scriptLen(sl.session) {
		s.restart(sl)
	}
	return ev
}

func (s *benchStream) script(sl *streamSlot, ev *schemas.Event) {
	agent := s.agents[sl.agent]
	switch step := sl.step; {
	case step == 0:
		ev.Topic, ev.Type, ev.Origin = schemas.TopicSessions, schemas.TypeStarted, schemas.OriginBuyer
		s.buf[3] = strconv.AppendInt(append(append(s.buf[3][:0], s.shops[sl.shop]...), "-b"...), int64(sl.session%5000), 10)
		ev.BuyerID = s.buf[3]
	case step == 1:
		ev.Topic, ev.Type, ev.GroupID = schemas.TopicTransfers, schemas.TypeQueued, s.groups[sl.agent%2]
	case step == 2:
		ev.Topic, ev.Type, ev.GroupID, ev.AgentID = schemas.TopicTransfers, schemas.TypeAssigned, s.groups[sl.agent%2], agent
	case step < 3+streamMsgs:
		ev.Topic, ev.Sender = schemas.TopicMessages, schemas.SenderBuyer
		if step%2 == 0 {
			ev.Sender, ev.AgentID = schemas.SenderAgent, agent
		}
	case step == 3+streamMsgs:
		ev.Topic, ev.Type = schemas.TopicSessions, schemas.TypeEnded
	default:
		ev.Topic, ev.Score = schemas.TopicEvaluations, 5
	}
}

func appendHexID(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	var tmp [10]byte
	for i := 9; i >= 0; i-- {
		tmp[i] = digits[v&15]
		v >>= 4
	}
	return append(b, tmp[:]...)
}

// cpuMeter accumulates the CPU time (user + system, all threads) the
// process spends in measured sections. Benchmarks report it next to wall
// time because the build machine is shared: events per CPU-second is the
// "events/s per core" figure, independent of what else runs.
type cpuMeter struct {
	total, start  time.Duration
	mallocs, from uint64
	memstats      runtime.MemStats
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resume and pause bracket a measured section; they also count the
// allocations in it, since allocs/op is rounded down to an integer.
func (m *cpuMeter) resume() {
	runtime.ReadMemStats(&m.memstats)
	m.from = m.memstats.Mallocs
	m.start = processCPU()
}

func (m *cpuMeter) pause() {
	m.total += processCPU() - m.start
	runtime.ReadMemStats(&m.memstats)
	m.mallocs += m.memstats.Mallocs - m.from
}

func (m *cpuMeter) report(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(m.total.Nanoseconds())/float64(b.N), "cpu-ns/event")
	b.ReportMetric(float64(b.N)/m.total.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(m.mallocs)/float64(b.N), "allocs/event")
}

func benchSettings(tb testing.TB) Settings {
	zones, err := eventtime.NewZoneSet("Asia/Shanghai", map[string]string{"shop-0002": "America/New_York"})
	if err != nil {
		tb.Fatal(err)
	}
	return DefaultSettings(zones)
}

// nopSink counts rows and keeps none.
type nopSink struct {
	rows   int
	byName map[string]*tables.Rows
}

func (n *nopSink) Rows(t tables.Table) *tables.Rows {
	r := n.byName[t.Name]
	if r == nil {
		if n.byName == nil {
			n.byName = map[string]*tables.Rows{}
		}
		r = tables.NewRows(t)
		r.OnRow = func(int) {
			n.rows++
			r.Reset()
		}
		n.byName[t.Name] = r
	}
	return r
}

// BenchmarkApplyStream is the engine's throughput on the realistic stream:
// Apply for every event, Advance every 1024 events (a poll batch), Flush
// every 2¹⁷ events outside the timer (its rows allocate by the sink's
// contract). It reports events/s and allocations per event, session
// creation, timers and hour cells included.
func BenchmarkApplyStream(b *testing.B) {
	e := NewEngine(benchSettings(b))
	src := newBenchStream(5000)
	sink := &nopSink{}
	warm(e, src, sink, 2_000_000) // past the first compactions: pools and maps at their steady size
	var cpu cpuMeter
	b.ReportAllocs()
	b.ResetTimer()
	cpu.resume()
	for i := range b.N {
		e.Apply(src.next())
		if i&1023 == 1023 {
			e.Advance(src.clock - 10_000)
		}
		if i&(1<<17-1) == 1<<17-1 {
			b.StopTimer()
			cpu.pause()
			e.flush(uint64(i), sink)
			cpu.resume()
			b.StartTimer()
		}
	}
	cpu.pause()
	b.StopTimer()
	cpu.report(b)
	b.ReportMetric(float64(e.Stats().OpenSessions), "open-sessions")
}

// warm runs n events of src through e.
func warm(e *Engine, src *benchStream, sink RowSink, n int) {
	for i := range n {
		e.Apply(src.next())
		if i&1023 == 1023 {
			e.Advance(src.clock - 10_000)
			if i&(1<<17-1) == 1<<17-1 {
				e.flush(uint64(i), sink)
			}
		}
	}
}

// BenchmarkApplySteadyMessage isolates the steady path: a message, in
// order, to an existing open session. Each round opens 5 000 sessions
// outside the timer (after the previous round's sessions closed, were
// compacted and removed, as in a long-running engine), then times 20
// messages per session, interleaved.
func BenchmarkApplySteadyMessage(b *testing.B) {
	const sessions = 5_000
	r := newSteadyRig(b, sessions)
	var cpu cpuMeter
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		r.openRound()
		b.StartTimer()
		cpu.resume()
		done += r.messages(min(b.N-done, sessions*streamMsgs))
		cpu.pause()
	}
	b.StopTimer()
	cpu.report(b)
}

// steadyRig drives rounds of sessions through one engine.
type steadyRig struct {
	e        *Engine
	sink     nopSink
	ids      [][]byte // session ids of the round
	eventIDs [][]byte
	shop     []byte
	agent    []byte
	clock    int64
	round    int
	ev       schemas.Event
}

func newSteadyRig(tb testing.TB, sessions int) *steadyRig {
	r := &steadyRig{e: NewEngine(benchSettings(tb)), ids: make([][]byte, sessions),
		shop: []byte("shop-0001"), agent: []byte("a1"), clock: streamStartMs}
	for i := range streamMsgs + 4 {
		r.eventIDs = append(r.eventIDs, appendHexID([]byte("shop-0001-"), uint64(i)))
	}
	return r
}

// openRound ends the previous round's sessions, lets the watermark pass
// their removal, and opens the next round's: started and assigned.
func (r *steadyRig) openRound() {
	if r.round > 0 {
		for i := range r.ids {
			r.apply(i, streamMsgs+2, schemas.Event{Topic: schemas.TopicSessions, Type: schemas.TypeEnded})
		}
		r.clock += 30 * hourMs
		r.e.Advance(r.clock)
		r.e.flush(uint64(r.round), &r.sink)
	}
	r.round++
	for i := range r.ids {
		r.ids[i] = strconv.AppendInt(append(r.ids[i][:0], "shop-0001-s"...), int64(r.round*len(r.ids)+i), 10)
		r.apply(i, 0, schemas.Event{Topic: schemas.TopicSessions, Type: schemas.TypeStarted, Origin: schemas.OriginBuyer, BuyerID: r.ids[i]})
		r.apply(i, 1, schemas.Event{Topic: schemas.TopicTransfers, Type: schemas.TypeAssigned, AgentID: r.agent})
	}
}

// messages applies n messages round-robin over the round's sessions.
func (r *steadyRig) messages(n int) int {
	for k := range n {
		i, m := k%len(r.ids), k/len(r.ids)
		ev := schemas.Event{Topic: schemas.TopicMessages, Sender: schemas.SenderBuyer}
		if m%2 == 1 {
			ev.Sender, ev.AgentID = schemas.SenderAgent, r.agent
		}
		r.apply(i, 2+m, ev)
	}
	return n
}

func (r *steadyRig) apply(session, step int, ev schemas.Event) {
	r.clock++
	r.ev = ev
	r.ev.TS, r.ev.EventID, r.ev.ShopID, r.ev.SessionID = r.clock, r.eventIDs[step], r.shop, r.ids[session]
	r.e.Apply(&r.ev)
}

// TestSteadyPathDoesNotAllocate pins the steady path at 0 allocations per
// in-order message to an existing session, in a warm engine.
func TestSteadyPathDoesNotAllocate(t *testing.T) {
	r := newSteadyRig(t, 1000)
	r.openRound()
	r.messages(1000 * streamMsgs)
	r.openRound() // the first round's logs are back in the pool
	var before, after runtime.MemStats
	arrays := r.e.Stats().LogArrays
	runtime.GC()
	runtime.ReadMemStats(&before)
	r.messages(1000 * streamMsgs)
	runtime.ReadMemStats(&after)
	if n := r.e.Stats().LogArrays - arrays; n != 0 {
		t.Errorf("%d log arrays allocated for %d steady messages; the pool should recycle them", n, 1000*streamMsgs)
	}
	// The process-wide count also sees the runtime's own background
	// allocations, a handful at times; one engine allocation per session
	// or per message would be a thousand or more.
	if n := after.Mallocs - before.Mallocs; n > 16 {
		t.Errorf("%d allocations for %d steady messages", n, 1000*streamMsgs)
	}
}

// TestOpenSessionBytes measures the heap held per open session: 100 000
// typical sessions (started, queued, assigned, 20 messages), still open.
// The budget is 1 KiB.
func TestOpenSessionBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100 000 sessions")
	}
	const sessions = 100_000
	src := newBenchStream(sessions)
	e := NewEngine(benchSettings(t))
	e.Apply(src.next()) // intern tables, maps: not per-session costs
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range sessions*(3+streamMsgs) - 1 {
		e.Apply(src.next())
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := e.Stats()
	// Outgrown log arrays wait in the pool for the next sessions: a
	// bounded per-engine amount (maxIdleBytes), not a per-session cost.
	idle := uint64(e.logs.idleBytes())
	perSession := float64(after.HeapAlloc-before.HeapAlloc-idle) / float64(st.OpenSessions)
	t.Logf("%d open sessions: %.0f bytes each (heap, %d KiB of idle pooled arrays aside), Stats.ApproxBytes %.0f each; %d agent cells",
		st.OpenSessions, perSession, idle>>10, float64(st.ApproxBytes-int64(idle))/float64(st.OpenSessions), st.AgentCells)
	if st.OpenSessions != sessions {
		t.Fatalf("%d open sessions, want %d", st.OpenSessions, sessions)
	}
	if perSession > 1024 {
		t.Errorf("%.0f bytes per open session, budget 1024", perSession)
	}

	// End them all and let the watermark pass their compaction: what is
	// left is the summary held for evaluations (rating_window).
	for range sessions {
		ev := src.next()
		*ev = schemas.Event{Topic: schemas.TopicSessions, Type: schemas.TypeEnded, TS: ev.TS,
			EventID: ev.EventID, ShopID: ev.ShopID, SessionID: ev.SessionID}
		e.Apply(ev)
	}
	e.Advance(src.clock + 2*hourMs)
	e.flush(1, &nopSink{})
	runtime.GC()
	runtime.ReadMemStats(&after)
	st = e.Stats()
	t.Logf("%d summaries: %.0f bytes each (heap, %d KiB of idle pooled arrays aside)",
		st.Summaries, float64(after.HeapAlloc-before.HeapAlloc-uint64(e.logs.idleBytes()))/float64(st.Summaries), e.logs.idleBytes()>>10)
	runtime.KeepAlive(e)
}
