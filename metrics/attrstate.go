package metrics

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cspulse/cspulse/eventtime"
)

// Checkpoints of the attribution and robot operators, two families
// (families.go) under snapshot.go's contract.
//
// Keys (str: uvarint length and bytes):
//
//	b/   uvarint len(shop) shop buyer_id    a buyer: inquiries, rows
//	o/   uvarint len(shop) shop order_id    an order
//	iq/  str(shop) str(agent) varint(day)   a cs_inquiry_daily cell
//	at/meta                                 the settled horizon
//	rb/  str(shop) str(task) str(robot) str(intent) varint(hour)
//	                                        a cs_robot_hourly cell
//
// Values start with attrStateVersion; names are strings (interned ids are
// per process), instants varints. Derived and rebuilt by LoadDone: the
// validity ends and days of inquiries and references (from their instant
// and the shop's zone), the buyers' order lists, the wake-up heaps, and
// the payment hours held (HoldHour), which the engine does not save.
//
//	buyer  uvarint n, n × (varint at, str agent, str group, varint n);
//	       uvarint n, n × (str agent, varint day, varint inquiries,
//	       ordered, paid, amount)
//	order  uvarint flags (orderFlags); created and paid when set:
//	       varint ts, amount, uvarint hash, str buyer_id; the order and
//	       pay inquiry when found: varint at, str agent, str group; the
//	       sale when on: varint ts, amount, str agent, str group; the part
//	       when on: str agent, varint day, amount
//	cell   uvarint n, n × varint column
//	meta   varint settled, heldHour, sweptTo
const attrStateVersion = 1

const (
	keyBuyer     = "b/"
	keyOrder     = "o/"
	keyInqCell   = "iq/"
	keyAttrMeta  = "at/meta"
	keyRobotCell = "rb/"
)

// Bits of an order's flags.
const (
	ofCreated = 1 << iota
	ofPaid
	ofOrderSet
	ofPaySet
	ofOrderRef // orderRef.ok
	ofPayRef
	ofSale
	ofPart
	ofPartPaid
	ofPartByPaid // the part's buyer is the paid event's (else the created's)
	ofAll        = ofPartByPaid<<1 - 1
)

// attrCheckpoints is the attribution's change tracking, as the engine's:
// lists are kept from the first saveChanged or LoadDone on.
type attrCheckpoints struct {
	tracking, loading, restored bool
	buyers                      changes[*buyer]
	orders                      changes[*order]
	cells                       changes[*inqCell]
	meta                        attrMeta // as the changelog holds it; absent is the initial one
	metaLoaded                  bool
	key, val                    []byte

	// What LoadDone needs of the loaded orders.
	pending map[*order]loadedOrder
}

// attrMeta is the attribution's operator-wide state.
type attrMeta struct{ settled, heldHour, sweptTo int64 }

func (a *attribution) metaNow() attrMeta {
	return attrMeta{settled: a.settled, heldHour: a.heldHour, sweptTo: a.sweptTo}
}

// loadedOrder is a loaded order's buyer ids (created, paid) and flags.
type loadedOrder struct {
	buyers [2]string
	flags  uint64
}

type robotCheckpoints struct {
	tracking bool
	cells    changes[*robotCell]
	key, val []byte
}

func (a *attribution) touchBuyer(b *buyer)  { a.ck.buyers.note(a.ck.tracking, b) }
func (a *attribution) touchOrder(o *order)  { a.ck.orders.note(a.ck.tracking, o) }
func (a *attribution) trackCell(c *inqCell) { a.ck.cells.note(a.ck.tracking, c) }
func (r *robots) track(c *robotCell)        { r.ck.cells.note(r.ck.tracking, c) }

// saveChanged implements family.
func (a *attribution) saveChanged(out StateSink) {
	if len(a.dirty) > 0 {
		panic(fmt.Sprintf("metrics: attribution saveChanged with %d rows not flushed", len(a.dirty)))
	}
	ck := &a.ck
	if !ck.tracking {
		a.trackAll()
	}
	ck.buyers.save(out, func(b *buyer) []byte { return a.entityKey(keyBuyer, b.key) }, a.encodeBuyer)
	ck.orders.save(out, func(o *order) []byte { return a.entityKey(keyOrder, o.key) }, a.encodeOrder)
	a.saveCells(out)
	if m := a.metaNow(); m != ck.meta {
		out.Put([]byte(keyAttrMeta), a.encodeMeta(m))
		ck.meta = m
	}
}

func (a *attribution) saveCells(out StateSink) {
	ck := &a.ck
	ck.cells.save(out,
		func(c *inqCell) []byte { return a.cellKey(c.key) },
		func(c *inqCell) []byte { return encodeValues(&ck.val, c.v[:]) })
}

// trackAll lists everything held: the first saveChanged of an operator
// that was not restored writes it all.
func (a *attribution) trackAll() {
	ck := &a.ck
	ck.tracking = true
	for _, b := range a.buyers {
		ck.buyers.add(b)
	}
	for _, o := range a.orders {
		ck.orders.add(o)
	}
	for _, c := range a.cells {
		ck.cells.add(c)
	}
}

func (a *attribution) encodeMeta(m attrMeta) []byte {
	w := writer{B: append(a.ck.val[:0], attrStateVersion)}
	w.Int(m.settled)
	w.Int(m.heldHour)
	w.Int(m.sweptTo)
	a.ck.val = w.B
	return w.B
}

func (a *attribution) entityKey(prefix, key string) []byte {
	a.ck.key = append(append(a.ck.key[:0], prefix...), key...)
	return a.ck.key
}

func (a *attribution) cellKey(k inqKey) []byte {
	w := writer{B: append(a.ck.key[:0], keyInqCell...)}
	w.Str(a.sh.shopIDs.name(k.shop))
	w.Str(a.sh.names.name(k.agent))
	w.Int(int64(k.day))
	a.ck.key = w.B
	return w.B
}

func encodeValues(buf *[]byte, v []int64) []byte {
	w := writer{B: append((*buf)[:0], attrStateVersion)}
	w.Uint(uint64(len(v)))
	for _, x := range v {
		w.Int(x)
	}
	*buf = w.B
	return w.B
}

func (a *attribution) encodeBuyer(b *buyer) []byte {
	names := a.sh.names
	w := writer{B: append(a.ck.val[:0], attrStateVersion)}
	w.Uint(uint64(len(b.inqs)))
	for i := range b.inqs {
		q := &b.inqs[i]
		w.Int(q.at)
		w.Str(names.name(q.agent))
		w.Str(names.name(q.group))
		w.Int(int64(q.n))
	}
	w.Uint(uint64(len(b.cells)))
	for i := range b.cells {
		c := &b.cells[i]
		w.Str(names.name(c.agent))
		w.Int(int64(c.day))
		for _, n := range [...]int64{int64(c.inquiries), int64(c.ordered), int64(c.paid), c.amount} {
			w.Int(n)
		}
	}
	a.ck.val = w.B
	return w.B
}

func (a *attribution) encodeOrder(o *order) []byte {
	names := a.sh.names
	w := writer{B: append(a.ck.val[:0], attrStateVersion)}
	flags := o.flags()
	w.Uint(flags)
	for _, ev := range [...]*orderEvent{&o.created, &o.paid} {
		if ev.buyer != nil {
			w.Int(ev.ts)
			w.Int(ev.amount)
			w.Uint(ev.hash)
			_, id, _ := splitEntityKey(ev.buyer.key)
			w.Str(id)
		}
	}
	for _, ref := range [...]*inqRef{&o.orderRef, &o.payRef} {
		if ref.ok {
			w.Int(ref.at)
			w.Str(names.name(ref.agent))
			w.Str(names.name(ref.group))
		}
	}
	if o.sale.on {
		w.Int(o.sale.ts)
		w.Int(o.sale.amount)
		w.Str(names.name(o.sale.agent))
		w.Str(names.name(o.sale.group))
	}
	if o.part.buyer != nil {
		w.Str(names.name(o.part.agent))
		w.Int(int64(o.part.day))
		w.Int(o.part.amount)
	}
	a.ck.val = w.B
	return w.B
}

func (o *order) flags() uint64 {
	var f uint64
	set := func(bit uint64, on bool) {
		if on {
			f |= bit
		}
	}
	set(ofCreated, o.created.buyer != nil)
	set(ofPaid, o.paid.buyer != nil)
	set(ofOrderSet, o.orderSet)
	set(ofPaySet, o.paySet)
	set(ofOrderRef, o.orderRef.ok)
	set(ofPayRef, o.payRef.ok)
	set(ofSale, o.sale.on)
	set(ofPart, o.part.buyer != nil)
	set(ofPartPaid, o.part.paid)
	set(ofPartByPaid, o.part.buyer != nil && o.part.buyer != o.created.buyer)
	return f
}

// load implements family.
func (a *attribution) load(key, value []byte) (bool, error) {
	if a.ck.restored {
		return true, errors.New("metrics: attribution Load after LoadDone")
	}
	var err error
	switch {
	case bytes.HasPrefix(key, []byte(keyBuyer)):
		err = a.loadBuyer(string(key[len(keyBuyer):]), value)
	case bytes.HasPrefix(key, []byte(keyOrder)):
		err = a.loadOrder(string(key[len(keyOrder):]), value)
	case bytes.HasPrefix(key, []byte(keyInqCell)):
		err = a.loadCell(key[len(keyInqCell):], value)
	case string(key) == keyAttrMeta:
		err = a.loadMeta(value)
	default:
		return false, nil
	}
	a.ck.loading = true
	if err != nil {
		return true, fmt.Errorf("metrics: state entry %q: %w", key, err)
	}
	return true, nil
}

// shopOf interns the shop part of an entity key.
func (a *attribution) shopOf(key string) (uint32, *eventtime.Zone, error) {
	shop, _, ok := splitEntityKey(key)
	if !ok || shop == "" {
		return 0, nil, errors.New("malformed key")
	}
	id, zone := a.sh.shopByName(shop)
	return id, zone, nil
}

func (a *attribution) loadBuyer(key string, value []byte) error {
	if a.buyers[key] != nil {
		return errors.New("loaded twice")
	}
	shop, zone, err := a.shopOf(key)
	if err != nil {
		return err
	}
	b := newBuyer(key, shop, zone)
	b.saved = true
	names := a.sh.names
	r := attrReader(value)
	for range r.Count() {
		q := inquiry{at: r.Int(), agent: names.id(r.Bytes()), group: names.id(r.Bytes())}
		q.n = r.Int32("inquiry count")
		q.day = zone.Day(q.at)
		q.until = a.until(zone, q.day)
		b.inqs = append(b.inqs, q)
	}
	for range r.Count() {
		c := buyerCell{agent: names.id(r.Bytes()), day: eventtime.Date(r.Int32("day"))}
		c.inquiries, c.ordered, c.paid = r.Int32("inquiries"), r.Int32("ordered"), r.Int32("paid")
		c.amount = r.Int()
		c.until = a.until(zone, c.day)
		b.cells = append(b.cells, c)
	}
	if err := r.Done(); err != nil {
		return err
	}
	a.buyers[key] = b
	return nil
}

func attrReader(value []byte) *reader {
	r := &reader{B: value}
	if v := r.Byte(); r.Err == nil && v != attrStateVersion {
		r.Failf("state format version %d; this build reads version %d", v, attrStateVersion)
	}
	return r
}

func (a *attribution) loadOrder(key string, value []byte) error {
	if a.orders[key] != nil {
		return errors.New("loaded twice")
	}
	shop, zone, err := a.shopOf(key)
	if err != nil {
		return err
	}
	o := &order{key: key, shop: shop, entryState: entryState{saved: true}}
	r := attrReader(value)
	flags := r.Uint()
	if flags&^ofAll != 0 {
		r.Failf("unknown flags %#x", flags&^ofAll)
	}
	lo := loadedOrder{flags: flags}
	for i, ev := range [...]*orderEvent{&o.created, &o.paid} {
		if flags&(ofCreated<<i) != 0 {
			ev.ts, ev.amount, ev.hash = r.Int(), r.Int(), r.Uint()
			lo.buyers[i] = string(r.Bytes())
		}
	}
	o.orderSet, o.paySet = flags&ofOrderSet != 0, flags&ofPaySet != 0
	for i, ref := range [...]*inqRef{&o.orderRef, &o.payRef} {
		if flags&(ofOrderRef<<i) != 0 {
			a.readRef(r, zone, ref)
		}
	}
	if flags&ofSale != 0 {
		o.sale = sale{ts: r.Int(), amount: r.Int(), agent: a.sh.names.id(r.Bytes()), group: a.sh.names.id(r.Bytes()), on: true}
	}
	if flags&ofPart != 0 {
		o.part = part{agent: a.sh.names.id(r.Bytes()), day: eventtime.Date(r.Int32("day")), amount: r.Int(), paid: flags&ofPartPaid != 0}
	}
	if err := r.Done(); err != nil {
		return err
	}
	if a.ck.pending == nil {
		a.ck.pending = map[*order]loadedOrder{}
	}
	a.ck.pending[o] = lo
	a.orders[key] = o
	return nil
}

func (a *attribution) readRef(r *reader, zone *eventtime.Zone, ref *inqRef) {
	ref.at = r.Int()
	ref.agent, ref.group = a.sh.names.id(r.Bytes()), a.sh.names.id(r.Bytes())
	ref.day = zone.Day(ref.at)
	ref.until = a.until(zone, ref.day)
	ref.ok = true
}

func (a *attribution) loadCell(key, value []byte) error {
	r := &reader{B: key}
	shopID := r.Bytes()
	agent, day := r.Bytes(), eventtime.Date(r.Int32("day"))
	if err := r.Done(); err != nil {
		return err
	}
	if len(shopID) == 0 {
		return errors.New("malformed key")
	}
	shop, zone := a.sh.shop(shopID)
	k := inqKey{shop: shop, agent: a.sh.names.id(agent), day: day}
	if a.cells[k] != nil {
		return errors.New("loaded twice")
	}
	c := &inqCell{key: k, until: a.until(zone, k.day), cellStatus: cellStatus{entryState: entryState{saved: true}}}
	if err := decodeValues(value, c.v[:]); err != nil {
		return err
	}
	c.isLive()
	a.cells[k] = c
	return nil
}

func decodeValues(value []byte, dst []int64) error {
	r := attrReader(value)
	n := r.UintMax(uint64(len(dst)), "column count")
	for i := range n {
		dst[i] = r.Int()
	}
	return r.Done()
}

func (a *attribution) loadMeta(value []byte) error {
	if a.ck.metaLoaded {
		return errors.New("loaded twice")
	}
	r := attrReader(value)
	m := attrMeta{settled: r.Int(), heldHour: r.Int(), sweptTo: r.Int()}
	if err := r.Done(); err != nil {
		return err
	}
	a.settled, a.heldHour, a.sweptTo = m.settled, m.heldHour, m.sweptTo
	a.ck.meta, a.ck.metaLoaded = m, true
	return nil
}

// loadDone implements family: it links orders to their buyers,
// holds the payment hours of paid orders again and rebuilds the wake-ups.
// The engine's own state (its finality bound) must be loaded first.
func (a *attribution) loadDone() error {
	ck := &a.ck
	if ck.restored {
		return errors.New("metrics: attribution LoadDone called twice")
	}
	for o, lo := range ck.pending {
		if err := a.linkLoaded(o, lo); err != nil {
			return fmt.Errorf("metrics: state entry %q: %w", keyOrder+o.key, err)
		}
	}
	ck.pending = nil
	for _, b := range a.buyers {
		a.armBuyer(b)
	}
	a.now = a.sh.wm
	for _, o := range a.orders {
		a.armOrder(o)
		a.hold(o)
	}
	ck.loading, ck.restored, ck.tracking = false, true, true
	return nil
}

// linkLoaded resolves a loaded order's buyers and holds its payment hour.
func (a *attribution) linkLoaded(o *order, lo loadedOrder) error {
	shop, _, _ := splitEntityKey(o.key)
	for i, ev := range [...]*orderEvent{&o.created, &o.paid} {
		if lo.flags&(ofCreated<<i) == 0 {
			continue
		}
		b := a.buyers[string(appendEntityKey(nil, shop, lo.buyers[i]))]
		if b == nil {
			return fmt.Errorf("buyer %q has no entry", lo.buyers[i])
		}
		ev.buyer = b
		b.link(o)
	}
	if lo.flags&ofPart != 0 {
		o.part.buyer = o.created.buyer
		if lo.flags&ofPartByPaid != 0 {
			o.part.buyer = o.paid.buyer
		}
		if o.part.buyer == nil {
			return errors.New("part of a buyer it does not name")
		}
	}
	if o.paid.buyer != nil && !a.core.HoldHour(o.paid.ts) {
		return errors.New("its payment hour is final")
	}
	return nil
}

// saveChanged implements family.
func (r *robots) saveChanged(out StateSink) {
	if len(r.dirty) > 0 {
		panic(fmt.Sprintf("metrics: robots saveChanged with %d rows not flushed", len(r.dirty)))
	}
	ck := &r.ck
	if !ck.tracking {
		ck.tracking = true
		for _, c := range r.cells {
			ck.cells.add(c)
		}
	}
	ck.cells.save(out,
		func(c *robotCell) []byte { return r.cellKey(c.key) },
		func(c *robotCell) []byte { return encodeValues(&ck.val, []int64{c.calls, c.connected}) })
}

func (r *robots) cellKey(k robotKey) []byte {
	sh := r.sh
	w := writer{B: append(r.ck.key[:0], keyRobotCell...)}
	w.Str(sh.shopIDs.name(k.shop))
	w.Str(sh.names.name(k.task))
	w.Str(sh.names.name(k.robot))
	w.Str(sh.names.name(k.intent))
	w.Int(k.hour)
	r.ck.key = w.B
	return w.B
}

// load implements family.
func (r *robots) load(key, value []byte) (bool, error) {
	if !bytes.HasPrefix(key, []byte(keyRobotCell)) {
		return false, nil
	}
	if err := r.loadCell(key, value); err != nil {
		return true, fmt.Errorf("metrics: state entry %q: %w", key, err)
	}
	return true, nil
}

func (r *robots) loadCell(key, value []byte) error {
	if !bytes.HasPrefix(key, []byte(keyRobotCell)) {
		return errors.New("not a key of the robot operator")
	}
	sh := r.sh
	kr := &reader{B: key[len(keyRobotCell):]}
	shopID, task, robot, intent := kr.Bytes(), kr.Bytes(), kr.Bytes(), kr.Bytes()
	hour := kr.Int()
	if err := kr.Done(); err != nil {
		return err
	}
	if len(shopID) == 0 {
		return errors.New("malformed key")
	}
	shop, _ := sh.shop(shopID)
	k := robotKey{hour: hour, shop: shop, task: sh.names.id(task), robot: sh.names.id(robot), intent: sh.names.id(intent)}
	if r.cells[k] != nil {
		return errors.New("loaded twice")
	}
	var v [2]int64
	if err := decodeValues(value, v[:]); err != nil {
		return err
	}
	c := &robotCell{key: k, calls: v[0], connected: v[1], cellStatus: cellStatus{entryState: entryState{saved: true}}}
	c.isLive()
	r.cells[k] = c
	return nil
}

// loadDone implements family: the cells need nothing rebuilt.
func (r *robots) loadDone() error {
	r.ck.tracking = true
	return nil
}
