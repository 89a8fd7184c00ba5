// Package metrics is cspulse's metric engine: pure event-time operators
// for SPEC §3.1–3.3 with the filters of §3.6, sales attribution (§3.4),
// robot outbound sessions (§3.5) and exclusive customers (§3.7). It turns
// the valid events of one task (partition p of every input topic) into
// full rows of cs_agent_hourly, cs_shop_hourly, cs_sessions,
// cs_inquiry_daily, cs_robot_hourly and cs_exclusive_daily. It knows
// nothing of Kafka or ClickHouse.
//
// # API
//
//	e := NewEngine(settings)       // one per task; single goroutine, no locks
//	reason, ok := e.Apply(&ev)      // ok=false: late, state gone → dead letter (ReasonLate)
//	e.Advance(watermark)            // event time: timeouts, compaction, finality
//	alerts := e.Checkpoint(version, rows, state) // changed rows, whole, with version;
//	                                // changed state entries (state may be nil); alerts
//	e.Load(key, value); e.LoadDone() // restore, into a new engine, before Apply
//	e.Stats()                       // gauges and counters; walks the state
//	e.AttributionStats()            // the same for attribution and robots
//	e.ExclusiveStats()              // the same for exclusive customers
//
// Apply hands cs.orders to the attribution operator (attribution.go) and
// cs.outreach to the exclusive-customer operator (exclusive.go). They,
// the robot operator (robot.go), alerts and rankings are the engine's
// families (families.go): they hear sessions through the SessionListener
// seam and share the engine's watermark and finality; the checkpoint
// flushes, saves and loads each of them alike. Attribution adds its paid_*
// columns through addSale (see seams.go and "Sales attribution" below).
//
// # The model: a sorted log per session, replayed with a sign
//
// Every session keeps a log of its activity events (session, transfer and
// message events), sorted by (ts, kind, tie-break), 16 bytes per entry.
// All metrics come from one deterministic state machine, step, that walks
// the log and adds each contribution to an hour cell multiplied by a sign.
//
//   - The log doubles as the session's reorder buffer. An event ahead of
//     the watermark (the usual case) is inserted, sorted, and held; when
//     the watermark passes it, the session wakes and steps its held
//     entries with sign +1, in log order: O(1) each, no allocation.
//     Cross-topic disorder within max_out_of_order (one topic's fetch
//     running minutes ahead of another's in a backlog) therefore costs an
//     insertion, never a replay. An event behind the watermark that sorts
//     after everything applied is stepped at once.
//   - Any other event (late within allowed_lateness, a `started` after
//     applied messages, a gap-filling event that reopens a timed-out
//     session) first takes back all of the session's contributions by
//     replaying the applied entries with sign −1, then goes into the log,
//     and the log up to the watermark is replayed with sign +1.
//
// The cells therefore always hold exactly what one in-order pass over the
// logs up to the watermark would give: results cannot depend on arrival
// order. The price of holding is that figures trail the newest events by
// max_out_of_order of event time (10 s by default), the delay any
// watermark-driven engine has; the price of a replay is O(session length)
// per late event, and late events are rare. A session with nothing
// applied yet counts nothing, not even an evaluation's rating: its header
// may still change.
//
// Evaluations and order events are held behind the watermark too, and
// stepped in event time with the sessions: an evaluation after every
// log entry before it (session.evalTo, one instant at a time), an order
// event merged in event time with the inquiries that the sessions' closes
// reveal (Engine.Advance queues those with the instant of their wake-up,
// then attribution.catchUp applies both in order). Nothing is credited outside
// that order, so with input disordered within max_out_of_order the rows
// — which keys are written and their final contents — do not depend on
// where the watermark steps or the flushes fall
// (TestRowsIndependentOfSteps). A cell is written only once it has held
// a non-zero figure (cellStatus.live); after that, on every change, also
// back to zero, to replace the row written before.
//
// Contributions that depend on the future are made when they become known
// and are never guesses: a buyer message is counted on arrival and its
// reply figures when the reply arrives (it replies every pending buyer
// message at once); an assignment is picked, with its first response, at
// the first message of its agent; a (session, agent) pair counts as 3-min
// OK only while every in-window message so far was replied within 3 min
// (a waiting message makes it not OK until answered, so dashboards show
// the truth so far and the final figure is exact). What is only known at
// the close — receptions, hence received_sessions, and the reception
// filters — is contributed at the close and taken back if a late event
// reopens or rewrites the session. The rating is a function of the
// session's stepped evaluations and its last applied assignment: whenever
// either changes the engine retracts the contribution it recorded and
// adds the new one.
//
// # Order of equal timestamps and duplicates
//
// SPEC §2 fixes the order of equal-ts `assigned` and of equal-ts
// evaluations: the larger event_id is later. For the rest, the kinds are
// ordered so that every definition reads naturally at an equal ts:
//
//	started < queued < assigned < buyer message < agent message
//	        < robot/system message < abandoned < ended
//
// so a session starts before anything happens in it, an assignment governs
// the messages of its own instant (the current agent at t is the latest
// `assigned` at or before t), an agent message replies to a buyer message
// of the same instant (response 0), and `ended` comes last, keeping its
// instant's events in the session. Equal-ts entries of the same other kind
// are ordered by a hash of the event id; no metric depends on their order.
//
// A re-delivered event is recognised by (ts, kind, 29 bits of FNV-1a of
// the event id): both deliveries agree on all three, and two different
// events of one session agree on ts and kind and collide on the hash with
// probability 2⁻²⁹. `assigned` and evaluations keep their whole event id
// (their order depends on it), so their duplicates are exact.
//
// # Session life cycle
//
//	open       log held. Closes at the first `ended`; at a gap > timeout
//	           inside the log; or when watermark > last activity + timeout
//	           (a gap of exactly the timeout keeps it open). A timeout
//	           close is at last activity + timeout: that is ended_at.
//	closed     log held, cs_sessions row written. A late event can still
//	           rewrite it or reopen it (then the row is rewritten when it
//	           closes again). Events after the close are kept in the log
//	           but are not part of the session (Stats.AfterClose); should
//	           a late event bridge the gap, they become part of it.
//	compacted  at watermark > close + allowed_lateness no event that could
//	           change the session can be accepted any more: the log goes
//	           back to a pool; a summary (the row's values, the applied
//	           assignments, the evaluations) stays for the rating window.
//	removed    at watermark > close + rating_window + allowed_lateness.
//
// Each bound is the first watermark at which every event that could still
// change the phase is late. Timers are lazy: one per session in a heap;
// activity moves the deadline without touching the heap, and a timer that
// fires early re-arms. Summaries stay in the one session map: a map of
// their own, to keep the map hit by every event small, measured slower
// (every new session then missed twice, and compaction moved entries).
//
// # Lateness
//
// Apply returns (ReasonLate, false) for an event with ts < watermark −
// allowed_lateness whose state is gone: no session (or only a compacted
// summary, for an activity event at or before the close). A late event
// whose session still holds its log is applied (SPEC: late events update
// results while their state is held). Independently, any event before
// finalBefore (below) is late, because it would touch a final hour.
//
// # When a cell is final
//
// A cell changes only through contributions at instants of its hour. Every
// held log pins the UTC hour of its first entry, every session with
// evaluations the hour of its earliest evaluation; HoldHour pins for other
// operators. finalBefore = max(previous, min(watermark − allowed_lateness,
// every pin)). A cell whose hour ends at or before finalBefore is final:
// no accepted event can be before it, and no held state reaches back to
// it. Final cells are written one last time by flush and dropped. So a
// cell lives until its hour is past the lateness and no open session or
// re-ratable rating reaches back into it: in practice about
// hour end + rating_window + allowed_lateness for hours that received
// ratings, less for others; a session open for days holds its hours that
// long. A contribution to a final hour would overwrite a complete row with
// a partial one; by the above it cannot happen, and should a bug cause it
// the contribution is discarded (the stored row stays complete) and
// Stats.FinalCellWrites counts it: alert on it being non-zero.
//
// # Decisions where the SPEC is silent
//
// Filters (§3.6):
//   - Adverts (is_ad) and messages of listed agents do not exist for the
//     engine: not counted anywhere, not activity (they do not keep a
//     session open), not in cs_sessions message counts. The assignments
//     of a listed agent still count: the SPEC drops their messages only.
//   - A listed buyer's session is dropped entirely: no contribution, no
//     rating, no cs_sessions row, no listener call. The buyer id is on
//     `started`; events that came before it are held in the log and
//     their contributions taken back when the `started` shows the buyer.
//   - Agent single sentence is judged within the assignment: one message
//     of the assignment's agent and no buyer message after it before the
//     next `assigned` or the close (a buyer message in the next
//     assignment does not save it). Monologue is judged for the session
//     and removes all of its receptions. Both act at the close, on
//     received_sessions, cs_sessions.received and filtered_by, and on
//     the inquiry (SPEC §3.4: the reply's assignment must be a reception).
//
// Hours (the SPEC gives most; the rest):
//   - abandoned_sessions: once per session, in the hour of the first
//     `abandoned` that ends an open queue episode.
//   - received_sessions: the hour of the first reception's `assigned`.
//   - agent_msgs (SPEC §3 intro): every agent message, also outside any
//     assignment (before the first `assigned` of a proactive session, or
//     a supervisor stepping in): the sender's row, in the group of the
//     sender's latest assignment in the session at or before the message,
//     "" when the sender has none; the hour of the message. Such a
//     message replies to nothing and picks nothing up. The shop row's
//     agent_msgs is the sum of the agents'.
//   - The session pair's row: the agent and group of the assignment of
//     the pair's first in-window message.
//
// Queues: a queue episode starts at a `queued` while the buyer is not
// waiting (a second `queued` while waiting does not restart the wait) and
// ends at the next `assigned` (one wait, assigned − episode start) or
// `abandoned`. An `abandoned` with no open episode is ignored.
// transferred_picked_sessions needs a picked assignment anywhere in the
// session.
//
// Evaluations (§3.3): not activity; never in a log, but held like log
// entries until the watermark passes them and stepped after the session's
// earlier activity. Valid when ts ≤ close + rating_window (all, while the
// session is open); the latest valid one by (ts, event_id) is the rating.
// One more than rating_window after the close of a session known to be
// closed is late: Apply returns (ReasonLate, false) and Stats.LateRatings
// counts it (the task dead-letters it). The task applies an evaluation
// only once its watermark is within rating_window of it
// (pipeline/heldevals.go), so a session closed more than rating_window
// before the evaluation is always closed here when it arrives, whatever
// the arrival order; an evaluation applied earlier (engine tests) whose
// close turns out too early is held and ignored. Credited to its agent_id, else the
// session's last assigned agent, in the group of that agent's last
// assignment in the session ("" if it had none). With no agent at all the
// row shows the score and no agent row counts it. An evaluation for an
// unknown session that is not late is held in a stub (counted nowhere)
// until the session's activity arrives — cross-topic disorder — and is
// dropped as an orphan (Stats.OrphanEvaluations) at watermark > its ts +
// allowed_lateness. Once a summary is removed, any evaluation of it is
// late (dead letter) as well.
//
// Sessions: the key is (shop_id, session_id). The header (buyer, origin,
// channel, task, robot) comes from the first `started` in log order; a
// session without one has origin "" and is no consult session. A closed
// session's cs_sessions row is written, and the session listener told,
// once its `started` is there — or, without one, when it is compacted and
// nothing can change its start any more (the row's day partitions the
// table) or reveal a listed buyer. The day of a row is frozen when first
// written. A session id seen again after its summary was removed starts a
// new session.
//
// cs_sessions columns: started_at is the `started` ts (else the first
// event); ended_at the close; buyer/agent/robot_msgs count every message
// of the session (all phases, after the filters); last_agent_id and
// group_id are the last assignment's; agent_ids the assigned agents in
// order of first assignment; queue_wait_ms the sum of the waits;
// first_response_ms, the buyer's view (SPEC §4.1), the first agent
// message (any agent) at or after the first `assigned` − that `assigned`
// (how long the buyer waited for a human answer), NULL when none; rating
// the effective score, NULL when none (both Nullable since migration
// 0007: the row holds *int64 and *uint8, nil for NULL); filtered_by every
// enabled reception filter that removed at least one picked assignment
// ("agent_single_sentence") or the session ("monologue"), comma-separated
// in that fixed order, also when another assignment is a reception.
//
// # Memory and speed
//
// Measured (bench_test.go, 2026-11, AMD EPYC, shared 2-core VM):
//   - 966 bytes per open typical session (started, queued, assigned, 20
//     messages): a 424-byte struct (in the allocator's 448-byte class; it
//     was 416 before the evaluations' cursor evalTo, 2026-12), a 24-entry
//     log (384 bytes), its ids and its map slot. 621 bytes per compacted
//     summary held for the rating window (TestOpenSessionBytes). Ids of bounded cardinality (shops, agents, groups, channels,
//     tasks, robots, intents) are interned per engine; session, buyer and
//     event ids are not. Log arrays are recycled through a size-class pool
//     holding at most 4 MiB per engine.
//   - The realistic in-order stream (5 000 concurrent sessions, session
//     creation, queues, closes, compaction, ratings, timers, Advance every
//     1 024 events) runs at 1.0–1.3 M events per CPU-second, 0.19
//     allocations per event: the new-session path (the session, its key,
//     its buyer id, its assignment's event id). An in-order message to an
//     open session runs at 4–5 M per CPU-second with no allocation.
//     Decoding is not included. What remains is memory access: the
//     session map's lookup and the first touch of the session's log.
//
// # Checkpoints
//
// Engine.Checkpoint cuts rows and state together (snapshot.go has the details
// and stateenc.go the byte layout). The state is a set of keyed entries:
// "s/"+session key for a session in any phase (stub, open, closed,
// compacted summary: one key for its whole life), "ca/" and "cs/" + the
// row key for an agent or shop cell, "meta" for the watermark and the
// finality bound. Values start with a format version byte; names are
// written as strings, never as interned ids. Pins, timers and caches are
// rebuilt by LoadDone.
//
// The contract: one Checkpoint call writes the changed rows, then saves
// the state (inside, saveChanged panics when a row is pending: rows are not
// state); Load every live entry into a new
// engine, then LoadDone, before any Apply; an engine never restored saves
// everything at its first saveChanged. A restored engine is then
// indistinguishable from the saved one: the same later calls give the same
// rows and listener calls in the same order (so the timer heap orders
// equal instants by session key). HoldHour pins and the listener's own
// state are their owners' to save. The attribution and robot operators
// save theirs under "b/", "o/", "iq/", "at/meta" and "rb/" (attrstate.go)
// as families (families.go), and hold their hours again at
// LoadDone. Change tracking costs the hot path a
// flag test per event (a list append the first time a session changes
// after a checkpoint); a typical open session encodes to about 330 bytes,
// a summary to about 130.
//
// # Seams
//
// SessionListener hears each close (+1) and each taken-back close (−1)
// with a SessionView, including SPEC §3.4's inquiry and §3.5's task, robot
// and intent: the robot operator and the buyer/inquiry side of attribution
// are built on it without re-deriving sessions. AddSale credits paid
// sales into the rows this engine owns; HoldHour/ReleaseHour keep hours
// open for state held outside it (the attribution's held payments).
//
// # Sales attribution (SPEC §3.4)
//
// How it works is in attribution.go; what it decides where the SPEC is
// silent is here.
//
// Inquiries. An inquiry is the engine's SessionView.Inquiry: origin
// buyer, and the buyer's first human-phase message replied in an
// assignment that is a reception (SPEC §3.4: if the reply's assignment is
// removed by a filter of §3.6, the session is no inquiry, whatever its
// other assignments); at that message's ts, to the agent who replied, in
// the group of that agent's last assignment in the session. Sales land in that (group, agent) row of cs_agent_hourly. The
// listener's +1/−1 are summed by sign into a multiset per (shop, buyer)
// keyed by (instant, agent, group), so a close taken back and made again
// with other fields leaves exactly the new inquiry. Two inquiries of one
// buyer at the same millisecond are ordered by agent id, then group id
// (the larger is the later): interned ids follow arrival order.
//
// Validity. An inquiry at t on local day D (the shop's zone) credits
// events at instants in [t, start of local day D+N): the zone's wall
// clock, so a 23- or 25-hour day is one day. "At or before" includes the
// same millisecond.
//
// Orders. An order is (shop, order_id) with at most one `created` and one
// `paid`: a re-delivery (same event id) counts once; of two different
// events of one type the later ts wins, at equal ts the larger FNV-1a hash
// of the event id (keeping ids to compare them as SPEC §2 does for
// `assigned` would cost 2 × 24 bytes per order; two payments of one order
// in one millisecond are a data error). The order agent is found among the
// inquiries of the `created` event's buyer_id, the pay agent among the
// `paid` event's; the sale is the `paid` amount (the `created` amount is
// not used), one order, in the hour of payment. A `paid` whose order has
// no `created` (yet, or ever) has no order agent: `order` makes it
// silent, `order_first` credits the pay agent; when the `created` comes,
// the sale is recomputed. Timestamps are taken as they are: a payment
// stamped before its creation is credited by the same rules.
//
// Changes. Every order is recomputed when one of its events is stepped
// (held until the watermark passes it, see "The model" above) or one of
// its buyers' inquiries changes; a sale that changes is taken back
// (addSale with −amount, −1 order) and made again, so agent + silent =
// shop in every row at every flush. A paid order's payment hour is held
// (HoldHour) until the order is final.
//
// cs_inquiry_daily. Each order is credited through at most one inquiry,
// the rule's: the order inquiry (order; order_first when there is one) or
// the pay inquiry (pay; order_first otherwise). An unpaid order is
// credited the same way as far as it can be: through its order inquiry
// under order and order_first, through none yet under pay. The row of
// the crediting inquiry's (shop, agent, local day) counts:
//
//	inquiry_buyers  distinct buyers with an inquiry to the agent that day
//	ordered_buyers  of them, those with an order credited through an
//	                inquiry of that row
//	paid_buyers     of them, those with such an order paid before that
//	                inquiry's validity ended
//	paid_amount     the amounts of those payments
//
// So per row paid ≤ ordered ≤ inquiry buyers (the funnel of 询单转化率 →
// 下单 → 付款), the buyer counts add up over agents but not over days, and
// a row is final when its validity has ended (+ allowed_lateness): a
// later payment of an order credited under `order` is a sale of the agent
// (cs_agent_hourly) but no conversion of that day. Under `pay` a buyer
// can be an ordered buyer of the agent who got the sale only.
//
// Bounds. Orders are final when the settled horizon (attribution.go)
// has passed both of their events; a created order that is never paid is
// kept PayWindow (72 h, the longest Taobao keeps an unpaid order open)
// and then forgotten (its contribution stays in its row); a payment after
// that is an order of its own, without `created`. A buyer is held while
// it has inquiries or rows whose validity has not ended, or orders. The
// first event of an order behind watermark − allowed_lateness is late
// (dead letter); a later event of an order still held is applied (its
// state is held), unless it is a payment whose hour is final. Orders of
// listed buyers (§3.6 filters sessions, not orders) are sales of the
// shop, silent ones since their sessions are dropped.
//
// Memory (attribution_test.go, TestTrackedBuyerBytes): 288 bytes of heap
// per tracked buyer with an inquiry (the buyer with its inline inquiry and
// row, its key, its map slot and its wake-up); a paid order held until
// final adds about 350. TestGeneratedWeekRunsFlat and
// BenchmarkGeneratedWeek (200 shops, a week) check that the state levels
// off after one pay window. On the engine's stream benchmark, attribution
// and robots add 0.04 allocations per event (0.19 → 0.23: a new buyer
// and its key per inquiry session; the listeners' view lives in the
// engine, not on the heap) and a few percent of CPU; the hourly walk over
// the held sessions (heldLogsFrom) is not measurable there.
//
// # Robot outbound sessions (SPEC §3.5)
//
// robot.go counts every session with origin robot_outbound in
// cs_robot_hourly by (shop, task, robot, local hour of its `started`,
// intent): calls, and connected when the buyer sent at least one message
// (adverts and other filtered messages do not count). The intent is the
// closing `ended`'s; "" when the session timed out or the `ended` named
// none, rewritten when a late `ended` closes it after all. A robot
// session whose `started` never arrives has no origin and is not counted
// (origin, task and robot are on `started`). Its cells are final when the
// engine's hour is final: a close can only be taken back while the
// session's log pins its hour.
//
// # Exclusive customers (SPEC §3.7)
//
// exclusive.go (with exclusive_facts.go, exclusive_compute.go,
// exclusive_cells.go and exclusive_state.go) writes cs_exclusive_daily per
// (shop, agent, local day) from cs.outreach, the payments of cs.orders and
// the closes of proactive sessions (SessionListener; the messages are read
// from the session's log, after the filters of §3.6). docs/metrics.md
// defines the figures for shop owners; the decisions where the SPEC is
// silent:
//
//   - Relationships: an acceptance of the owner's own agent changes
//     nothing; one of another agent ends the old relationship (a buyer has
//     one exclusive agent per shop; not counted as `ended`) and starts a
//     new one; an unsubscribe ends the relationship with its agent only
//     (one naming another agent changes nothing). Active at t: accepted
//     before t (strictly) and not ended at or before t. Equal instants are
//     ordered by (ts, kind, event id hash).
//   - Counts are events: invited and rejected count every distinct event;
//     accepted and ended count relationships started and ended.
//   - Sent: an agent message, in a session with origin proactive, by the
//     owner at its instant. Read/replied/visited/bought: from the agent's
//     first such message of the day to the day's end; read and replied
//     must concern a session with such a message that day. Bought: an
//     ordinary or a final payment; a deposit is not a purchase.
//   - Guided: the payment's day has a qualifying message before it, a read
//     of that day's messages at or after the first and at or before the
//     payment, and the owner at the payment has a relationship accepted on
//     an earlier local day. A final payment adds its order's deposit (the
//     buyer's own deposit event of that order_id; deposits are folded and
//     kept 31 days, presaleWindow). Of two payments of one order and stage
//     the later (ts, hash) wins, as in attribution. In attribution (§3.4)
//     a final payment is an order of its own ("\x00f" after the order key):
//     one order keeps one payment, so the deposit and the final payment are
//     two sales, each in its own hour.
//   - Customers (a stock): day(accepted) ≤ D < day(ended). A day's
//     customers-only row is written once the day has ended in event time
//     (the watermark past its midnight, the end of input at the latest
//     fact's day), so that which rows exist does not depend on where the
//     watermark steps; a row made by activity carries the customers so far.
//
// Model: facts (relationship events, marks — invitations, rejections,
// reads, visits, payments — and proactive sessions' messages) are kept per
// buyer while their day is not final, and a buyer's contribution to the
// cells and to its agents' customer stocks is a pure function of its facts
// before the watermark (compute); a new or newly due fact takes the
// contribution back and makes it again. Facts ahead of the watermark are
// held and stepped when it passes them. A final day is folded: the
// relationship events into one relationship per buyer (owner, accepted-at;
// 24 bytes a map slot, 44 B measured per relationship with the map's
// overhead: TestRelationshipBytes), deposits into a map, the rest dropped.
// Buyers are keyed by the 64-bit FNV-1a hash of (shop, buyer id).
// Lateness: an outreach event in a final hour is a dead letter (late).
//
// # Tests
//
// testdata/scenarios/*/ hold hand-written scenarios (format in
// harness_test.go and testdata/scenarios/README.md): events.jsonl in
// SPEC §1 JSON plus "topic", expected.json with the expected rows computed
// by hand from the SPEC. Property tests permute scenarios and seeded
// random multi-session streams (bounded displacement with a moving
// watermark; arbitrary order with the watermark held back) and require the
// same final rows; an independent, naive oracle of the definitions is
// checked against the hand-written scenarios and against the engine on the
// random streams.
package metrics
