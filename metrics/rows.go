package metrics

import (
	"time"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/tables"
)

// flush appends every row changed since the last flush to out, as full
// rows carrying version, and then forgets the cells that are final. Rows
// come in the order they were first changed, agent rows first.
func (e *Engine) flush(version uint64, out RowSink) {
	e.drainFigures() // before the cells are dropped, and so that the state saved next is whole
	for _, c := range e.dirtyAgents {
		if c.isLive() {
			e.agentRow(out.Rows(AgentHourlyTable), c, version)
		}
		c.dirty = false
		e.trackAgentCell(c) // every changed cell passes here before saveChanged
		if e.isFinal(c.key.hour) {
			e.dropAgentCell(c)
		}
	}
	clear(e.dirtyAgents)
	e.dirtyAgents = e.dirtyAgents[:0]
	for _, c := range e.dirtyShops {
		if c.isLive() {
			e.shopRow(out.Rows(ShopHourlyTable), c, version)
		}
		c.dirty = false
		e.trackShopCell(c)
		if e.isFinal(c.key.hour) {
			e.dropShopCell(c)
		}
	}
	clear(e.dirtyShops)
	e.dirtyShops = e.dirtyShops[:0]
	for _, s := range e.dirtySessions {
		s.rowDirty = false
		// A session reopened by a late event since it was queued is
		// written when it closes again.
		if s.closeApplied && !s.dropped() {
			e.sessionRow(out.Rows(SessionsTable), s, version)
		}
	}
	clear(e.dirtySessions)
	e.dirtySessions = e.dirtySessions[:0]
	for _, f := range e.families {
		f.flush(version, out)
	}
}

func (e *Engine) agentRow(r *tables.Rows, c *agentCell, version uint64) {
	k := c.key
	r.String(e.shopIDs.name(k.shop))
	r.String(e.names.name(k.group))
	r.String(e.names.name(k.agent))
	e.appendHour(r, k.shop, k.hour)
	for col := range agentPaidAmount {
		r.UInt64(e.unsigned(c.v[col]))
	}
	r.Int64(c.v[agentPaidAmount])
	r.UInt64(version)
	r.End()
}

func (e *Engine) shopRow(r *tables.Rows, c *shopCell, version uint64) {
	k := c.key
	r.String(e.shopIDs.name(k.shop))
	e.appendHour(r, k.shop, k.hour)
	for col := range shopPaidTotal {
		r.UInt64(e.unsigned(c.v[col]))
	}
	r.Int64(c.v[shopPaidTotal])
	r.Int64(c.v[shopPaidAgents])
	r.Int64(c.v[shopPaidSilent])
	r.UInt64(e.unsigned(c.v[shopPaidOrders]))
	r.UInt64(version)
	r.End()
}

// dateTime is a Date column value: UTC midnight of the civil date.
func dateTime(d eventtime.Date) time.Time { return d.Time(time.UTC) }

func (e *Engine) sessionRow(r *tables.Rows, s *session, version uint64) {
	d := &s.d
	if !s.rowWritten {
		s.rowDay = s.zone.Day(d.startTS)
		s.rowWritten = true
		e.touchSession(s) // the frozen day is state
	}
	lastAgent, group := "", ""
	if d.cur >= 0 {
		a := &s.assigns[d.cur]
		lastAgent, group = e.names.name(a.agent), e.names.name(a.group)
	}
	_, received := e.firstReception(s)
	closeReason := "timeout"
	if d.closedByEnded {
		closeReason = "ended"
	}
	// Nullable columns (0007): a typed nil pointer is NULL, a non-nil
	// pointer its value; the column's Go type is always the pointer.
	firstResponse := (*int64)(nil)
	if d.firstAgentKnown {
		v := d.firstAgentTS - d.firstAssignTS
		firstResponse = &v
	}
	rating := (*uint8)(nil)
	if s.rated.score > 0 {
		v := uint8(s.rated.score)
		rating = &v
	}
	r.String(e.shopIDs.name(s.shop))
	r.String(s.sessionID())
	r.String(s.hdr.buyer)
	r.String(s.hdr.origin.String())
	r.String(e.names.name(s.hdr.channel))
	r.Time(time.UnixMilli(d.startTS).UTC())
	r.Int64(d.startTS)
	r.Time(time.UnixMilli(d.closeTS).UTC())
	r.Int64(d.closeTS)
	r.Int64(d.closeTS - d.startTS)
	r.Time(dateTime(s.rowDay))
	r.String(closeReason)
	r.String(lastAgent)
	r.Strings(e.agentIDs(s))
	r.String(group)
	r.UInt32(d.buyerMsgs)
	r.UInt32(d.agentMsgs)
	r.UInt32(d.robotMsgs)
	r.UInt8(flag(d.queued))
	r.UInt8(flag(d.abandoned))
	r.Int64(d.waitSum)
	r.NullInt64(firstResponse)
	r.UInt8(flag(d.pickedAny))
	r.UInt8(flag(received))
	r.NullUInt8(rating)
	r.String(e.filteredBy(s))
	r.UInt64(version)
	r.End()
}

// agentIDs lists the session's assigned agents in order of their first
// assignment, each once.
func (e *Engine) agentIDs(s *session) []string {
	ids := make([]string, 0, s.d.cur+1)
	for i := range int(s.d.cur) + 1 {
		agent := s.assigns[i].agent
		if !s.assignedBefore(agent, i) {
			ids = append(ids, e.names.name(agent))
		}
	}
	return ids
}

func (s *session) assignedBefore(agent uint32, i int) bool {
	for j := range i {
		if s.assigns[j].agent == agent {
			return true
		}
	}
	return false
}

func flag(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
