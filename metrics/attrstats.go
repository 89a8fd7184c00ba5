package metrics

import "unsafe"

// AttributionStats describes the attribution (SPEC §3.4) and robot (§3.5)
// operators' state and counts what they did. Like Stats, the gauges walk
// the state: call it at the progress interval, not per event.
type AttributionStats struct {
	Buyers       int // tracked (shop, buyer)s
	Inquiries    int // inquiries held (distinct (time, agent, group) per buyer)
	Orders       int // orders held
	UnpaidOrders int // of which created and not paid yet
	InquiryCells int // cs_inquiry_daily rows held
	RobotCells   int // cs_robot_hourly rows held
	HeldHours    int // payment hours held open in the engine (one per held paid order)
	ApproxBytes  int64
	Settled      int64 // the settled horizon: nothing before it changes any more

	// Counters since the engine was created.
	InquiryViews uint64 // inquiry closes and retractions heard
	RobotViews   uint64 // robot session closes and retractions heard
	OrderEvents  uint64 // cs.orders events applied or refused
	Duplicates   uint64 // re-delivered order events
	Superseded   uint64 // order events beaten by a later one of the same order and type
	Recredits    uint64 // paid orders whose credited agent changed (a sale taken back)
	// Contributions to a final row, discarded: only events beyond
	// allowed_lateness that the engine still takes into a held session can
	// cause them. Alert on growth.
	FinalCellWrites uint64
}

// Approximate sizes for ApproxBytes.
const (
	buyerBytes    = int64(unsafe.Sizeof(buyer{}))
	orderBytes    = int64(unsafe.Sizeof(order{}))
	inquiryBytes  = int64(unsafe.Sizeof(inquiry{}))
	bCellBytes    = int64(unsafe.Sizeof(buyerCell{}))
	inqCellBytes  = int64(unsafe.Sizeof(inqCell{})) + int64(unsafe.Sizeof(inqKey{})) + 8
	robotCellSize = int64(unsafe.Sizeof(robotCell{})) + int64(unsafe.Sizeof(robotKey{})) + 8
	wakeBytes     = int64(unsafe.Sizeof(wake[*buyer]{}))
	stringHeader  = 16
)

// AttributionStats returns the figures of the attribution and robot
// operators.
func (e *Engine) AttributionStats() AttributionStats {
	a, r := e.attr, e.robots
	st := AttributionStats{
		Buyers: len(a.buyers), Orders: len(a.orders), InquiryCells: len(a.cells), RobotCells: len(r.cells),
		Settled:      a.settled,
		InquiryViews: a.stats.inquiryViews, RobotViews: r.stats.views,
		OrderEvents: a.stats.orderEvents, Duplicates: a.stats.duplicates, Superseded: a.stats.superseded,
		Recredits: a.stats.recredits, FinalCellWrites: a.stats.finalCellWrites + r.stats.finalCellWrites,
	}
	for _, b := range a.buyers {
		st.Inquiries += len(b.inqs)
		st.ApproxBytes += b.approxBytes()
	}
	for _, o := range a.orders {
		if o.paid.buyer == nil {
			st.UnpaidOrders++
		} else {
			st.HeldHours++
		}
		st.ApproxBytes += orderBytes + stringHeader + int64(len(o.key)) + mapEntryOverhead
	}
	st.ApproxBytes += int64(len(a.cells))*(inqCellBytes+mapEntryOverhead) + int64(len(r.cells))*(robotCellSize+mapEntryOverhead)
	st.ApproxBytes += int64(cap(a.buyerWakes.items)+cap(a.orderWakes.items)) * wakeBytes
	return st
}

// approxBytes estimates what b holds, its map entry included; the
// inline arrays cover one inquiry and one row.
func (b *buyer) approxBytes() int64 {
	n := buyerBytes + stringHeader + int64(len(b.key)) + mapEntryOverhead
	if cap(b.inqs) > len(b.inqBuf) {
		n += int64(cap(b.inqs)) * inquiryBytes
	}
	if cap(b.cells) > len(b.cellBuf) {
		n += int64(cap(b.cells)) * bCellBytes
	}
	return n + int64(cap(b.orders))*8
}
