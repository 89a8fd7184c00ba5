package metrics

import (
	"cmp"
	"math"
	"slices"

	"github.com/cspulse/cspulse/eventtime"
)

// The cells of cs_exclusive_daily, the agents' customer stocks, and the
// per-day walks of exclusive (exclusive.go): new days, final days.

// xkey is the key of a cs_exclusive_daily row.
type xkey struct {
	shop, agent uint32
	day         eventtime.Date
}

type xcell struct {
	key xkey
	v   xvalues
	cellStatus
}

func (c *xcell) isLive() bool {
	if !c.live && c.v != (xvalues{}) {
		c.live = true
	}
	return c.live
}

// stockKey is an agent of a shop.
type stockKey struct{ shop, agent uint32 }

// stock is an agent's exclusive customers over days: customers at the end
// of day D = base + the deltas of the days after baseDay up to D. Days up
// to baseDay are final and folded into base.
type stock struct {
	key     stockKey
	base    int64
	baseDay eventtime.Date // math.MinInt32: nothing folded yet
	lastDay eventtime.Date // the last day whose cell holds the figure
	deltas  []dayDelta     // sorted by day
	deleted bool
	entryState
}

func (s *stock) gone() bool { return s.deleted }

type dayDelta struct {
	day   eventtime.Date
	delta int64
}

func (s *stock) at(d eventtime.Date) int64 {
	v := s.base
	for _, dd := range s.deltas {
		if dd.day <= d {
			v += dd.delta
		}
	}
	return v
}

func (s *stock) add(d eventtime.Date, delta int64) {
	i, found := slices.BinarySearchFunc(s.deltas, d, func(dd dayDelta, d eventtime.Date) int { return cmp.Compare(dd.day, d) })
	if !found {
		s.deltas = slices.Insert(s.deltas, i, dayDelta{day: d})
	}
	if s.deltas[i].delta += delta; s.deltas[i].delta == 0 {
		s.deltas = slices.Delete(s.deltas, i, i+1)
	}
}

// contribute adds a buyer's contributions times sign.
func (x *exclusive) contribute(shop uint32, cs []xcontrib, sign int64) {
	for i := range cs {
		c := &cs[i]
		if c.v != (xvalues{}) {
			cell := x.cell(xkey{shop: shop, agent: c.agent, day: c.day})
			cell.isLive() // before the change: a figure taken back still made it live
			for col := range cell.v {
				cell.v[col] += sign * c.v[col]
			}
			x.markDirty(cell)
		}
		if c.stock != 0 {
			st := x.stock(stockKey{shop: shop, agent: c.agent})
			st.add(c.day, sign*c.stock)
			x.touchStock(st)
			x.toRefresh(st, c.day)
		}
	}
}

// toRefresh notes that st changed from day on. The cells are refreshed
// once a whole contribution is in (refreshAll): refreshing between an
// acceptance and the end of the same relationship would write customers
// that never were.
func (x *exclusive) toRefresh(st *stock, day eventtime.Date) {
	for i := range x.refreshes {
		if x.refreshes[i].st == st {
			x.refreshes[i].from = min(x.refreshes[i].from, day)
			return
		}
	}
	x.refreshes = append(x.refreshes, pendingRefresh{st: st, from: day})
}

type pendingRefresh struct {
	st   *stock
	from eventtime.Date
}

func (x *exclusive) refreshAll() {
	for _, r := range x.refreshes {
		x.refresh(r.st, r.from)
	}
	clear(x.refreshes)
	x.refreshes = x.refreshes[:0]
}

// cell returns k's cell, creating it with the agent's customers of its
// day (a day's row shows its customers, whatever made the row).
func (x *exclusive) cell(k xkey) *xcell {
	c := x.cells[k]
	if c == nil {
		c = &xcell{key: k}
		if st := x.stocks[stockKey{shop: k.shop, agent: k.agent}]; st != nil && k.day > st.baseDay {
			c.v[xCustomers] = st.at(k.day)
		}
		x.cells[k] = c
	}
	return c
}

func (x *exclusive) markDirty(c *xcell) {
	if !c.dirty {
		c.dirty = true
		x.dirty = append(x.dirty, c)
	}
}

func (x *exclusive) stock(k stockKey) *stock {
	s := x.stocks[k]
	if s == nil {
		s = &stock{key: k, baseDay: math.MinInt32, lastDay: math.MinInt32}
		x.stocks[k] = s
	}
	return s
}

// stepped is the latest stepped instant, no later than the latest fact.
func (x *exclusive) stepped() int64 { return min(x.sh.wm, satAdd(x.seen, 1)) - 1 }

// currentDay is the shop's local day of the latest stepped instant.
func (x *exclusive) currentDay(shop uint32) eventtime.Date {
	if x.seen == math.MinInt64 || x.sh.wm == math.MinInt64 {
		return math.MinInt32
	}
	return x.sh.shopZones[shop].Day(x.stepped())
}

// endedDay is the shop's latest local day that has ended in event time
// (the watermark is past its midnight), no later than the latest fact's
// day: the end of input (a watermark of +∞) ends there.
func (x *exclusive) endedDay(shop uint32) eventtime.Date {
	if x.seen == math.MinInt64 || x.sh.wm == math.MinInt64 {
		return math.MinInt32
	}
	z := x.sh.shopZones[shop]
	return min(z.Day(min(x.sh.wm, satAdd(x.seen, 2*24*hourMs)))-1, z.Day(x.seen))
}

// lastFinalDay is the shop's latest local day whose every hour is final
// and that has ended.
func (x *exclusive) lastFinalDay(shop uint32) eventtime.Date {
	if x.sh.finalBefore == math.MinInt64 || x.seen == math.MinInt64 {
		return math.MinInt32
	}
	last := x.sh.shopZones[shop].Day(min(x.sh.finalBefore, satAdd(x.seen, 2*24*hourMs))) - 1
	return min(last, x.endedDay(shop))
}

// refresh writes the stock's customers into the cells of the days from
// `from` on. A day that has ended gets a row for its customers even when
// nothing else happened in it; a day in progress only updates the rows
// its activity made. (Writing the customers of a day in progress as a
// row of its own would depend on where the watermark steps: an
// unsubscribe a second later would leave an all-zero row on some paths.)
func (x *exclusive) refresh(st *stock, from eventtime.Date) {
	cur, ended := x.currentDay(st.key.shop), x.endedDay(st.key.shop)
	from = max(from, st.baseDay+1)
	if st.baseDay == math.MinInt32 { // nothing folded: no customers before the first step
		if len(st.deltas) == 0 {
			from = cur + 1
		} else {
			from = max(from, st.deltas[0].day)
		}
	}
	for d := from; d <= cur; d++ {
		k := xkey{shop: st.key.shop, agent: st.key.agent, day: d}
		v, c := st.at(d), x.cells[k]
		if c == nil && (v == 0 || d > ended) || c != nil && c.v[xCustomers] == v {
			continue
		}
		if c == nil {
			c = x.cell(k)
		}
		c.isLive()
		c.v[xCustomers] = v
		x.markDirty(c)
	}
	if ended > st.lastDay {
		st.lastDay = ended
		x.touchStock(st)
	}
}

// dayWalkEvery bounds how often advance folds final days: a local day
// starts on a quarter hour in every zone. When the fold runs does not
// change any row.
const dayWalkEvery = 15 * 60 * 1000

// advance steps the facts the watermark passed, starts the agents' rows
// of new days and folds final days. The engine calls it at the end of
// Advance.
func (x *exclusive) advance() {
	x.stepDue()
	sh := x.sh
	// Every Advance: which days have ended depends on the watermark and
	// the latest fact, per zone; a guard that skipped walks would make
	// the rows depend on where the watermark steps. A walk is a compare
	// per agent with customers.
	for _, st := range x.stocks {
		if st.lastDay < x.endedDay(st.key.shop) {
			x.refresh(st, st.lastDay+1)
		}
	}
	if sh.finalBefore == math.MinInt64 || x.seen == math.MinInt64 {
		return
	}
	if b := floorDiv(min(sh.finalBefore, satAdd(x.seen, 2*24*hourMs)), dayWalkEvery); b != x.finalBucket {
		x.finalBucket = b
		x.foldFinal()
	}
}

// foldFinal forgets what final days hold: their cells (once written),
// their stock deltas (into the base), their facts (relationship events into
// rels, deposits into deposits), and old deposits.
func (x *exclusive) foldFinal() {
	for _, c := range x.cells {
		if !c.dirty && c.key.day <= x.lastFinalDay(c.key.shop) {
			x.dropCell(c)
		}
	}
	for _, st := range x.stocks {
		x.foldStock(st, x.lastFinalDay(st.key.shop))
	}
	for _, b := range x.buyers {
		x.foldBuyer(b, x.lastFinalDay(b.shop))
	}
	x.release()
	horizon := x.sh.finalBefore - presaleWindow
	for k, d := range x.deposits {
		if d.ts < horizon {
			x.touchDeposit(k)
			delete(x.deposits, k)
		}
	}
}

// release gives back the memory of a burst: Go maps and slices never
// shrink, and the buyers and wake-ups of a busy day would otherwise stay
// allocated next to the folded relationships.
func (x *exclusive) release() {
	if len(x.buyers) == 0 {
		x.buyers = make(map[uint64]*xbuyer)
	}
	if len(x.wake) == 0 && cap(x.wake) > 1024 {
		x.wake = nil
	}
}

func (x *exclusive) dropCell(c *xcell) {
	c.dropped = true
	delete(x.cells, c.key)
	x.trackCell(c)
}

func (x *exclusive) foldStock(st *stock, last eventtime.Date) {
	if last <= st.baseDay {
		return
	}
	n := 0
	for _, dd := range st.deltas {
		if dd.day > last {
			break
		}
		st.base += dd.delta
		n++
	}
	st.deltas = slices.Delete(st.deltas, 0, n)
	st.baseDay = last
	x.touchStock(st)
	if st.base == 0 && len(st.deltas) == 0 {
		st.deleted = true
		delete(x.stocks, st.key)
	}
}

// foldBuyer moves the facts of final days out of b: relationship events
// into its folded relationship, deposits into deposits, the rest away,
// with the contributions they made (their cells and stock days are final
// too). A buyer left without facts is removed.
func (x *exclusive) foldBuyer(b *xbuyer, last eventtime.Date) {
	zone := x.sh.shopZones[b.shop]
	final := func(ts int64) bool { return zone.Day(ts) <= last }
	if len(b.rels) > 0 && final(b.rels[0].ts) {
		x.foldRels(b, final)
	}
	if len(b.marks) > 0 && final(b.marks[0].ts) {
		n := 0
		for _, m := range b.marks {
			if !final(m.ts) {
				break
			}
			if m.kind == xDeposit {
				x.keepDeposit(m)
			}
			n++
		}
		b.marks = slices.Delete(b.marks, 0, n)
		x.touchBuyer(b)
	}
	for i := range b.sessions {
		s := &b.sessions[i]
		if n := len(s.msgs); n > 0 && final(s.msgs[0].ts) {
			s.msgs = slices.DeleteFunc(s.msgs, func(m xmsg) bool { return final(m.ts) })
			x.touchBuyer(b)
		}
	}
	if n := len(b.sessions); n > 0 {
		if b.sessions = slices.DeleteFunc(b.sessions, func(s xsession) bool { return len(s.msgs) == 0 }); len(b.sessions) != n {
			x.touchBuyer(b)
		}
	}
	b.contrib = slices.DeleteFunc(b.contrib, func(c xcontrib) bool { return c.day <= last })
	if b.empty() {
		b.deleted = true
		delete(x.buyers, b.key)
		x.touchBuyer(b)
	}
}

// foldRels applies the final relationship events to the buyer's folded
// relationship, as timeline does.
func (x *exclusive) foldRels(b *xbuyer, final func(int64) bool) {
	r, ok := x.rels[b.key]
	n := 0
	for _, ev := range b.rels {
		if !final(ev.ts) {
			break
		}
		n++
		switch {
		case ev.kind == xAccepted && ok && r.agent == ev.agent:
		case ev.kind == xAccepted:
			r, ok = relation{agent: ev.agent, accepted: ev.ts}, true
		case ok && r.agent == ev.agent:
			ok = false
		}
	}
	b.rels = slices.Delete(b.rels, 0, n)
	x.touchRel(b.key)
	if ok {
		x.rels[b.key] = r
	} else {
		delete(x.rels, b.key)
	}
	x.touchBuyer(b)
}

// presaleWindow is how long a deposit is kept for its final payment:
// Taobao's presales end their final-payment phase within weeks.
const presaleWindow = 31 * 24 * hourMs

// deposit is a folded presale deposit.
type deposit struct {
	ts, amount int64
	hash       uint64
}

// keepDeposit folds a deposit of a final day; of two of one order the
// later (ts, hash) wins, as in compute.
func (x *exclusive) keepDeposit(m mark) {
	if d, ok := x.deposits[m.ref]; ok && (d.ts > m.ts || d.ts == m.ts && d.hash > m.hash) {
		return
	}
	x.touchDeposit(m.ref)
	x.deposits[m.ref] = deposit{ts: m.ts, amount: m.amount, hash: m.hash}
}

// flush writes every changed row, in key order (by name: interned ids
// follow arrival order, and a restored engine must write in the same
// order), and forgets final ones.
func (x *exclusive) flush(version uint64, out RowSink) {
	sh := x.sh
	slices.SortFunc(x.dirty, func(a, b *xcell) int {
		return cmp.Or(cmp.Compare(sh.shopIDs.name(a.key.shop), sh.shopIDs.name(b.key.shop)),
			cmp.Compare(a.key.day, b.key.day), cmp.Compare(sh.names.name(a.key.agent), sh.names.name(b.key.agent)))
	})
	for _, c := range x.dirty {
		if c.isLive() {
			r := out.Rows(ExclusiveTable)
			r.String(sh.shopIDs.name(c.key.shop))
			r.String(sh.names.name(c.key.agent))
			r.Time(dateTime(c.key.day))
			for col := range xGuidedAmount {
				r.UInt64(sh.unsigned(c.v[col]))
			}
			r.Int64(c.v[xGuidedAmount])
			r.UInt64(version)
			r.End()
		}
		c.dirty = false
		x.trackCell(c)
		if c.key.day <= x.lastFinalDay(c.key.shop) {
			x.dropCell(c)
		}
	}
	clear(x.dirty)
	x.dirty = x.dirty[:0]
}
