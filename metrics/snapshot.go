package metrics

// Checkpoints of the engine's state, for SPEC §5 and DESIGN "Checkpoints".
// An engine restored from the entries of a checkpoint is indistinguishable
// from the engine that saved them: given the same later calls it emits the
// same rows, in the same order, and makes the same SessionListener calls.
//
// # Contract
//
//   - Checkpoint cuts rows, alerts and state in one call: the rows changed
//     since the last checkpoint are not state, the checkpoint writes them
//     with the state they came from, so a saved engine has none pending and
//     a restored one starts with none. (Inside, flush comes right before
//     saveChanged, which panics when a row is pending.)
//   - Restore into a new engine (NewEngine, with the same Settings):
//     Load every live entry of the changelog partition (the last write per
//     key; tombstones removed), in any order, then LoadDone, before any
//     Apply, Advance, Checkpoint or AddSale. Load refuses an engine
//     that has processed anything. After a Load error the engine is
//     unusable: make a new one.
//   - An engine that was not restored writes everything it holds at its
//     first saved checkpoint, and only changes after that. A task whose
//     changelog partition is empty therefore needs no Load (LoadDone alone
//     is allowed too); one whose partition holds entries must Load them
//     all, or keys of the old state would outlive it.
//   - Not saved: HoldHour pins (their owners hold again when they restore,
//     before the first Advance), the SessionListener's own state, and the
//     Stats counters (per process).
//
// # Keys
//
// Every key starts with a prefix naming its kind; str is a uvarint length
// and the bytes, hour the UTC instant (ms) of the local hour's start as a
// zigzag varint.
//
//	s/  uvarint len(shop) shop session_id    a session, in any phase
//	ca/ str(shop) str(group) str(agent) hour  a cs_agent_hourly cell
//	cs/ str(shop) hour                        a cs_shop_hourly cell
//	meta                                      watermark, finality bound
//
// A session keeps one key through all its phases — evaluations waiting for
// their session (stub), open, closed, compacted summary — and a phase
// change overwrites it: one record, not a delete and a put. The key ends
// with its phase (a Delete) when the session is removed, and a cell's when
// its hour is final and the cell dropped.
//
// # Values
//
// Byte 0 is the format version (stateVersion); Load rejects any other, so
// a changelog of another format is refused with an error naming the key,
// never misread. The rest is encoding/binary varints, no reflection.
// Names (shops, agents, groups, channels, tasks, robots, intents) are
// written as strings: interned ids are per process. A session's value
// carries a table of the names it uses and refers to them by index, and
// its timestamps relative to a base (its first log entry), so that a
// typical open session takes about 330 bytes (snapshot_test.go measures
// it). Layouts: stateenc.go.
//
// Everything else is derived and rebuilt by LoadDone: the hour pins (from
// each log's first entry and each session's first evaluation), the timer
// heap (from each session's pending wake-up, which is saved), the zones;
// the log pool and the sessions' cell caches start empty.
//
// # Change tracking
//
// The hot path pays a flag test: a session is appended to a list the first
// time it changes after a saveChanged (addEntry, applyEvaluation, wake, the
// first write of its row), a cell when flush writes it or it is dropped.
// Removed sessions and dropped cells stay on the list until the next
// saveChanged, which deletes their keys if the changelog holds them (the
// saved flag). Until an engine's first saveChanged or LoadDone nothing is
// listed, so an engine that never checkpoints (tests, benchmarks, a run
// without state checkpoints) holds no list.

import (
	"bytes"
	"errors"
	"fmt"
	"math"
)

// Key prefixes. The runner's own entry ("task") and other operators' keys
// must not start with these.
const (
	keySession   = "s/"
	keyAgentCell = "ca/"
	keyShopCell  = "cs/"
	keyMeta      = "meta"
)

// checkpoints is the engine's bookkeeping for saveChanged and Load.
type checkpoints struct {
	tracking bool // lists are kept: after the first saveChanged or LoadDone
	loading  bool // Load has begun, LoadDone not yet called
	restored bool // LoadDone was called

	sessions changes[*session] // changed since the last saveChanged
	agents   changes[*agentCell]
	shops    changes[*shopCell]

	meta      engineMeta // as the changelog holds it
	metaSaved bool

	enc encoder
	dec decoder
}

// engineMeta is the engine-wide state.
type engineMeta struct {
	wm, finalBefore, sweptTo int64
}

func (e *Engine) metaNow() engineMeta {
	return engineMeta{wm: e.wm, finalBefore: e.finalBefore, sweptTo: e.sweptTo}
}

// touchSession records that s changed. It is on the hot path: inlined, a
// flag test.
func (e *Engine) touchSession(s *session) {
	if !s.changed {
		e.trackSession(s)
	}
}

func (e *Engine) trackSession(s *session) { e.ckpt.sessions.note(e.ckpt.tracking, s) }

func (e *Engine) trackAgentCell(c *agentCell) { e.ckpt.agents.note(e.ckpt.tracking, c) }
func (e *Engine) trackShopCell(c *shopCell)   { e.ckpt.shops.note(e.ckpt.tracking, c) }

// saveChanged writes every entry changed since the last saveChanged (all
// of them at an engine's first, unless it was restored). flush must come
// right before it.
func (e *Engine) saveChanged(out StateSink) {
	if n := len(e.dirtyAgents) + len(e.dirtyShops) + len(e.dirtySessions); n > 0 {
		panic(fmt.Sprintf("metrics: saveChanged with %d rows not flushed: Flush must come right before it", n))
	}
	if !e.ckpt.tracking {
		e.trackAll()
	}
	e.saveSessions(out)
	e.saveCells(out)
	e.saveFamilies(out) // families.go
	if m := e.metaNow(); !e.ckpt.metaSaved || m != e.ckpt.meta {
		out.Put([]byte(keyMeta), e.ckpt.enc.meta(m))
		e.ckpt.meta, e.ckpt.metaSaved = m, true
	}
}

// trackAll lists everything held: the first saveChanged of an engine that
// was not restored writes it all.
func (e *Engine) trackAll() {
	ck := &e.ckpt
	ck.tracking = true
	for s := range e.allSessions() {
		ck.sessions.add(s)
	}
	for _, c := range e.agents {
		ck.agents.add(c)
	}
	for _, c := range e.shops {
		ck.shops.add(c)
	}
	if e.alerts != nil {
		e.alerts.trackAll()
	}
	if e.ranks != nil {
		e.ranks.trackAll()
	}
}

// saveSessions saves the changed sessions. A session id seen again after
// its summary was removed is a new session under the old key: the save's
// deletes come first.
func (e *Engine) saveSessions(out StateSink) {
	ck := &e.ckpt
	ck.sessions.save(out, ck.enc.sessionKey, func(s *session) []byte { return ck.enc.session(e, s) })
}

func (e *Engine) saveCells(out StateSink) {
	ck := &e.ckpt
	ck.agents.save(out,
		func(c *agentCell) []byte { return ck.enc.agentKey(e, c.key) },
		func(c *agentCell) []byte { return ck.enc.values(agentCols(&c.v)) })
	ck.shops.save(out,
		func(c *shopCell) []byte { return ck.enc.shopKey(e, c.key) },
		func(c *shopCell) []byte { return ck.enc.values(shopCols(&c.v)) })
}

// Load takes back one entry of a changelog written by saveChanged. Errors
// name the key.
func (e *Engine) Load(key, value []byte) error {
	if err := e.beginLoad(); err != nil {
		return err
	}
	var err error
	switch {
	case bytes.HasPrefix(key, []byte(keySession)):
		err = e.loadSession(key, value)
	case bytes.HasPrefix(key, []byte(keyAgentCell)):
		err = e.loadAgentCell(key, value)
	case bytes.HasPrefix(key, []byte(keyShopCell)):
		err = e.loadShopCell(key, value)
	case string(key) == keyMeta:
		err = e.loadMeta(value)
	default:
		var owned bool
		if owned, err = e.loadFamily(key, value); !owned {
			err = errors.New("not a key of this engine")
		}
	}
	if err != nil {
		return fmt.Errorf("metrics: state entry %q: %w", key, err)
	}
	return nil
}

// beginLoad checks that entries go into a fresh engine.
func (e *Engine) beginLoad() error {
	ck := &e.ckpt
	switch {
	case ck.restored:
		return errors.New("metrics: Load after LoadDone")
	case ck.loading:
		return nil
	}
	if err := e.checkFresh(); err != nil {
		return err
	}
	ck.loading = true
	return nil
}

// checkFresh reports an engine that has processed anything: restored state
// would be mixed with it.
func (e *Engine) checkFresh() error {
	if e.wm != math.MinInt64 || e.ckpt.tracking ||
		len(e.sessions)+len(e.agents)+len(e.shops) > 0 {
		return fmt.Errorf("metrics: restore into an engine that has processed input or saved state: %v", e)
	}
	return nil
}

func (e *Engine) loadMeta(value []byte) error {
	if e.ckpt.metaSaved {
		return errors.New("loaded twice")
	}
	m, err := e.ckpt.dec.meta(value)
	if err != nil {
		return err
	}
	e.wm, e.finalBefore, e.sweptTo = m.wm, m.finalBefore, m.sweptTo
	e.ckpt.meta, e.ckpt.metaSaved = m, true
	return nil
}

func (e *Engine) loadSession(key, value []byte) error {
	s, err := e.ckpt.dec.session(e, key[len(keySession):], value)
	if err != nil {
		return err
	}
	if e.sessions[s.key] != nil {
		return errors.New("loaded twice")
	}
	e.sessions[s.key] = s
	return nil
}

func (e *Engine) loadAgentCell(key, value []byte) error {
	k, err := e.ckpt.dec.agentKey(e, key[len(keyAgentCell):])
	if err != nil {
		return err
	}
	return loadCell(e.agents, k, value, agentCols, &e.ckpt.dec)
}

func (e *Engine) loadShopCell(key, value []byte) error {
	k, err := e.ckpt.dec.shopKey(e, key[len(keyShopCell):])
	if err != nil {
		return err
	}
	return loadCell(e.shops, k, value, shopCols, &e.ckpt.dec)
}

// loadCell restores one cell of key k from its encoded values.
func loadCell[K comparable, V comparable](cells map[K]*cell[K, V], k K, value []byte, cols func(*V) []int64, dec *decoder) error {
	if cells[k] != nil {
		return errors.New("loaded twice")
	}
	c := &cell[K, V]{key: k, cellStatus: cellStatus{entryState: entryState{saved: true}}}
	if err := dec.values(value, cols(&c.v)); err != nil {
		return err
	}
	c.isLive() // a zero cell written before is written again only if it changes
	cells[k] = c
	return nil
}

// LoadDone ends a restore: it rebuilds the hour pins and the timers from
// the loaded sessions and starts change tracking.
func (e *Engine) LoadDone() error {
	ck := &e.ckpt
	switch {
	case ck.restored:
		return errors.New("metrics: LoadDone called twice")
	case !ck.loading:
		if err := e.checkFresh(); err != nil {
			return err
		}
	case !ck.metaSaved:
		return fmt.Errorf("metrics: the state has no %q entry: not a complete checkpoint", keyMeta)
	}
	e.timers.advance(e.wm) // so that the restored near timers go to the near heap
	for s := range e.allSessions() {
		if len(s.log) > 0 {
			e.setLogPin(s, s.log[0].ts, true)
		}
		if len(s.evals) > 0 {
			e.setPin(&s.pinEval, s.evals[0].ts, true)
		}
		if s.timerAt != math.MaxInt64 {
			e.timers.push(s.timerAt, s)
		}
	}
	ck.loading, ck.restored, ck.tracking = false, true, true
	return e.loadFamiliesDone() // after the finality bound: they hold hours again
}
