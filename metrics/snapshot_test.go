package metrics

import (
	"bytes"
	"encoding/hex"
	"errors"
	goflag "flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
	"github.com/cspulse/cspulse/tables"
)

// The checkpoint property (snapshot.go): an engine restored from the
// entries SaveChanged wrote up to a checkpoint is indistinguishable from
// the engine that wrote them. Each run records, per step, everything the
// engine emits — Apply's answer, listener calls, flushed rows, in order —
// and a restored engine must emit the same for every later step.

// changelog is a compacted changelog partition: the last write per key.
// It is strict: a Delete must remove a key that is there.
type changelog map[string][]byte

func (c changelog) Put(key, value []byte) { c[string(key)] = bytes.Clone(value) }

func (c changelog) Delete(key []byte) {
	if _, ok := c[string(key)]; !ok {
		panic(fmt.Sprintf("Delete of %q, which the changelog does not hold", key))
	}
	delete(c, string(key))
}

// diff lists the keys whose entries differ, briefly.
func (c changelog) diff(want changelog) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got, ok := c[k]; !ok {
			out = append(out, fmt.Sprintf("%q missing", k))
		} else if !bytes.Equal(got, want[k]) {
			out = append(out, fmt.Sprintf("%q stale:\n  have %x\n  want %x", k, got, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("%q left over", k))
		}
	}
	return out[:min(len(out), 8)]
}

// fullSnapshot encodes everything e holds, as a first SaveChanged would.
func fullSnapshot(e *Engine) changelog {
	out := changelog{}
	var enc encoder
	for s := range e.allSessions() {
		out.Put(enc.sessionKey(s), enc.session(e, s))
	}
	for _, c := range e.agents {
		out.Put(enc.agentKey(e, c.key), enc.values(c.v[:]))
	}
	for _, c := range e.shops {
		out.Put(enc.shopKey(e, c.key), enc.values(c.v[:]))
	}
	out.Put([]byte(keyMeta), enc.meta(e.metaNow()))
	snapshotOperators(e, out) // attribution_state_test.go
	return out
}

// stepRecorder is the rows' sink and the session listener of a driver.
type stepRecorder struct {
	rowAdapter
	lines []string
}

func (r *stepRecorder) Rows(t tables.Table) *tables.Rows { return r.rowsFor(t, r.Add) }

func (r *stepRecorder) Add(t sinks.Table, row []any) {
	shown := make([]any, len(row))
	for i, v := range row {
		shown[i] = normalize(t.Columns[i], v) // Nullable columns' pointers by value
	}
	r.lines = append(r.lines, fmt.Sprintf("row %s %v", t.Name, shown))
}

func (r *stepRecorder) SessionClosed(v *SessionView, sign int) {
	r.lines = append(r.lines, fmt.Sprintf("listener %+d %+v", sign, *v))
}

// driver feeds a scenario's steps to an engine as scenario.runWith does:
// step i is an event (then the watermark follows, with autoWatermark) or
// an advance, then a Flush with version i+1; step len(steps) is the end of
// input (watermark +∞).
type driver struct {
	sc    *scenario
	steps []step
	auto  bool
	e     *Engine
	rec   *stepRecorder
	maxTS int64
}

func newDriver(t testing.TB, sc *scenario, steps []step, auto bool) *driver {
	rec := &stepRecorder{}
	s := sc.engineSettings(t)
	s.Sessions = rec
	return &driver{sc: sc, steps: steps, auto: auto, e: NewEngine(s), rec: rec, maxTS: math.MinInt64}
}

// run performs step i and returns what the engine emitted.
func (d *driver) run(i int) []string {
	switch {
	case i == len(d.steps):
		d.e.Advance(math.MaxInt64)
	case d.steps[i].event.Topic == schemas.TopicInvalid:
		d.e.Advance(d.steps[i].advance)
	default:
		ev := &d.steps[i].event
		reason, ok := d.e.Apply(ev)
		d.rec.lines = append(d.rec.lines, fmt.Sprintf("apply %s %q %v", ev.EventID, reason, ok))
		d.maxTS = max(d.maxTS, ev.TS)
		if d.auto {
			d.e.Advance(d.maxTS - d.sc.lag)
		}
	}
	d.e.flush(uint64(i+1), d.rec)
	lines := d.rec.lines
	d.rec.lines = nil
	return lines
}

// trace runs every step on a fresh driver.
func trace(t testing.TB, sc *scenario, steps []step, auto bool) [][]string {
	d := newDriver(t, sc, steps, auto)
	out := make([][]string, len(steps)+1)
	for i := range out {
		out[i] = d.run(i)
	}
	return out
}

// restore builds a driver whose engine Loads log, in map order, from
// copies that are scribbled over afterwards (Load must keep nothing of
// them). The watermark source (maxTS) is the runner's and carries over.
func (d *driver) restore(t testing.TB, log changelog) *driver {
	t.Helper()
	r := newDriver(t, d.sc, d.steps, d.auto)
	r.maxTS = d.maxTS
	for k, v := range log {
		key, value := []byte(k), bytes.Clone(v)
		if err := r.e.Load(key, value); err != nil {
			t.Fatal(err)
		}
		for i := range value {
			value[i] = 0xff
		}
	}
	if err := r.e.LoadDone(); err != nil {
		t.Fatal(err)
	}
	return r
}

// gauges are the Stats that describe the held state.
func gauges(e *Engine) [8]int64 {
	st := e.Stats()
	return [8]int64{int64(st.OpenSessions), int64(st.ClosedSessions), int64(st.Summaries),
		int64(st.PendingRatings), int64(st.AgentCells), int64(st.ShopCells), st.Watermark, st.FinalBefore}
}

// checkSaved checks a changelog right after SaveChanged: it holds exactly
// what e holds (no stale, missing or left-over entry), and an engine
// restored from it holds the same, down to its pins and its encoding.
func checkSaved(t *testing.T, what string, d *driver, log changelog) *driver {
	t.Helper()
	if diff := log.diff(fullSnapshot(d.e)); len(diff) > 0 {
		t.Fatalf("%s: the changelog differs from the engine's state:\n%s", what, strings.Join(diff, "\n"))
	}
	r := d.restore(t, log)
	if diff := fullSnapshot(r.e).diff(log); len(diff) > 0 {
		t.Fatalf("%s: the restored engine encodes differently:\n%s", what, strings.Join(diff, "\n"))
	}
	if g, w := gauges(r.e), gauges(d.e); g != w {
		t.Fatalf("%s: restored gauges %v, want %v", what, g, w)
	}
	if !maps.Equal(r.e.pins, d.e.pins) {
		t.Fatalf("%s: restored pins %v, want %v", what, r.e.pins, d.e.pins)
	}
	return r
}

func expectSame(t *testing.T, what string, step int, want, got []string) {
	t.Helper()
	if !slices.Equal(want, got) {
		t.Fatalf("%s, step %d:\nwant %d lines:\n  %s\ngot %d lines:\n  %s", what, step,
			len(want), strings.Join(want, "\n  "), len(got), strings.Join(got, "\n  "))
	}
}

// checkRestores checks the property for steps cut after each step in cuts
// (len(steps) is the end of input): (1) an engine that checkpoints at every
// cut behaves as one that never does; (2) an engine restored at each cut
// runs the rest as the original; (3) a chain of restores — restore,
// continue, checkpoint into the same changelog, restore again — runs the
// whole stream as the original and leaves only "meta" in the changelog at
// the end, which catches missing deletes and stale keys.
func checkRestores(t *testing.T, sc *scenario, steps []step, auto bool, cuts []int) {
	t.Helper()
	want := trace(t, sc, steps, auto)
	isCut := map[int]bool{}
	for _, c := range cuts {
		isCut[c] = true
	}
	ref, log := newDriver(t, sc, steps, auto), changelog{}
	for i := range want {
		expectSame(t, "checkpointing engine", i, want[i], ref.run(i))
		if !isCut[i] {
			continue
		}
		ref.e.saveChanged(log)
		r := checkSaved(t, fmt.Sprintf("checkpoint after step %d", i), ref, log)
		for j := i + 1; j < len(want); j++ {
			expectSame(t, fmt.Sprintf("restored after step %d", i), j, want[j], r.run(j))
		}
	}

	d, log := newDriver(t, sc, steps, auto), changelog{}
	for i := range want {
		expectSame(t, "chain of restores", i, want[i], d.run(i))
		if isCut[i] {
			d.e.saveChanged(log)
			d = checkSaved(t, fmt.Sprintf("chain, checkpoint after step %d", i), d, log)
		}
	}
	d.e.saveChanged(log)
	delete(log, keyMeta)
	delete(log, keyAttrMeta) // the attribution's horizon, like meta
	for k := range log {
		// Exclusive relationships and their agents' customer stocks
		// outlive the input; the latest fact's ts is like meta. So does
		// the alerts' state, by design: the scopes in breach, where each
		// shop's evaluation stands, the hourly figures of the last
		// windows; and the rankings of the last days.
		if strings.HasPrefix(k, keyXRel) || strings.HasPrefix(k, keyXStock) || k == keyXMeta ||
			strings.HasPrefix(k, keyAlertShop) || strings.HasPrefix(k, keyFigure) || k == keyAlertMeta ||
			strings.HasPrefix(k, keyRankDay) || strings.HasPrefix(k, keyRankBuyer) {
			delete(log, k)
		}
	}
	if len(log) > 0 {
		t.Fatalf("at the end of input the changelog still holds %d entries: %q", len(log), slices.Sorted(maps.Keys(log)))
	}
}

// TestScenarioCheckpoints cuts every scenario after every step, in file
// order and, for the permutable ones, in two disordered arrivals.
func TestScenarioCheckpoints(t *testing.T) {
	for _, dir := range scenarioDirs(t) {
		sc := loadScenario(t, dir)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			every := make([]int, len(sc.steps)+1)
			for i := range every {
				every[i] = i
			}
			checkRestores(t, sc, sc.steps, !sc.settings.NoAutoWatermark, every)
			if !sc.permutable() {
				return
			}
			rng := rand.New(rand.NewPCG(uint64(len(sc.steps)), 3))
			checkRestores(t, sc, displace(rng, sc.steps, 50*time.Minute), true, every)
			shuffled := slices.Clone(sc.steps)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			checkRestores(t, sc, shuffled, false, every)
		})
	}
}

// TestRandomStreamCheckpoints cuts seeded random streams (property_test.go)
// at random points, in order, with bounded disorder (sessions reopen,
// compact and expire while events trickle in) and in any order with the
// watermark held back.
func TestRandomStreamCheckpoints(t *testing.T) {
	sessions := 400
	if testing.Short() {
		sessions = 60
	}
	for seed := range uint64(3) {
		for _, filtersOn := range []bool{true, false} {
			t.Run(fmt.Sprintf("seed%d/filters=%v", seed, filtersOn), func(t *testing.T) {
				sc := randomScenario(seed, sessions, filtersOn)
				rng := rand.New(rand.NewPCG(seed, 11))
				cuts := func() []int {
					cs := []int{0}
					for range 6 {
						cs = append(cs, rng.IntN(len(sc.steps)+1))
					}
					return cs
				}
				checkRestores(t, sc, sc.steps, true, cuts())
				checkRestores(t, sc, displace(rng, sc.steps, 10*time.Second), true, cuts())
				checkRestores(t, sc, displace(rng, sc.steps, 50*time.Minute), true, cuts())
				shuffled := slices.Clone(sc.steps)
				rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				checkRestores(t, sc, shuffled, false, cuts())
			})
		}
	}
}

// TestRestoredWakeOrder: sessions due at the same instant wake in the
// same order in a restored engine, whose timer heap is rebuilt in map
// order, as in the original: their closes reach the listener, and their
// rows the sink, in the same order. 40 sessions start in one millisecond;
// one Advance times them all out and compacts them.
func TestRestoredWakeOrder(t *testing.T) {
	zones, err := eventtime.NewZoneSet("Asia/Shanghai", nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := &scenario{name: "tied", zones: zones, lag: 10_000}
	t0 := at("2026-03-02T10:00:00.000+08:00")
	for i := range 40 {
		sid := fmt.Appendf(nil, "t%02d", 39-i)
		for n, ev := range []schemas.Event{
			{Topic: schemas.TopicSessions, Type: schemas.TypeStarted, Origin: schemas.OriginBuyer, BuyerID: []byte("b")},
			{Topic: schemas.TopicTransfers, Type: schemas.TypeAssigned, AgentID: fmt.Appendf(nil, "a%d", i%3)},
			{Topic: schemas.TopicMessages, Sender: schemas.SenderBuyer},
			{Topic: schemas.TopicMessages, Sender: schemas.SenderAgent, AgentID: fmt.Appendf(nil, "a%d", i%3)},
		} {
			ev.ShopID, ev.SessionID, ev.EventID, ev.TS = []byte("shop1"), sid, fmt.Appendf(nil, "%s-%d", sid, n), t0+int64(n)
			sc.steps = append(sc.steps, step{event: ev, line: len(sc.steps) + 1})
		}
	}
	sc.steps = append(sc.steps, step{advance: t0 + 2*hourMs})
	checkRestores(t, sc, sc.steps, true, []int{len(sc.steps) - 2, len(sc.steps) - 1})
}

var updateGolden = goflag.Bool("update", false, "rewrite testdata/state/v<stateVersion>.txt")

// TestStateFormatGolden pins the layout of this stateVersion: the state of
// the account_advert_filters_on scenario after its 14th step (a session
// open, one closed, one compacted, a listed buyer's, cells, meta) must
// encode to testdata/state/v<stateVersion>.txt byte for byte, and those
// entries must restore an engine that runs the rest of the scenario as the
// original. A changed layout fails here: bump stateVersion, so that
// changelogs of the old layout are told apart rather than misread, and run
// with -update. The files of older versions must still load and run the
// rest the same (stateenc.go reads them).
func TestStateFormatGolden(t *testing.T) {
	const cut = 13
	sc := loadScenario(t, filepath.Join("testdata", "scenarios", "account_advert_filters_on"))
	d := newDriver(t, sc, sc.steps, true)
	want := trace(t, sc, sc.steps, true)
	for i := range cut + 1 {
		d.run(i)
	}
	log := changelog{}
	d.e.saveChanged(log)
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(log)) {
		lines = append(lines, fmt.Sprintf("%x %x", k, log[k]))
	}
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "state", fmt.Sprintf("v%d.txt", stateVersion))
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(golden) != got {
		t.Fatalf("the state encoding changed (%s):\n%s\nBump stateVersion, then run go test -run TestStateFormatGolden -update", path, got)
	}
	r := d.restore(t, readGolden(t, path))
	for i := cut + 1; i < len(want); i++ {
		expectSame(t, "restored from "+path, i, want[i], r.run(i))
	}

	// The files of older versions must still load, and the restored
	// engine must run the rest of the scenario as the original.
	others, _ := filepath.Glob(filepath.Join("testdata", "state", "v*.txt"))
	for _, other := range others {
		if other == path {
			continue
		}
		r := d.restore(t, readGolden(t, other))
		for i := cut + 1; i < len(want); i++ {
			expectSame(t, "restored from "+other, i, want[i], r.run(i))
		}
	}
}

func readGolden(t *testing.T, path string) changelog {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log := changelog{}
	for _, line := range strings.Fields(strings.ReplaceAll(string(b), " ", "=")) {
		k, v, _ := strings.Cut(line, "=")
		key, err1 := hex.DecodeString(k)
		value, err2 := hex.DecodeString(v)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		log[string(key)] = value
	}
	return log
}

// sampleLog returns a changelog with every kind of entry: the random
// stream displaced by 50 min, cut where open, closed and compacted
// sessions are held, plus an evaluation waiting for its session (a stub).
func sampleLog(t *testing.T) (*scenario, changelog) {
	sc := randomScenario(1, 60, true)
	steps := displace(rand.New(rand.NewPCG(1, 1)), sc.steps, 50*time.Minute)
	d := newDriver(t, sc, steps, true)
	for i := 0; i < len(steps); i++ {
		d.run(i)
		if st := d.e.Stats(); st.OpenSessions > 0 && st.ClosedSessions > 0 && st.Summaries > 0 {
			break
		}
	}
	stub := schemas.Event{Topic: schemas.TopicEvaluations, EventID: []byte("stub-1"), ShopID: []byte("sh"),
		SessionID: []byte("not-yet"), TS: d.maxTS, AgentID: []byte("a1"), Score: 5}
	d.e.Apply(&stub)
	d.e.flush(0, d.rec)
	log := changelog{}
	d.e.saveChanged(log)
	st := d.e.Stats()
	if st.OpenSessions == 0 || st.ClosedSessions == 0 || st.Summaries == 0 || st.PendingRatings == 0 {
		t.Fatalf("the sample misses a phase: %+v", st)
	}
	return sc, log
}

func freshEngine(t *testing.T, sc *scenario) *Engine {
	return NewEngine(sc.engineSettings(t))
}

// loadOne loads one entry into a fresh engine.
func loadOne(t *testing.T, sc *scenario, key string, value []byte) error {
	return freshEngine(t, sc).Load([]byte(key), value)
}

func wantKeyError(t *testing.T, err error, key, detail string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%q: no error, want %q", key, detail)
	case !strings.Contains(err.Error(), fmt.Sprintf("%q", key)) || !strings.Contains(err.Error(), detail):
		t.Errorf("%q: error %q does not name the key and %q", key, err, detail)
	}
}

// TestLoadRejects: unknown keys, other format versions, truncated values
// and trailing bytes are errors naming the key.
func TestLoadRejects(t *testing.T) {
	sc, log := sampleLog(t)
	wantKeyError(t, loadOne(t, sc, "x/1", []byte{stateVersion}), "x/1", "not a key of this engine")
	wantKeyError(t, loadOne(t, sc, "task", []byte{stateVersion}), "task", "not a key of this engine")
	kinds := map[string]bool{}
	for key, value := range log {
		kinds[key[:min(len(key), 2)]] = true
		bad := slices.Clone(value)
		bad[0] = stateVersion + 1
		wantKeyError(t, loadOne(t, sc, key, bad), key, fmt.Sprintf("version %d", stateVersion+1))
		for n := range len(value) {
			wantKeyError(t, loadOne(t, sc, key, value[:n]), key, "truncated")
		}
		wantKeyError(t, loadOne(t, sc, key, append(slices.Clone(value), 0)), key, "1 bytes after the value")
		if err := loadOne(t, sc, key, value); err != nil {
			t.Error(err)
		}
	}
	for _, kind := range []string{"s/", "ca", "cs", "me", "b/", "o/", "iq", "at"} {
		if !kinds[kind] {
			t.Errorf("the sample has entries of kinds %v only, not %q", kinds, kind)
		}
	}
}

// TestLoadContract: Load and LoadDone refuse what the contract rules out.
func TestLoadContract(t *testing.T) {
	sc, log := sampleLog(t)
	var session string
	for k := range log {
		if strings.HasPrefix(k, keySession) {
			session = k
			break
		}
	}

	e := freshEngine(t, sc)
	e.Advance(0)
	if err := e.Load([]byte(session), log[session]); err == nil || !strings.Contains(err.Error(), "processed input") {
		t.Errorf("Load after Advance: %v", err)
	}

	e = freshEngine(t, sc)
	if err := e.Load([]byte(session), log[session]); err != nil {
		t.Fatal(err)
	}
	if err := e.Load([]byte(session), log[session]); err == nil || !strings.Contains(err.Error(), "loaded twice") {
		t.Errorf("a key loaded twice: %v", err)
	}
	if err := e.LoadDone(); err == nil || !strings.Contains(err.Error(), `"meta"`) {
		t.Errorf("LoadDone without meta: %v", err)
	}

	e = freshEngine(t, sc)
	for k, v := range log {
		if err := e.Load([]byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.LoadDone(); err != nil {
		t.Fatal(err)
	}
	if err := e.Load([]byte(keyMeta), log[keyMeta]); err == nil || !strings.Contains(err.Error(), "after LoadDone") {
		t.Errorf("Load after LoadDone: %v", err)
	}
	if err := e.LoadDone(); err == nil {
		t.Error("LoadDone twice: no error")
	}

	// An empty changelog: LoadDone alone, then changes only.
	e = freshEngine(t, sc)
	if err := e.LoadDone(); err != nil {
		t.Fatal(err)
	}
	empty := changelog{}
	e.saveChanged(empty)
	if len(empty) != 1 {
		t.Errorf("an empty engine saved %q", slices.Sorted(maps.Keys(empty)))
	}
}

// TestSaveChangedNeedsFlush: a pending row is a broken contract.
func TestSaveChangedNeedsFlush(t *testing.T) {
	sc := loadScenario(t, filepath.Join("testdata", "scenarios", "reply_3min_boundary"))
	e := freshEngine(t, sc)
	e.Apply(&sc.steps[0].event)
	e.Advance(sc.steps[0].event.TS + 1) // steps it: its cells wait for Flush
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Flush") {
			t.Errorf("SaveChanged before Flush: recovered %v", r)
		}
	}()
	e.saveChanged(changelog{})
}

// TestLoadCorruptDoesNotPanic: flipped bytes are refused or loaded, never
// a panic in Load or LoadDone.
func TestLoadCorruptDoesNotPanic(t *testing.T) {
	sc, log := sampleLog(t)
	rng := rand.New(rand.NewPCG(5, 5))
	keys := slices.Sorted(maps.Keys(log))
	for range 3000 {
		key := keys[rng.IntN(len(keys))]
		value := slices.Clone(log[key])
		for range 1 + rng.IntN(3) {
			value[1+rng.IntN(len(value)-1)] ^= byte(1 + rng.IntN(255))
		}
		e := freshEngine(t, sc)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%q %x: panic %v", key, value, r)
				}
			}()
			if e.Load([]byte(key), value) == nil {
				_ = e.Load([]byte(keyMeta), log[keyMeta])
				_ = e.LoadDone()
			}
		}()
	}
}

// TestStateBytes reports the encoded state per open session (the typical
// session of TestOpenSessionBytes: started, queued, assigned, 20 messages),
// per compacted summary and per cell.
func TestStateBytes(t *testing.T) {
	const sessions = 10_000
	src := newBenchStream(sessions)
	e := NewEngine(benchSettings(t))
	for range sessions * (3 + streamMsgs) {
		e.Apply(src.next())
	}
	e.flush(1, &nopSink{})
	open := &sizeSink{}
	e.saveChanged(open)
	if st := e.Stats(); st.OpenSessions != sessions {
		t.Fatalf("%d open sessions", st.OpenSessions)
	}
	for range sessions {
		ev := src.next()
		*ev = schemas.Event{Topic: schemas.TopicSessions, Type: schemas.TypeEnded, TS: ev.TS,
			EventID: ev.EventID, ShopID: ev.ShopID, SessionID: ev.SessionID}
		e.Apply(ev)
	}
	e.Advance(src.clock + 2*hourMs)
	e.flush(2, &nopSink{})
	summaries := &sizeSink{}
	e.saveChanged(summaries)
	if st := e.Stats(); st.Summaries != sessions {
		t.Fatalf("%d summaries", st.Summaries)
	}
	perOpen := open.per(keySession)
	perSummary := summaries.per(keySession)
	t.Logf("encoded state: %.0f bytes per open session, %.0f per summary (key and value), %.0f per agent cell, %.0f per shop cell",
		perOpen, perSummary, open.per(keyAgentCell), open.per(keyShopCell))
	if perOpen > 400 || perSummary > 200 {
		t.Errorf("%.0f bytes per open session (budget 400), %.0f per summary (budget 200)", perOpen, perSummary)
	}
}

// sizeSink counts entries and bytes by key prefix.
type sizeSink struct {
	n, bytes map[string]int
}

func (s *sizeSink) Put(key, value []byte) {
	if s.n == nil {
		s.n, s.bytes = map[string]int{}, map[string]int{}
	}
	p := string(key[:bytes.IndexByte(key, '/')+1])
	s.n[p]++
	s.bytes[p] += len(key) + len(value)
}

func (s *sizeSink) Delete(key []byte) {}

func (s *sizeSink) per(prefix string) float64 {
	return float64(s.bytes[prefix]) / float64(max(s.n[prefix], 1))
}

// TestSteadyPathDoesNotAllocateWhileTracking is TestSteadyPathDoesNotAllocate
// with checkpoints: listing a session as changed appends to a list that
// keeps its capacity.
func TestSteadyPathDoesNotAllocateWhileTracking(t *testing.T) {
	r := newSteadyRig(t, 1000)
	save := func() {
		r.e.flush(0, &r.sink)
		r.e.saveChanged(&sizeSink{})
	}
	r.openRound()
	save()
	r.messages(1000 * streamMsgs)
	r.openRound()
	save()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r.messages(1000 * streamMsgs)
	runtime.ReadMemStats(&after)
	if n := after.Mallocs - before.Mallocs; n > 16 {
		t.Errorf("%d allocations for %d steady messages", n, 1000*streamMsgs)
	}
	if n := len(r.e.ckpt.sessions.list); n != 1000 {
		t.Errorf("%d sessions listed as changed, want 1000", n)
	}
}

// TestSnapshotCoversState is a tripwire: every field of the engine and of
// what it holds is saved, derived on LoadDone, or transient at a
// checkpoint. A new field fails here until snapshot.go accounts for it.
func TestSnapshotCoversState(t *testing.T) {
	saved, rebuilt, transient := "saved", "rebuilt", "transient"
	all := func(names ...string) map[string]string {
		m := map[string]string{}
		for _, n := range names {
			m[n] = saved
		}
		return m
	}
	cell := map[string]string{
		"key": saved, "v": saved,
		"cellStatus": transient, // see cellStatus below
	}
	for typ, fields := range map[reflect.Type]map[string]string{
		reflect.TypeFor[Engine](): {
			"shared": saved,                        // see shared below
			"lim":    rebuilt, "listener": rebuilt, // Settings
			"sessions": saved, "agents": saved, "shops": saved,
			"sweptTo": saved,
			"timers":  rebuilt, "pins": rebuilt, "logPins": rebuilt, // LoadDone; HoldHour pins are their owners'
			"keyBuf": transient, "logs": transient, "discard": transient, "ckpt": transient,
			"dirtyAgents": transient, "dirtyShops": transient, "dirtySessions": transient, // empty after Flush
			"stats": transient,              // per process
			"attr":  saved, "robots": saved, // attrstate.go, TestAttributionStateCovered
			"excl":    saved,                  // exclusive_state.go, TestExclusiveStateCovered
			"viewBuf": transient,              // the listeners' view, during their call
			"fig":     saved, "alerts": saved, // alertstate.go
			"ranks":    saved,   // rankstate.go
			"families": rebuilt, // the fields above, by NewEngine
		},
		reflect.TypeFor[shared](): {
			"zones": rebuilt, "stats": rebuilt, // Settings; the engine's
			"shopIDs": rebuilt, "shopZones": rebuilt, "names": rebuilt, // interned as entries load
			"wm": saved, "finalBefore": saved,
		},
		reflect.TypeFor[rankings](): {
			"e": rebuilt, "days": saved,
			"dirty": transient, "changed": transient, "buyers": transient, // empty after a checkpoint
		},
		reflect.TypeFor[rankDay](): {
			"shopDay": saved, "agents": saved, "buyers": saved,
			"dirty": transient, "forgotten": transient, "entryState": transient,
		},
		reflect.TypeFor[rankFigures](): {
			"sessions": saved, "pairs": saved, "pairsOK": saved, "ratings": saved, "satisfy": saved, "ranked": saved,
			"buyers": rebuilt, // counted from the buyers at LoadDone
		},
		reflect.TypeFor[rankBuyer](): {
			"day": rebuilt, "buyer": saved, "counts": saved, "entryState": transient,
		},
		reflect.TypeFor[figures](): {
			"watched": transient,                // drained by Flush
			"cells":   saved, "byHour": rebuilt, // as the copies load
			"changed": transient, "listen": rebuilt,
		},
		reflect.TypeFor[alerts](): {
			"e": rebuilt, "rules": rebuilt, "windows": rebuilt, "keep": rebuilt, // Settings
			"shops": saved, "minTS": saved, "maxTS": saved,
			"out": transient, "taken": transient, "earliest": transient, "earliestKnown": transient, "known": transient, // nextDue rebuilds them // empty after Flush and TakeAlerts
			"changed": transient, "metaChg": transient,
		},
		reflect.TypeFor[alertShop](): {
			"shop": saved, "next": saved, "evaluatedTo": saved, "floor": saved, "breach": saved,
			"scopes":     rebuilt, // the running sums, added up again from the copies
			"entryState": transient,
		},
		reflect.TypeFor[session](): {
			"key": saved, "hdr": saved, "log": saved, "assigns": saved, "pairs": saved, "evals": saved,
			"d": saved, "rated": saved, "timerAt": saved, "shop": saved, "rowDay": saved,
			"closeApplied": saved, "shown": saved, "compacted": saved, "rowWritten": saved,
			"zone": rebuilt, "pinLog": rebuilt, "pinEval": rebuilt, "evalTo": saved,
			"assignBuf": transient, "pairBuf": transient, // storage of assigns and pairs
			"lastAgentCell": transient, "lastShopCell": transient, // caches
			"deleted": transient, "rowDirty": transient, "entryState": transient,
		},
		reflect.TypeFor[derived](): all("startTS", "lastAct", "closeTS", "queueTS", "firstQueuedTS",
			"firstAssignTS", "firstAgentTS", "inquiryTS", "waitSum", "applied", "pendingFrom", "cur",
			"buyerMsgs", "agentMsgs", "robotMsgs", "humanBuyer", "humanAgent", "inquiryAgent", "inquiryAssign", "intent",
			"closed", "closedByEnded", "started", "queued", "queueOpen", "pickedAny", "abandoned",
			"inquiryReplied", "firstAgentKnown"),
		reflect.TypeFor[header]():     all("buyer", "channel", "task", "robot", "origin", "droppedByBuyerList"),
		reflect.TypeFor[entry]():      all("ts", "meta", "ref"),
		reflect.TypeFor[assignment](): all("id", "ts", "agent", "group", "agentMsgs", "buyerAfter"),
		reflect.TypeFor[pair]():       all("firstTS", "agent", "group", "inWindow", "within"),
		reflect.TypeFor[evaluation](): all("id", "ts", "agent", "score"),
		reflect.TypeFor[rating]():     all("ts", "agent", "group", "score", "counted"),
		reflect.TypeFor[cellStatus](): {
			"live":       rebuilt,   // from the values at Load: see loadCell
			"dirty":      transient, // false after Flush
			"dropped":    transient, // a dropped cell's key is deleted
			"entryState": transient,
			"watched":    transient, // false after Flush drains the figures
		},
		reflect.TypeFor[agentCell](): cell,
		reflect.TypeFor[shopCell]():  cell,
	} {
		have := map[string]bool{}
		for f := range typ.Fields() {
			have[f.Name] = true
			if _, ok := fields[f.Name]; !ok {
				t.Errorf("%s.%s: new state? save it in stateenc.go (and bump stateVersion) or rebuild it in LoadDone, then list it here", typ.Name(), f.Name)
			}
		}
		for name := range fields {
			if !have[name] {
				t.Errorf("%s.%s is listed here but gone", typ.Name(), name)
			}
		}
	}
}

// BenchmarkSaveChanged encodes 10 000 changed open sessions (the typical
// session, 23 log entries) per operation, into a sink that copies like the
// changelog's record batch.
func BenchmarkSaveChanged(b *testing.B) {
	const sessions = 10_000
	src := newBenchStream(sessions)
	e := NewEngine(benchSettings(b))
	for range sessions * (3 + streamMsgs) {
		e.Apply(src.next())
	}
	e.flush(1, &nopSink{})
	sink := &copySink{}
	e.saveChanged(sink)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for s := range e.allSessions() {
			e.touchSession(s)
		}
		sink.buf = sink.buf[:0]
		b.StartTimer()
		e.saveChanged(sink)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*sessions), "ns/session")
	b.ReportMetric(float64(len(sink.buf))/sessions, "bytes/session")
}

// copySink copies keys and values into one buffer.
type copySink struct{ buf []byte }

func (s *copySink) Put(key, value []byte) { s.buf = append(append(s.buf, key...), value...) }
func (s *copySink) Delete(key []byte)     { s.buf = append(s.buf, key...) }

// BenchmarkApplyStreamCheckpointed is BenchmarkApplyStream with state
// checkpoints (Flush and SaveChanged every 2¹⁷ events, outside the timer):
// the Apply path while changes are tracked. save-ns/event is what
// SaveChanged adds per event at that interval.
func BenchmarkApplyStreamCheckpointed(b *testing.B) {
	e := NewEngine(benchSettings(b))
	src := newBenchStream(5000)
	sink, state := &nopSink{}, &copySink{}
	warm(e, src, sink, 2_000_000)
	e.flush(0, sink)
	e.saveChanged(state)
	var cpu cpuMeter
	var save time.Duration
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
			state.buf = state.buf[:0]
			start := processCPU()
			e.saveChanged(state)
			save += processCPU() - start
			cpu.resume()
			b.StartTimer()
		}
	}
	cpu.pause()
	b.StopTimer()
	cpu.report(b)
	b.ReportMetric(float64(save.Nanoseconds())/float64(b.N), "save-cpu-ns/event")
}
