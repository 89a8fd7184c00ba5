package metrics

import (
	"time"

	"github.com/cspulse/cspulse/eventtime"
)

// flush appends every row changed since the last flush to out, as full
// rows carrying version, and then forgets the cells that are final. Rows
// come in the order they were first changed, agent rows first.
func (e *Engine) flush(version uint64, out RowSink) {
	e.drainFigures() // before the cells are dropped, and so that the state saved next is whole
	for _, c := range e.dirtyAgents {
		if c.isLive() {
			out.Add(AgentHourlyTable, e.agentRow(c, version))
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
			out.Add(ShopHourlyTable, e.shopRow(c, version))
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
			out.Add(SessionsTable, e.sessionRow(s, version))
		}
	}
	clear(e.dirtySessions)
	e.dirtySessions = e.dirtySessions[:0]
	for _, f := range e.families {
		f.flush(version, out)
	}
}

func (e *Engine) agentRow(c *agentCell, version uint64) []any {
	k := c.key
	row := make([]any, 0, len(AgentHourlyTable.Columns))
	row = append(row, e.shopIDs.name(k.shop), e.names.name(k.group), e.names.name(k.agent))
	row = e.appendHour(row, k.shop, k.hour)
	for col := range agentPaidAmount {
		row = append(row, e.unsigned(c.v[col]))
	}
	return append(row, c.v[agentPaidAmount], version)
}

func (e *Engine) shopRow(c *shopCell, version uint64) []any {
	k := c.key
	row := make([]any, 0, len(ShopHourlyTable.Columns))
	row = append(row, e.shopIDs.name(k.shop))
	row = e.appendHour(row, k.shop, k.hour)
	for col := range shopPaidTotal {
		row = append(row, e.unsigned(c.v[col]))
	}
	return append(row, c.v[shopPaidTotal], c.v[shopPaidAgents], c.v[shopPaidSilent],
		e.unsigned(c.v[shopPaidOrders]), version)
}

// dateTime is a Date column value: UTC midnight of the civil date.
func dateTime(d eventtime.Date) time.Time { return d.Time(time.UTC) }

func (e *Engine) sessionRow(s *session, version uint64) []any {
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
	return []any{
		e.shopIDs.name(s.shop), s.sessionID(), s.hdr.buyer, s.hdr.origin.String(), e.names.name(s.hdr.channel),
		time.UnixMilli(d.startTS).UTC(), d.startTS, time.UnixMilli(d.closeTS).UTC(), d.closeTS,
		d.closeTS - d.startTS, dateTime(s.rowDay),
		closeReason, lastAgent, e.agentIDs(s), group,
		d.buyerMsgs, d.agentMsgs, d.robotMsgs, flag(d.queued), flag(d.abandoned),
		d.waitSum, firstResponse, flag(d.pickedAny), flag(received), rating,
		e.filteredBy(s), version,
	}
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
