package metrics

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/cspulse/cspulse/schemas"
)

// The oracle of SPEC §3.4 and §3.5, in the words of the SPEC, with the
// decisions of doc.go ("Sales attribution"). It sees every event at once:
// it finds each session's inquiry in the sorted, truncated session (the
// oracle's own, not the engine's SessionView), picks each order's events,
// and evaluates the rules by searching the buyer's inquiries. Local days
// come from the time package, not eventtime. Like the rest of the oracle
// it knows nothing of watermarks: runs with no late event, payments
// within the pay window.

type oracleInquiry struct {
	shop, buyer, agent, group string
	at                        int64
}

// inquiry records SPEC §3.4's 询单 of the session, if it is one: origin
// buyer, received (a filtered reception is no inquiry), and its first
// human-phase buyer message has a reply, the first agent message after it.
func (x *oracleCtx) inquiry(header *schemas.Event) {
	if header == nil || header.Origin != schemas.OriginBuyer || !x.received {
		return
	}
	acts := x.s.acts
	for i, m := range acts {
		if !isMsg(m, schemas.SenderBuyer) {
			continue
		}
		if a, _ := x.assignedBefore(i); a == nil {
			continue // before the human phase
		}
		for j, r := range acts[i+1:] {
			if isMsg(r, schemas.SenderAgent) {
				if _, at := x.assignedBefore(i + 1 + j); !x.receptions[at] {
					return // the reply's assignment is no reception: no inquiry (§3.4)
				}
				agent := string(r.AgentID)
				x.o.inquiries = append(x.o.inquiries, oracleInquiry{
					shop: x.s.shop, buyer: string(header.BuyerID), agent: agent,
					group: x.groupOf(agent, len(acts)), at: m.TS,
				})
				return
			}
		}
		return // the first human-phase message was never replied
	}
}

// robotCall counts a robot outbound session (SPEC §3.5) in the hour of its
// `started`, under the intent of the `ended` that closed it.
func (x *oracleCtx) robotCall(header *schemas.Event, byEnded bool) {
	if header == nil || header.Origin != schemas.OriginRobotOutbound {
		return
	}
	intent := ""
	if byEnded {
		intent = string(x.s.acts[len(x.s.acts)-1].Intent)
	}
	o, shop := x.o, x.s.shop
	z := o.sc.zones.LookupString(shop)
	hour := z.HourStart(header.TS)
	local := time.UnixMilli(hour).In(z.Location())
	key := strings.Join([]string{shop, string(header.TaskID), string(header.RobotID), local.Format("2006-01-02T15:04Z07:00"), intent}, "|")
	c := o.row(RobotHourlyTable.Name, key, map[string]any{
		"shop_id": shop, "task_id": string(header.TaskID), "robot_id": string(header.RobotID), "intent": intent,
		"hour": normalize("hour", time.UnixMilli(hour).UTC()), "day": local.Format(time.DateOnly), "hour_of_day": fmt.Sprint(local.Hour()),
	})
	c["calls"]++
	if x.buyerMsgs > 0 {
		c["connected"]++
	}
}

// row returns the values of a row, creating it with meta.
func (o *oracleRows) row(table, key string, meta map[string]any) map[string]int64 {
	if o.rows[table] == nil {
		o.rows[table] = map[string]map[string]int64{}
		o.meta[table] = map[string]map[string]any{}
	}
	if o.rows[table][key] == nil {
		o.rows[table][key] = map[string]int64{}
		o.meta[table][key] = meta
	}
	return o.rows[table][key]
}

// oracleOrderEvent is the winning created or paid event of an order.
type oracleOrderEvent struct {
	ev *schemas.Event
	ok bool
}

// oracleOrders picks, per (shop, order, type), the latest event by (ts,
// FNV-1a of the event id): a re-delivery is the same event.
func oracleOrders(steps []step) map[string]*[2]oracleOrderEvent {
	orders := map[string]*[2]oracleOrderEvent{}
	for i := range steps {
		ev := &steps[i].event
		if ev.Topic != schemas.TopicOrders {
			continue
		}
		key := string(ev.ShopID) + "|" + string(ev.OrderID)
		if orders[key] == nil {
			orders[key] = &[2]oracleOrderEvent{}
		}
		slot := &orders[key][0]
		if ev.Type == schemas.TypePaid {
			slot = &orders[key][1]
		}
		if !slot.ok || cmp.Or(cmp.Compare(ev.TS, slot.ev.TS), cmp.Compare(fnv64(ev.EventID), fnv64(slot.ev.EventID))) > 0 {
			*slot = oracleOrderEvent{ev: ev, ok: true}
		}
	}
	return orders
}

// validUntil is the first instant after inquiry day + N − 1, by the
// time package: local midnight N days after the inquiry's local date.
func (o *oracleRows) validUntil(shop string, at int64, days int) int64 {
	loc := o.sc.zones.LookupString(shop).Location()
	t := time.UnixMilli(at).In(loc)
	return time.Date(t.Year(), t.Month(), t.Day()+days, 0, 0, 0, 0, loc).UnixMilli()
}

func (o *oracleRows) day(shop string, at int64) string {
	return time.UnixMilli(at).In(o.sc.zones.LookupString(shop).Location()).Format(time.DateOnly)
}

// latestValid is "the agent of the latest valid inquiry at or before t"
// of the buyer in the shop; equal instants are ordered by agent and group.
func (o *oracleRows) latestValid(shop, buyer string, t int64, days int) *oracleInquiry {
	var best *oracleInquiry
	for i := range o.inquiries {
		q := &o.inquiries[i]
		if q.shop != shop || q.buyer != buyer || q.at > t || t >= o.validUntil(shop, q.at, days) {
			continue
		}
		if best == nil || cmp.Or(cmp.Compare(q.at, best.at), strings.Compare(q.agent, best.agent), strings.Compare(q.group, best.group)) > 0 {
			best = q
		}
	}
	return best
}

// attribution evaluates SPEC §3.4 over all orders and inquiries.
func (o *oracleRows) attribution(steps []step, set *Settings) {
	days := set.Attribution.ValidDays
	type dayRow struct{ inquiry, ordered, paid map[string]bool }
	rows := map[string]*dayRow{}
	dayRowOf := func(shop, agent string, at int64) *dayRow {
		key := strings.Join([]string{shop, agent, o.day(shop, at)}, "|")
		if rows[key] == nil {
			rows[key] = &dayRow{map[string]bool{}, map[string]bool{}, map[string]bool{}}
			o.row(InquiryDailyTable.Name, key, map[string]any{"shop_id": shop, "agent_id": agent, "day": o.day(shop, at)})
		}
		return rows[key]
	}
	for _, q := range o.inquiries {
		dayRowOf(q.shop, q.agent, q.at).inquiry[q.buyer] = true
	}
	orders := oracleOrders(steps)
	for _, key := range sortedKeys(orders) {
		created, paid := orders[key][0], orders[key][1]
		q := o.credit(set, created, paid, days)
		if paid.ok {
			o.sale(paid.ev, q)
		}
		if q == nil {
			continue
		}
		r := dayRowOf(q.shop, q.agent, q.at)
		r.ordered[q.buyer] = true
		if paid.ok && paid.ev.TS < o.validUntil(q.shop, q.at, days) {
			r.paid[q.buyer] = true
			o.rows[InquiryDailyTable.Name][strings.Join([]string{q.shop, q.agent, o.day(q.shop, q.at)}, "|")]["paid_amount"] += paid.ev.Amount
		}
	}
	for key, r := range rows {
		c := o.rows[InquiryDailyTable.Name][key]
		c["inquiry_buyers"], c["ordered_buyers"], c["paid_buyers"] = int64(len(r.inquiry)), int64(len(r.ordered)), int64(len(r.paid))
	}
}

// credit is the rule: the order inquiry (at `created`), the pay inquiry
// (at `paid`), or the order inquiry if any, else the pay inquiry.
func (o *oracleRows) credit(set *Settings, created, paid oracleOrderEvent, days int) *oracleInquiry {
	var byOrder, byPay *oracleInquiry
	if created.ok {
		byOrder = o.latestValid(string(created.ev.ShopID), string(created.ev.BuyerID), created.ev.TS, days)
	}
	if paid.ok {
		byPay = o.latestValid(string(paid.ev.ShopID), string(paid.ev.BuyerID), paid.ev.TS, days)
	}
	rule := cmp.Or(set.Attribution.ShopRules[string(cmp.Or(created.ev, paid.ev).ShopID)], set.Attribution.Rule)
	switch rule {
	case RuleOrder:
		return byOrder
	case RulePay:
		return byPay
	}
	return cmp.Or(byOrder, byPay)
}

// sale credits a payment to the hour of payment: the agent's row and the
// shop's agent sales, or the shop's silent sales.
func (o *oracleRows) sale(paid *schemas.Event, q *oracleInquiry) {
	shop := string(paid.ShopID)
	c := o.shop(shop, paid.TS)
	c["paid_amount_total"] += paid.Amount
	c["paid_orders"]++
	if q == nil {
		c["paid_amount_silent"] += paid.Amount
		return
	}
	c["paid_amount_agents"] += paid.Amount
	a := o.agent(shop, q.group, q.agent, paid.TS)
	a["paid_amount"] += paid.Amount
	a["paid_orders"]++
}
