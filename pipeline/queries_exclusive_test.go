package pipeline_test

import "fmt"

// The exclusive-customer scenario of docs/queries.md section 10 (SPEC
// §3.7), shop-0001 in Asia/Shanghai. D0 = Sunday 2026-11-01, D1 = Monday
// 2026-11-02, D2 = Tuesday 2026-11-03, local.
//
// Relationships: a01 invites b31 (D0 09:50), b31 accepts (10:00), b32
// accepts a01 automatically (11:00), b34 accepts a02 (12:00); on D1 b33
// accepts a01 (09:00: made that day), a02 invites b35 (09:30), b35 rejects
// (09:40), b34 unsubscribes from a02 (11:00).
//
// D1 10:30 campaign: a01 writes b31 (s31, 10:30:05), b32 (s32, 10:31:05),
// b33 (s33, 10:32:05); a02 writes b34 (s34, 10:33:05). b31 replies
// (10:30:36), reads (10:40), visits (10:45) and pays o31 199.00 at 11:00:
// guided. b32 does not read and pays o32 59.90 at 12:00: bought, not
// guided; at 14:00 b32 pays a presale deposit of 10.00 (o36): nothing. b33
// reads (10:50), visits (10:55), pays o33 99.00 at 11:30: bought, not
// guided (relationship made that day). b34 reads (10:45), unsubscribes
// (11:00), pays o34 39.90 at 11:10: a02's bought customer, not guided.
// D1 23:30: a01 writes b31 again (s35), b31 reads at 23:40 and pays o35
// 29.90 at D2 00:10: nothing (no message on D2 to b31).
// D2 09:30: a01 writes b32 (s36), b32 reads (09:40) and pays the final
// part of o36, 89.00, at 10:00: guided, the whole 99.00.
//
//	a01 D0: customers 2, accepted 2, invited 1.   a02 D0: customers 1, accepted 1.
//	a01 D1: customers 3, accepted 1; sent 3, read 2 (b31 b33), replied 1,
//	        visited 2, bought 3 (b31 b32 b33), guided 1 order, 19900.
//	a02 D1: customers 0, ended 1, invited 1, rejected 1; sent 1, read 1, bought 1.
//	a01 D2: customers 3; sent 1, read 1, bought 1, guided 1 order, 9900.
func exclusiveScenario() []record {
	s := &scenario{}
	const (
		sh       = "shop-0001"
		a01, a02 = "shop-0001-a01", "shop-0001-a02"
		tOut     = "cs.outreach"
	)
	b := func(n int) string { return fmt.Sprintf("shop-0001-b%d", n) }
	rel := func(typ string, buyer int, agent string) string {
		return fmt.Sprintf(`,"type":%q,"buyer_id":%q,"agent_id":%q`, typ, b(buyer), agent)
	}
	read := func(buyer int, sess string) string {
		return fmt.Sprintf(`,"type":"read","buyer_id":%q,"session_id":%q`, b(buyer), sess)
	}
	visited := func(buyer int) string { return fmt.Sprintf(`,"type":"visited","buyer_id":%q`, b(buyer)) }
	write := func(sess string, buyer int, agent, at string) {
		s.at(tSessions, sh, clockPlus(at, 0), started(sess, b(buyer), "proactive", "app"))
		s.at(tTransfers, sh, clockPlus(at, 0), assigned(sess, "pre-sales", agent))
		s.at(tMessages, sh, clockPlus(at, 5e9), agentSays(sess, agent))
		s.at(tSessions, sh, clockPlus(at, 60e9), ended(sess))
	}
	pay := func(order string, buyer, amount int, at, stage string) {
		f := orderPaid(order, b(buyer), amount)
		if stage != "" {
			f += fmt.Sprintf(`,"stage":%q`, stage)
		}
		s.at(tOrders, sh, at, f)
	}

	s.at(tOut, sh, "2026-11-01 09:50:00", rel("invited", 31, a01))
	s.at(tOut, sh, "2026-11-01 10:00:00", rel("accepted", 31, a01))
	s.at(tOut, sh, "2026-11-01 11:00:00", rel("accepted", 32, a01)+`,"via":"auto"`)
	s.at(tOut, sh, "2026-11-01 12:00:00", rel("accepted", 34, a02))
	s.at(tOut, sh, "2026-11-02 09:00:00", rel("accepted", 33, a01))
	s.at(tOut, sh, "2026-11-02 09:30:00", rel("invited", 35, a02))
	s.at(tOut, sh, "2026-11-02 09:40:00", rel("rejected", 35, a02))

	write("shop-0001-s31", 31, a01, "2026-11-02 10:30")
	s.at(tMessages, sh, "2026-11-02 10:30:36", buyerSays("shop-0001-s31"))
	write("shop-0001-s32", 32, a01, "2026-11-02 10:31")
	write("shop-0001-s33", 33, a01, "2026-11-02 10:32")
	write("shop-0001-s34", 34, a02, "2026-11-02 10:33")
	s.at(tOut, sh, "2026-11-02 10:40:00", read(31, "shop-0001-s31"))
	s.at(tOut, sh, "2026-11-02 10:45:00", visited(31))
	s.at(tOut, sh, "2026-11-02 10:45:00", read(34, "shop-0001-s34"))
	s.at(tOut, sh, "2026-11-02 10:50:00", read(33, "shop-0001-s33"))
	s.at(tOut, sh, "2026-11-02 10:55:00", visited(33))
	s.at(tOut, sh, "2026-11-02 11:00:00", rel("unsubscribed", 34, a02))
	pay("shop-0001-o31", 31, 19900, "2026-11-02 11:00:00", "")
	pay("shop-0001-o34", 34, 3990, "2026-11-02 11:10:00", "")
	pay("shop-0001-o33", 33, 9900, "2026-11-02 11:30:00", "")
	pay("shop-0001-o32", 32, 5990, "2026-11-02 12:00:00", "")
	pay("shop-0001-o36", 32, 1000, "2026-11-02 14:00:00", "deposit")

	write("shop-0001-s35", 31, a01, "2026-11-02 23:30")
	s.at(tOut, sh, "2026-11-02 23:40:00", read(31, "shop-0001-s35"))
	pay("shop-0001-o35", 31, 2990, "2026-11-03 00:10:00", "")

	write("shop-0001-s36", 32, a01, "2026-11-03 09:30")
	s.at(tOut, sh, "2026-11-03 09:40:00", read(32, "shop-0001-s36"))
	pay("shop-0001-o36", 32, 8900, "2026-11-03 10:00:00", "final")
	return s.sorted()
}

// wantExclusiveScenario is, per named query of section 10, its rows on the
// exclusive-customer scenario (the figures above).
var wantExclusiveScenario = map[string][]string{
	"exclusive_agent_day": {
		"2026-11-01 | shop-0001-a01 | 0 | 0 | 0 | 0 | 0 | 0 | NULL",
		"2026-11-01 | shop-0001-a02 | 0 | 0 | 0 | 0 | 0 | 0 | NULL",
		"2026-11-02 | shop-0001-a01 | 3 | 2 | 2 | 3 | 1 | 199 | 0.6667",
		"2026-11-02 | shop-0001-a02 | 1 | 1 | 0 | 1 | 0 | 0 | 1",
		"2026-11-03 | shop-0001-a01 | 1 | 1 | 0 | 1 | 1 | 99 | 1",
	},
	"exclusive_shop_day": {
		"2026-11-01 | 0 | 0 | 0 | 0 | 0 | NULL | NULL",
		"2026-11-02 | 4 | 3 | 2 | 4 | 199 | 1 | 49.75",
		"2026-11-03 | 1 | 1 | 0 | 1 | 99 | 1 | 99",
	},
	"exclusive_relationships_agent_day": {
		"2026-11-01 | shop-0001-a01 | 2 | 2 | 0 | 1 | 0",
		"2026-11-01 | shop-0001-a02 | 1 | 1 | 0 | 0 | 0",
		"2026-11-02 | shop-0001-a01 | 3 | 1 | 0 | 0 | 0",
		"2026-11-02 | shop-0001-a02 | 0 | 0 | 1 | 1 | 1",
		"2026-11-03 | shop-0001-a01 | 3 | 0 | 0 | 0 | 0",
	},
	"exclusive_agent_month": {
		"2026-11-01 | shop-0001-a01 | 3 | 3 | 0 | 4 | 4 | 2 | 298",
		"2026-11-01 | shop-0001-a02 | 0 | 1 | 1 | 1 | 1 | 0 | 0",
	},
}
