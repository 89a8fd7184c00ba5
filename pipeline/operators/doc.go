// Package operators is cspulse's service-metric engine: pure event-time
// operators for SPEC §3.1–3.3 with the filters of §3.6. It turns the valid
// events of one task (partition p of every input topic) into full rows of
// cs_agent_hourly, cs_shop_hourly and cs_sessions. It knows nothing of
// Kafka or ClickHouse.
//
// # API
//
//	e := NewEngine(settings)       // one per task; single goroutine, no locks
//	reason, ok := e.Apply(&ev)      // ok=false: late, state gone → dead letter (ReasonLate)
//	e.Advance(watermark)            // event time: timeouts, compaction, finality
//	e.Flush(version, sink)          // every changed row, whole, with version
//	e.Stats()                       // gauges and counters; walks the state
//
// Apply ignores cs.orders (ok=true): sales attribution is another
// operator, which adds its paid_* columns through AddSale (see seams.go).
//
// # The model: a sorted log per session, replayed with a sign
//
// Every session keeps a log of its activity events (session, transfer and
// message events), sorted by (ts, kind, tie-break), 16 bytes per entry.
// All metrics come from one deterministic state machine, step, that walks
// the log and adds each contribution to an hour cell multiplied by a sign.
//
//   - An event that sorts after everything applied (the usual case) is
//     stepped incrementally with sign +1: O(1), no allocation.
//   - Any other event (out of order, late within allowed_lateness, a
//     `started` after the messages, a gap-filling event that reopens a
//     timed-out session) first takes back all of the session's
//     contributions by replaying the old log with sign −1, then goes into
//     the log, and the new log is replayed with sign +1.
//
// The cells therefore always hold exactly what one in-order pass over the
// current logs would give: results cannot depend on arrival order. The
// price is O(session length) per out-of-order event; sessions are short,
// and a measured stream with 10 s cross-topic disorder stays well above
// 1 M events per CPU-second.
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
// session's evaluations and its last assignment: whenever either changes
// the engine retracts the contribution it recorded and adds the new one.
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
// fires early re-arms. Compacted summaries live in a map of their own so
// that the map hit by every event holds only sessions with logs.
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
// it. Final cells are written one last time by Flush and dropped. So a
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
//     next `assigned` or the close. Monologue is judged for the session
//     and removes all of its receptions. Both act at the close, on
//     received_sessions, cs_sessions.received and filtered_by only.
//
// Hours (the SPEC gives most; the rest):
//   - abandoned_sessions: once per session, in the hour of the first
//     `abandoned` that ends an open queue episode.
//   - received_sessions: the hour of the first reception's `assigned`.
//   - agent_msgs: the sender's row, in the group of the sender's latest
//     assignment in the session so far, "" when the sender has none (a
//     supervisor stepping in); the hour of the message.
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
// Evaluations (§3.3): not activity; never in a log. Valid when ts ≤ close +
// rating_window (all, while the session is open); the latest valid one by
// (ts, event_id) is the rating. Credited to its agent_id, else the
// session's last assigned agent, in the group of that agent's last
// assignment in the session ("" if it had none). With no agent at all the
// row shows the score and no agent row counts it. An evaluation for an
// unknown session that is not late is held in a stub (counted nowhere)
// until the session's activity arrives — cross-topic disorder — and is
// dropped as an orphan (Stats.OrphanEvaluations) at watermark > its ts +
// allowed_lateness. One beyond the rating window is ignored while the
// summary is held and late (dead letter) once it is removed.
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
// first_response_ms the first human-phase agent message − the first
// `assigned` (how long the buyer waited for a human answer), −1 when none;
// rating the effective score, 0 none; filtered_by, for a picked session
// without reception, the filters that removed its receptions:
// "agent_single_sentence", "monologue", or both, comma-separated.
//
// # Memory and speed
//
// Measured (bench_test.go, 2026-11, AMD EPYC, shared 2-core VM):
//   - 935 bytes per open typical session (started, queued, assigned, 20
//     messages): a 416-byte struct, a 24-entry log (384 bytes), its ids and
//     its map slot. 539 bytes per compacted summary held for the rating
//     window. Ids of bounded cardinality (shops, agents, groups, channels,
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
// # Seams
//
// SessionListener hears each close (+1) and each taken-back close (−1)
// with a SessionView, including SPEC §3.4's inquiry and §3.5's task, robot
// and intent: the robot operator and the buyer/inquiry side of attribution
// can be built on it without re-deriving sessions. AddSale credits paid
// sales into the rows this engine owns; HoldHour/ReleaseHour keep hours
// open for state held outside it.
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
package operators
