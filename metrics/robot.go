package metrics

import (
	"math"

	"github.com/cspulse/cspulse/schemas"
)

// robots is SPEC §3.5: robot outbound sessions counted per shop, task,
// robot, hour of the session's start and intent level at `ended`, from the
// engine's session closes (cs_robot_hourly).
//
// A close and its retraction come while the engine holds the session's
// log, which pins the hour of its first entry, at or before the start: so
// a cell's hour is not final while a contribution to it can still come,
// and the engine's own finality (isFinal) tells when a cell is final. No
// state but the cells is needed.
type robots struct {
	sh      *shared
	cells   map[robotKey]*robotCell
	dirty   []*robotCell
	sweptTo int64 // finalBefore / 1h at the last sweep

	ck    robotCheckpoints
	stats robotCounters
}

// robotKey is the key of a cs_robot_hourly row; hour is the UTC instant
// of the local hour's start, the ids are interned names.
type robotKey struct {
	hour                      int64
	shop, task, robot, intent uint32
}

type robotCell struct {
	key              robotKey
	calls, connected int64
	cellStatus
}

// isLive is cell.isLive for a robot cell (see cellStatus.live).
func (c *robotCell) isLive() bool {
	if !c.live && (c.calls != 0 || c.connected != 0) {
		c.live = true
	}
	return c.live
}

type robotCounters struct {
	views, finalCellWrites uint64
}

func newRobots(sh *shared) *robots {
	return &robots{sh: sh, cells: make(map[robotKey]*robotCell), sweptTo: math.MinInt64}
}

// SessionClosed counts a robot outbound session's close (+1) or takes it
// back (−1): a call, connected when the buyer sent a message (after the
// advert filter), in the hour of its start, under the intent of the
// `ended` that closed it ("" when it timed out or named none).
func (r *robots) SessionClosed(v *SessionView, sign int) {
	if v.Origin != schemas.OriginRobotOutbound {
		return
	}
	r.stats.views++
	sh := r.sh
	shop, zone := sh.shopByName(v.ShopID)
	k := robotKey{
		hour: zone.HourStart(v.StartedAt), shop: shop,
		task: sh.names.idString(v.TaskID), robot: sh.names.idString(v.RobotID), intent: sh.names.idString(v.Intent),
	}
	if sh.isFinal(k.hour) {
		r.stats.finalCellWrites++ // cannot happen: the session's log pins its hour
		return
	}
	c := r.cells[k]
	if c == nil {
		c = &robotCell{key: k}
		r.cells[k] = c
	}
	c.isLive() // before the change: a figure taken back still made it live
	c.calls += int64(sign)
	if v.BuyerMsgs > 0 {
		c.connected += int64(sign)
	}
	if !c.dirty {
		c.dirty = true
		r.dirty = append(r.dirty, c)
	}
	r.track(c)
}

// flush writes every changed row and forgets final ones.
func (r *robots) flush(version uint64, out RowSink) {
	sh := r.sh
	for _, c := range r.dirty {
		k := c.key
		if c.isLive() {
			r := out.Rows(RobotHourlyTable)
			r.String(sh.shopIDs.name(k.shop))
			r.String(sh.names.name(k.task))
			r.String(sh.names.name(k.robot))
			sh.appendHour(r, k.shop, k.hour)
			r.String(sh.names.name(k.intent))
			r.UInt64(sh.unsigned(c.calls))
			r.UInt64(sh.unsigned(c.connected))
			r.UInt64(version)
			r.End()
		}
		c.dirty = false
		if sh.isFinal(k.hour) {
			r.drop(c)
		}
	}
	clear(r.dirty)
	r.dirty = r.dirty[:0]
}

// sweep forgets the written cells whose hour became final.
func (r *robots) sweep() {
	sh := r.sh
	h := floorDiv(sh.finalBefore, hourMs)
	if h <= r.sweptTo {
		return
	}
	r.sweptTo = h
	for _, c := range r.cells {
		if !c.dirty && sh.isFinal(c.key.hour) {
			r.drop(c)
		}
	}
}

func (r *robots) drop(c *robotCell) {
	c.dropped = true
	delete(r.cells, c.key)
	r.track(c)
}
