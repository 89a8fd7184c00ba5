package metrics

import "unsafe"

// ExclusiveStats describes the exclusive-customer operator's state (SPEC
// §3.7). Like Stats, it walks the state: call it at the progress
// interval, not per event.
type ExclusiveStats struct {
	Relationships int // folded relationships (active, with every event in a final day)
	Buyers        int // buyers with facts of days not yet final
	Facts         int // their relationship events, marks and proactive messages
	Cells         int // cs_exclusive_daily rows held
	Stocks        int // agents with customers
	Deposits      int // presale deposits kept for their final payment
	ApproxBytes   int64
}

// Approximate sizes for ApproxBytes: a folded relationship is one slot of
// a map of 8-byte keys to 16-byte values (TestRelationshipBytes measures
// 44 bytes with the map's growth).
const (
	relSlotBytes  = 8 + int64(unsafe.Sizeof(relation{})) + 20
	xbuyerBytes   = int64(unsafe.Sizeof(xbuyer{})) + 8 + mapEntryOverhead
	xcellBytes    = int64(unsafe.Sizeof(xcell{})) + int64(unsafe.Sizeof(xkey{})) + 8 + mapEntryOverhead
	depositBytes  = 8 + int64(unsafe.Sizeof(deposit{})) + mapEntryOverhead
	stockBytes    = int64(unsafe.Sizeof(stock{})) + int64(unsafe.Sizeof(stockKey{})) + 8 + mapEntryOverhead
	xwakeBytes    = int64(unsafe.Sizeof(xwake{}))
	relEventBytes = int64(unsafe.Sizeof(relEvent{}))
	markBytes     = int64(unsafe.Sizeof(mark{}))
	xmsgBytes     = int64(unsafe.Sizeof(xmsg{}))
	xsessionBytes = int64(unsafe.Sizeof(xsession{}))
	xcontribBytes = int64(unsafe.Sizeof(xcontrib{}))
	dayDeltaBytes = int64(unsafe.Sizeof(dayDelta{}))
)

// ExclusiveStats returns the figures of the exclusive-customer operator.
func (e *Engine) ExclusiveStats() ExclusiveStats {
	x := e.excl
	st := ExclusiveStats{Relationships: len(x.rels), Buyers: len(x.buyers), Cells: len(x.cells),
		Stocks: len(x.stocks), Deposits: len(x.deposits)}
	st.ApproxBytes = x.approxBytes(&st.Facts)
	return st
}

// approxBytes estimates the operator's memory and counts its facts.
func (x *exclusive) approxBytes(facts *int) int64 {
	n := int64(len(x.rels))*relSlotBytes + int64(len(x.cells))*xcellBytes +
		int64(len(x.deposits))*depositBytes + int64(cap(x.wake))*xwakeBytes
	for _, b := range x.buyers {
		n += xbuyerBytes + int64(cap(b.rels))*relEventBytes + int64(cap(b.marks))*markBytes +
			int64(cap(b.sessions))*xsessionBytes + int64(cap(b.contrib))*xcontribBytes
		*facts += len(b.rels) + len(b.marks)
		for _, s := range b.sessions {
			n += int64(cap(s.msgs)) * xmsgBytes
			*facts += len(s.msgs)
		}
	}
	for _, s := range x.stocks {
		n += stockBytes + int64(cap(s.deltas))*dayDeltaBytes
	}
	return n
}
