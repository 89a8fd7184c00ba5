// Package generator makes realistic, seeded synthetic input for cspulse:
// the five event topics of SPEC §1 as a Taobao/Douyin shop's customer
// service produces them, for tests, demos and the whole-path benchmark.
//
// # Use
//
//	cfg := generator.DefaultConfig()
//	cfg.Shops, cfg.Days = 50, 7
//	stats, err := generator.Generate(ctx, cfg, func(r *generator.Record) error {
//		return producer.Produce(r.Topic, r.Key, r.Value, r.TS) // copy Key/Value if kept
//	})
//
// Generate streams: records come out as they become due, memory depends on
// shops and sessions per day but not on the number of days
// (Stats.MaxPending). The Record passed to emit and its byte slices are
// reused after emit returns.
//
// # Guarantees
//
//   - Deterministic: the same Config gives the same records, byte for byte,
//     with every Go version (the package has its own random generator).
//     Changing only Disorder, DuplicateRate, PoisonRate or LateRate changes
//     the order and the extras, not the traffic; a shop's events do not
//     depend on how many other shops the run has.
//   - Bounded disorder: every record's ts is ≥ the largest ts emitted before
//     it minus Config.Disorder (except events chosen by LateRate, which come
//     LateBy after their ts). The bound holds per topic and per shop too.
//   - Valid: every record passes schemas.Decoder, except poison, which is
//     marked in Record.Poison with the dead-letter reason it must get.
//   - The run's output extends past its last local day: ratings come up to
//     a day (rarely 30 h) after a session closes, and orders up to three
//     days after an inquiry, paid up to a day later.
//
// # Ids
//
// Shops "shop-0001"…, agents "shop-0001-a01"… (a00 is the shop's supervisor
// account, never assigned), groups "pre-sales" and "after-sales", buyers
// "shop-0001-b17" (b0 is the shop's test account), sessions
// "shop-0001-s42", orders "shop-0001-o7", robot tasks "task-07" and robots
// "robot-2". event_id is "<shop>-<10 hex digits>", numbered per shop in the
// order the generator made the events, so that for two events of one
// session with the same ts (a re-dispatch, a re-rating) the later one has
// the larger id, as SPEC §2 breaks ties. Poison records carry ids of their
// own, "<shop>-x<10 hex digits>".
//
// # Traffic
//
// Per shop and local day (each shop in its own zone, see Config.ShopZones):
// sessions arrive as a Poisson process following a daily curve (quiet
// nights, peaks 10–12 and 20–22, some at 07:xx and 23:xx, some running past
// midnight), a little busier at weekends; shop sizes vary around
// SessionsPerShopDay. About 91 % of sessions are opened by buyers, 4.5 % by
// agents (proactive, 08–23) and 4 % are robot outbound calls (09–20).
//
// A buyer session: started, a few questions to the robot, then ~60 % ask
// for a human: queued in a group, assigned after seconds (sometimes
// minutes, a few over 10 min) or abandoned (~5 %). The human phase is a
// conversation of bursts of 1–4 buyer messages answered in 10–90 s mostly,
// sometimes after 3 min or never; ~5 % have a transfer mid-burst; some are
// a single agent sentence, a monologue, or a buyer nobody answers. ~80 %
// end with ended, the rest time out. Then ~30 % are rated (5 % re-rated),
// and buyers who got answers order (and mostly pay) the same day or the
// next; some first ask a second agent, some order, ask again, then pay.
// Orders of buyers who never asked anyone come on top (silent sales).
//
// Edge cases of the spec are produced on purpose, at low rates: buyer
// messages exactly on 08:00:00.000 and 23:00:00.000 local (and 1 ms
// before), replies exactly 180 000 and 180 001 ms after a message, a gap of
// exactly session_timeout (30 min), events after a session's close, two
// assigned or two evaluations with the same ts, ratings after the 24 h
// rating window, orders after the inquiry has expired, adverts (is_ad),
// supervisor and test-account traffic for the account filters, absent
// optional fields (channel, content_type, group_id, intent).
//
// # Files
//
// WriteFiles and ReadFiles store records as JSON lines, one file per topic;
// see the comment in files.go for the format. testdata/samples holds small
// fixed runs made that way.
package generator
