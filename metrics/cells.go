package metrics

import (
	"math"
	"time"

	"github.com/cspulse/cspulse/eventtime"
)

const hourMs = int64(time.Hour / time.Millisecond)

// Columns of an agent cell, in AgentHourlyTable's order.
const (
	agentBuyerMsgs = iota
	agentBuyerMsgsWindow
	agentReplied3minWindow
	agentRepliedMsgs
	agentResponseMsSum
	agentAgentMsgs
	agentPairsWindow
	agentPairsOK
	agentAssignments
	agentPicked
	agentFirstResponseSum
	agentFirstResponseCount
	agentWaitSum
	agentWaitCount
	agentRatingsWindow
	agentSatisfiedWindow
	agentRatings
	agentSatisfied
	agentPaidOrders
	agentPaidAmount
	numAgentCols
)

// Columns of a shop cell, in ShopHourlyTable's order.
const (
	shopConsult = iota
	shopTransferred
	shopTransferredPicked
	shopReceived
	shopAbandoned
	shopBuyerMsgs
	shopAgentMsgs
	shopPaidTotal
	shopPaidAgents
	shopPaidSilent
	shopPaidOrders
	numShopCols
)

type (
	agentValues [numAgentCols]int64
	shopValues  [numShopCols]int64
)

// agentKey is the key of a cs_agent_hourly row; hour is the UTC instant of
// the local hour's start.
type agentKey struct {
	hour               int64
	shop, group, agent uint32
}

// cell is one row of an hourly table while it can still change: its key,
// its column values and its bookkeeping. agentCell and shopCell are its two
// tables' instances; the functions on cells below serve both.
type cell[K comparable, V comparable] struct {
	key K
	v   V
	cellStatus
}

// cellStatus is the bookkeeping every output cell carries, the engine's
// and the operators' alike.
type cellStatus struct {
	// live: the cell has held a non-zero figure. A cell that never did is
	// not written (its row would exist or not depending on where flushes
	// fall); one that did is written whenever it changes, also back to
	// zero, to replace the row written before. Contributions are never
	// negative except to take back an earlier one of the same session, so
	// "ever non-zero" is "ever given a contribution", whatever the order
	// of sessions: see touchCell.
	live       bool
	dirty      bool // changed since the last flush
	dropped    bool // final and forgotten: see session.lastAgentCell
	entryState      // changes.go
	watched    bool // listed for the next drain of the figures (figures.go)
}

func (f *cellStatus) gone() bool { return f.dropped }

type (
	agentCell = cell[agentKey, agentValues]
	shopCell  = cell[shopKey, shopValues]
)

func agentCols(v *agentValues) []int64 { return v[:] }
func shopCols(v *shopValues) []int64   { return v[:] }

// shopKey is the key of a cs_shop_hourly row.
type shopKey struct {
	hour int64
	shop uint32
}

// agentCell returns the values of the agent row that a contribution of s
// at ts goes to, marked dirty. A dropped session's contributions go to a
// scratch cell that is never written.
//
// Consecutive contributions of a session mostly go to the same row (its
// current agent, this hour), so the session remembers the last cell it
// used and skips the map when the key matches. The dropped flag keeps a
// remembered cell that became final from being written to.
func (e *Engine) agentCell(s *session, group, agent uint32, ts int64) *agentValues {
	if s.dropped() {
		return &e.discard.agent
	}
	k := agentKey{hour: s.zone.HourStart(ts), shop: s.shop, group: group, agent: agent}
	if c := s.lastAgentCell; c != nil && c.key == k && !c.dropped {
		return e.touchAgent(c)
	}
	c := e.agentCellFor(k)
	if c != nil {
		s.lastAgentCell = c
		return e.touchAgent(c)
	}
	return &e.discard.agent
}

// agentCellAt is agentCell without a session.
func (e *Engine) agentCellAt(shop uint32, zone *eventtime.Zone, group, agent uint32, ts int64) *agentValues {
	if c := e.agentCellFor(agentKey{hour: zone.HourStart(ts), shop: shop, group: group, agent: agent}); c != nil {
		return e.touchAgent(c)
	}
	return &e.discard.agent
}

func (e *Engine) agentCellFor(k agentKey) *agentCell { return cellFor(e, e.agents, k, k.hour) }
func (e *Engine) touchAgent(c *agentCell) *agentValues {
	if !c.watched && e.fig != nil {
		e.fig.watch(c)
	}
	return touchCell(c, &e.dirtyAgents)
}

// cellFor returns k's cell in cells, created on first use; nil when k's
// hour (hour) is final.
func cellFor[K comparable, V comparable](e *Engine, cells map[K]*cell[K, V], k K, hour int64) *cell[K, V] {
	if e.isFinal(hour) {
		e.stats.FinalCellWrites++
		return nil
	}
	c := cells[k]
	if c == nil {
		c = &cell[K, V]{key: k}
		cells[k] = c
	}
	return c
}

// touchCell marks c dirty, listing it once for the next flush, and returns
// its values for a contribution. Every contribution passes here first, so
// a cell that is non-zero after one is found live at the next touch (or
// at flush, see isLive): a figure taken back before a flush still made it
// live, as it does on a path that flushed in between.
func touchCell[K comparable, V comparable](c *cell[K, V], dirty *[]*cell[K, V]) *V {
	if !c.dirty {
		c.dirty = true
		*dirty = append(*dirty, c)
	}
	if !c.live {
		c.isLive()
	}
	return &c.v
}

// isLive reports whether c has held a non-zero figure, noting it.
func (c *cell[K, V]) isLive() bool {
	var zero V
	if !c.live && c.v != zero {
		c.live = true
	}
	return c.live
}

// shopCell is agentCell for the shop row.
func (e *Engine) shopCell(s *session, ts int64) *shopValues {
	if s.dropped() {
		return &e.discard.shop
	}
	k := shopKey{hour: s.zone.HourStart(ts), shop: s.shop}
	if c := s.lastShopCell; c != nil && c.key == k && !c.dropped {
		return e.touchShop(c)
	}
	c := e.shopCellFor(k)
	if c != nil {
		s.lastShopCell = c
		return e.touchShop(c)
	}
	return &e.discard.shop
}

func (e *Engine) shopCellAt(shop uint32, zone *eventtime.Zone, ts int64) *shopValues {
	if c := e.shopCellFor(shopKey{hour: zone.HourStart(ts), shop: shop}); c != nil {
		return e.touchShop(c)
	}
	return &e.discard.shop
}

func (e *Engine) shopCellFor(k shopKey) *shopCell   { return cellFor(e, e.shops, k, k.hour) }
func (e *Engine) touchShop(c *shopCell) *shopValues { return touchCell(c, &e.dirtyShops) }

// Finality. A cell changes only through a contribution at some instant t
// of its hour: an event's ts, or the ts of a log entry or evaluation of a
// session whose state is still held (replays and re-ratings touch old
// hours). So:
//
//   - every held log pins the (UTC) hour of its first entry, and every
//     session with evaluations pins the hour of the earliest one;
//   - finalBefore = max(previous, min(watermark − allowed_lateness, every
//     pin)). No future contribution can be earlier: events before
//     watermark − lateness are only taken into held state (and never
//     before finalBefore, see Engine.Apply), and held state only touches
//     instants at or after its pins;
//   - a cell whose hour ends at or before finalBefore is final: it is
//     written one last time and dropped.
//
// A contribution to a final hour would overwrite a complete row with a
// partial one. It cannot happen by the argument above; should a bug make
// it happen, the contribution is discarded and Stats.FinalCellWrites
// counts it, so that the stored row stays complete and the breach is loud.

// pinHour is the UTC hour (hours since the epoch, floored) of ts that pins
// refer to; its start is at or before ts.
func pinHour(ts int64) int32 {
	q := ts / hourMs
	if ts%hourMs < 0 {
		q--
	}
	return int32(q)
}

// setPin moves the pin *p to the hour of ts (or removes it when !on).
func (e *Engine) setPin(p *int32, ts int64, on bool) {
	want := int32(pinNone)
	if on {
		want = pinHour(ts)
	}
	if *p == want {
		return
	}
	if *p != pinNone {
		e.unpin(*p)
	}
	if want != pinNone {
		e.pins[want]++
	}
	*p = want
}

// setLogPin moves s's log pin, counting it in logPins as well.
func (e *Engine) setLogPin(s *session, ts int64, on bool) {
	old := s.pinLog
	e.setPin(&s.pinLog, ts, on)
	if s.pinLog == old {
		return
	}
	if old != pinNone {
		if n := e.logPins[old] - 1; n > 0 {
			e.logPins[old] = n
		} else {
			delete(e.logPins, old)
		}
	}
	if s.pinLog != pinNone {
		e.logPins[s.pinLog]++
	}
}

func (e *Engine) unpin(hour int32) {
	if n := e.pins[hour] - 1; n > 0 {
		e.pins[hour] = n
	} else {
		delete(e.pins, hour)
	}
}

// advanceFinality recomputes finalBefore after the watermark moved and
// drops the cells that became final, except dirty ones, which flush writes
// and drops.
func (e *Engine) advanceFinality() {
	bound := satSub(e.wm, e.lim.lateness)
	for hour := range e.pins {
		bound = min(bound, int64(hour)*hourMs)
	}
	if bound <= e.finalBefore {
		return
	}
	e.finalBefore = bound
	if sweep := e.finalBefore / hourMs; sweep > e.sweptTo {
		e.sweptTo = sweep
		e.dropFinalCells()
	}
}

func (e *Engine) dropFinalCells() {
	for k, c := range e.agents {
		if !c.dirty && e.isFinal(k.hour) {
			e.dropAgentCell(c)
		}
	}
	for k, c := range e.shops {
		if !c.dirty && e.isFinal(k.hour) {
			e.dropShopCell(c)
		}
	}
}

func (e *Engine) dropAgentCell(c *agentCell) { dropCell(e.agents, c, e.trackAgentCell) }
func (e *Engine) dropShopCell(c *shopCell)   { dropCell(e.shops, c, e.trackShopCell) }

// dropCell forgets a final cell; track lists it so that its changelog
// entry, if any, goes too.
func dropCell[K comparable, V comparable](cells map[K]*cell[K, V], c *cell[K, V], track func(*cell[K, V])) {
	c.dropped = true
	delete(cells, c.key)
	track(c)
}

// satSub is a−b for b ≥ 0, saturating at math.MinInt64.
func satSub(a, b int64) int64 {
	if a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}

// satAdd is a+b for b ≥ 0, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
