package metrics

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"math"

	"github.com/cspulse/cspulse/eventtime"
)

// Checkpoints of the exclusive-customer operator (exclusive.go), a family
// (families.go) under snapshot.go's contract.
//
// Keys (str: uvarint length and bytes; hash: uvarint of the 64-bit hash
// of (shop, buyer) or (shop, order)):
//
//	xr/ hash                       a folded relationship
//	xb/ hash                       a buyer's facts of non-final days
//	xc/ str(shop) str(agent) varint(day)  a cs_exclusive_daily cell
//	xs/ str(shop) str(agent)       an agent's customer stock
//	xd/ hash                       a folded presale deposit
//	xm/                            the latest fact's ts (seen)
//
// Values start with exclStateVersion; names are strings (interned ids are
// per process). Layouts:
//
//	relation  str agent, varint accepted
//	buyer     str shop; uvarint n, n × (varint ts, uvarint hash, str agent,
//	          byte kind); uvarint n, n × (byte kind, varint ts, uvarint
//	          hash, uvarint ref, varint amount, str agent); uvarint n,
//	          n × (uvarint session, uvarint m, m × (varint ts, str agent))
//	cell      uvarint n, n × varint column
//	stock     varint base, baseDay, lastDay; uvarint n, n × (varint day, delta)
//	deposit   varint ts, amount, uvarint hash
//	meta      varint seen
//
// Derived and rebuilt by LoadDone: the buyers' contributions (compute
// gives them again from the same facts and watermark) and the wake-ups of
// held facts. A folded relationship takes 1 + 1 + len(agent) + ≤ 7 bytes.
const exclStateVersion = 1

const (
	keyXRel     = "xr/"
	keyXBuyer   = "xb/"
	keyXCell    = "xc/"
	keyXStock   = "xs/"
	keyXDeposit = "xd/"
	keyXMeta    = "xm/"
)

// xCheckpoints is the operator's change tracking, as the engine's: lists
// are kept from the first saveChanged or LoadDone on.
type xCheckpoints struct {
	tracking bool
	buyers   changes[*xbuyer]
	cells    changes[*xcell]
	stocks   changes[*stock]
	rels     map[uint64]bool // changed since the last save → the changelog holds it
	deposits map[uint64]bool
	seen     int64 // as the changelog holds it
	key, val []byte
}

func (x *exclusive) touchBuyer(b *xbuyer) { x.ck.buyers.note(x.ck.tracking, b) }
func (x *exclusive) trackCell(c *xcell)   { x.ck.cells.note(x.ck.tracking, c) }
func (x *exclusive) touchStock(s *stock)  { x.ck.stocks.note(x.ck.tracking, s) }

// touchRel records that the relationship of k is about to change. Call it
// before the change: whether the changelog holds k is whether rels held it
// before the first change since the last save (one bit kept per change,
// none per relationship).
func (x *exclusive) touchRel(k uint64) {
	if _, listed := x.ck.rels[k]; x.ck.tracking && !listed {
		_, held := x.rels[k]
		x.ck.rels[k] = held
	}
}

// touchDeposit is touchRel for a deposit.
func (x *exclusive) touchDeposit(k uint64) {
	if _, listed := x.ck.deposits[k]; x.ck.tracking && !listed {
		_, held := x.deposits[k]
		x.ck.deposits[k] = held
	}
}

// startTracking begins change tracking; all lists everything held (an
// engine's first saveChanged when it was not restored).
func (x *exclusive) startTracking(all bool) {
	ck := &x.ck
	ck.tracking = true
	ck.rels, ck.deposits = map[uint64]bool{}, map[uint64]bool{}
	if !all {
		ck.seen = x.seen
		return
	}
	ck.seen = math.MinInt64
	for _, b := range x.buyers {
		ck.buyers.add(b)
	}
	for _, c := range x.cells {
		ck.cells.add(c)
	}
	for _, s := range x.stocks {
		ck.stocks.add(s)
	}
	for k := range x.rels {
		ck.rels[k] = false
	}
	for k := range x.deposits {
		ck.deposits[k] = false
	}
}

// saveChanged implements family.
func (x *exclusive) saveChanged(out StateSink) {
	if len(x.dirty) > 0 {
		panic(fmt.Sprintf("metrics: exclusive saveChanged with %d rows not flushed", len(x.dirty)))
	}
	ck := &x.ck
	if !ck.tracking {
		x.startTracking(true)
	}
	ck.buyers.save(out, func(b *xbuyer) []byte { return x.hashKey(keyXBuyer, b.key) }, x.encodeBuyer)
	ck.cells.save(out, func(c *xcell) []byte { return x.cellKey(c.key) },
		func(c *xcell) []byte { return x.encodeCols(c.v[:]) })
	ck.stocks.save(out, func(s *stock) []byte { return x.stockKey(s.key) }, x.encodeStock)
	for k, saved := range ck.rels {
		if r, ok := x.rels[k]; ok {
			out.Put(x.hashKey(keyXRel, k), x.encodeRel(r))
		} else if saved {
			out.Delete(x.hashKey(keyXRel, k))
		}
	}
	clear(ck.rels)
	for k, saved := range ck.deposits {
		if d, ok := x.deposits[k]; ok {
			out.Put(x.hashKey(keyXDeposit, k), x.encodeDeposit(d))
		} else if saved {
			out.Delete(x.hashKey(keyXDeposit, k))
		}
	}
	clear(ck.deposits)
	if x.seen != ck.seen {
		w := x.valueWriter()
		w.Int(x.seen)
		out.Put([]byte(keyXMeta), x.done(w))
		ck.seen = x.seen
	}
}

func (x *exclusive) hashKey(prefix string, k uint64) []byte {
	w := writer{B: append(x.ck.key[:0], prefix...)}
	w.Uint(k)
	x.ck.key = w.B
	return w.B
}

func (x *exclusive) cellKey(k xkey) []byte {
	sh := x.sh
	w := writer{B: append(x.ck.key[:0], keyXCell...)}
	w.Str(sh.shopIDs.name(k.shop))
	w.Str(sh.names.name(k.agent))
	w.Int(int64(k.day))
	x.ck.key = w.B
	return w.B
}

func (x *exclusive) stockKey(k stockKey) []byte {
	sh := x.sh
	w := writer{B: append(x.ck.key[:0], keyXStock...)}
	w.Str(sh.shopIDs.name(k.shop))
	w.Str(sh.names.name(k.agent))
	x.ck.key = w.B
	return w.B
}

func (x *exclusive) valueWriter() writer { return writer{B: append(x.ck.val[:0], exclStateVersion)} }

func (x *exclusive) done(w writer) []byte {
	x.ck.val = w.B
	return w.B
}

func (x *exclusive) encodeCols(v []int64) []byte {
	w := x.valueWriter()
	w.Uint(uint64(len(v)))
	for _, c := range v {
		w.Int(c)
	}
	return x.done(w)
}

func (x *exclusive) encodeRel(r relation) []byte {
	w := x.valueWriter()
	w.Str(x.sh.names.name(r.agent))
	w.Int(r.accepted)
	return x.done(w)
}

func (x *exclusive) encodeDeposit(d deposit) []byte {
	w := x.valueWriter()
	w.Int(d.ts)
	w.Int(d.amount)
	w.Uint(d.hash)
	return x.done(w)
}

func (x *exclusive) encodeStock(s *stock) []byte {
	w := x.valueWriter()
	w.Int(s.base)
	w.Int(int64(s.baseDay))
	w.Int(int64(s.lastDay))
	w.Uint(uint64(len(s.deltas)))
	for _, dd := range s.deltas {
		w.Int(int64(dd.day))
		w.Int(dd.delta)
	}
	return x.done(w)
}

func (x *exclusive) encodeBuyer(b *xbuyer) []byte {
	names := x.sh.names
	w := x.valueWriter()
	w.Str(x.sh.shopIDs.name(b.shop))
	w.Uint(uint64(len(b.rels)))
	for _, r := range b.rels {
		w.Int(r.ts)
		w.Uint(r.hash)
		w.Str(names.name(r.agent))
		w.Byte(byte(r.kind))
	}
	w.Uint(uint64(len(b.marks)))
	for _, m := range b.marks {
		w.Byte(byte(m.kind))
		w.Int(m.ts)
		w.Uint(m.hash)
		w.Uint(m.ref)
		w.Int(m.amount)
		w.Str(names.name(m.agent))
	}
	w.Uint(uint64(len(b.sessions)))
	for _, s := range b.sessions {
		w.Uint(s.id)
		w.Uint(uint64(len(s.msgs)))
		for _, m := range s.msgs {
			w.Int(m.ts)
			w.Str(names.name(m.agent))
		}
	}
	return x.done(w)
}

// load implements family.
func (x *exclusive) load(key, value []byte) (bool, error) {
	if !x.owns(key) {
		return false, nil
	}
	if err := x.loadEntry(key, value); err != nil {
		return true, fmt.Errorf("metrics: state entry %q: %w", key, err)
	}
	return true, nil
}

// owns reports whether key is one of this operator's.
func (x *exclusive) owns(key []byte) bool {
	for _, p := range []string{keyXRel, keyXBuyer, keyXCell, keyXStock, keyXDeposit, keyXMeta} {
		if bytes.HasPrefix(key, []byte(p)) {
			return true
		}
	}
	return false
}

func (x *exclusive) loadEntry(key, value []byte) error {
	if len(key) < 3 {
		return errors.New("not a key of the exclusive-customer operator")
	}
	r := &reader{B: value}
	if v := r.Byte(); r.Err == nil && v != exclStateVersion {
		return fmt.Errorf("state format version %d; this build reads version %d", v, exclStateVersion)
	}
	switch p := string(key[:3]); p {
	case keyXRel, keyXBuyer, keyXDeposit:
		k, err := hashOf(key[3:])
		if err != nil {
			return err
		}
		switch p {
		case keyXRel:
			return x.loadRel(k, r)
		case keyXBuyer:
			return x.loadBuyer(k, r)
		}
		return x.loadDeposit(k, r)
	case keyXCell:
		return x.loadCell(key[3:], r)
	case keyXStock:
		return x.loadStock(key[3:], r)
	case keyXMeta:
		x.seen = r.Int()
		return r.Done()
	}
	return errors.New("not a key of the exclusive-customer operator")
}

func hashOf(b []byte) (uint64, error) {
	kr := &reader{B: b}
	k := kr.Uint()
	return k, kr.Done()
}

func (x *exclusive) loadRel(k uint64, r *reader) error {
	if _, dup := x.rels[k]; dup {
		return errors.New("loaded twice")
	}
	agent := x.sh.names.id(r.Bytes())
	accepted := r.Int()
	if err := r.Done(); err != nil {
		return err
	}
	x.rels[k] = relation{agent: agent, accepted: accepted}
	return nil
}

func (x *exclusive) loadDeposit(k uint64, r *reader) error {
	if _, dup := x.deposits[k]; dup {
		return errors.New("loaded twice")
	}
	d := deposit{ts: r.Int(), amount: r.Int(), hash: r.Uint()}
	if err := r.Done(); err != nil {
		return err
	}
	x.deposits[k] = d
	return nil
}

func (x *exclusive) loadBuyer(k uint64, r *reader) error {
	if x.buyers[k] != nil {
		return errors.New("loaded twice")
	}
	sh := x.sh
	shopID := r.Bytes()
	if r.Err == nil && len(shopID) == 0 {
		return errors.New("no shop")
	}
	shop, _ := sh.shop(shopID)
	b := &xbuyer{key: k, shop: shop, entryState: entryState{saved: true}}
	for range r.Count() {
		b.rels = append(b.rels, relEvent{ts: r.Int(), hash: r.Uint(), agent: sh.names.id(r.Bytes()), kind: xkind(r.Byte())})
	}
	for range r.Count() {
		b.marks = append(b.marks, mark{kind: xkind(r.Byte()), ts: r.Int(), hash: r.Uint(), ref: r.Uint(),
			amount: r.Int(), agent: sh.names.id(r.Bytes())})
	}
	for range r.Count() {
		s := xsession{id: r.Uint()}
		for range r.Count() {
			s.msgs = append(s.msgs, xmsg{ts: r.Int(), agent: sh.names.id(r.Bytes())})
		}
		b.sessions = append(b.sessions, s)
	}
	if err := r.Done(); err != nil {
		return err
	}
	x.buyers[k] = b
	return nil
}

// names reads str(shop) str(agent) of a cell or stock key.
func (x *exclusive) names(kr *reader) (shop, agent uint32) {
	shopID, agentID := kr.Bytes(), kr.Bytes()
	if kr.Err == nil && len(shopID) == 0 {
		kr.Fail(errors.New("malformed key"))
	}
	shop, _ = x.sh.shop(shopID)
	return shop, x.sh.names.id(agentID)
}

func (x *exclusive) loadCell(key []byte, r *reader) error {
	kr := &reader{B: key}
	shop, agent := x.names(kr)
	day := kr.Int32("day")
	if err := kr.Done(); err != nil {
		return err
	}
	k := xkey{shop: shop, agent: agent, day: eventtime.Date(day)}
	if x.cells[k] != nil {
		return errors.New("loaded twice")
	}
	c := &xcell{key: k, cellStatus: cellStatus{entryState: entryState{saved: true}}}
	for i := range r.UintMax(xCols, "column count") {
		c.v[i] = r.Int()
	}
	if err := r.Done(); err != nil {
		return err
	}
	c.isLive()
	x.cells[k] = c
	return nil
}

func (x *exclusive) loadStock(key []byte, r *reader) error {
	kr := &reader{B: key}
	shop, agent := x.names(kr)
	if err := kr.Done(); err != nil {
		return err
	}
	k := stockKey{shop: shop, agent: agent}
	if x.stocks[k] != nil {
		return errors.New("loaded twice")
	}
	s := &stock{key: k, entryState: entryState{saved: true}, base: r.Int(),
		baseDay: eventtime.Date(r.Int32("day")), lastDay: eventtime.Date(r.Int32("day"))}
	for range r.Count() {
		s.deltas = append(s.deltas, dayDelta{day: eventtime.Date(r.Int32("day")), delta: r.Int()})
	}
	if err := r.Done(); err != nil {
		return err
	}
	x.stocks[k] = s
	return nil
}

// loadDone implements family: the buyers' contributions and the
// held facts' wake-ups are derived again.
func (x *exclusive) loadDone() error {
	wm := x.sh.wm
	for _, b := range x.buyers {
		b.contrib = append(b.contrib[:0], x.compute(b, nil)...)
		for _, r := range b.rels {
			if r.ts >= wm {
				heap.Push(&x.wake, xwake{at: r.ts, b: b})
			}
		}
		for _, m := range b.marks {
			if m.ts >= wm {
				heap.Push(&x.wake, xwake{at: m.ts, b: b})
			}
		}
	}
	x.finalBucket = math.MinInt64 // the next Advance folds: a no-op when nothing is final
	x.startTracking(false)
	return nil
}
