-- cs_exclusive_daily: one row per (shop_id, day, agent_id); SPEC §3.7,
-- exclusive customers and proactive follow-up (专属客服).
--
-- day is the shop-local day. customers is a stock (exclusive customers of
-- the agent at the end of the day): never sum it over days, take the last
-- day's value. Every other column counts what happened on that day; the
-- customer counts (sent_customers … bought_customers) are distinct buyers
-- of that day and agent, so they add up over agents but NOT over days.
-- guided_amount is in fen. A day's row keeps changing until the day is
-- final (its end + allowed_lateness, or later while a session of the day
-- is open); each change is a new version of the whole row.
--
-- ReplacingMergeTree(version): read with FINAL or argMax over version:
--
--   SELECT agent_id, sent_customers, read_customers, guided_orders, guided_amount
--   FROM ${database}.cs_exclusive_daily FINAL
--   WHERE shop_id = 's1' AND day = '2026-01-01'
--
--   SELECT agent_id, argMax(guided_amount, version) AS guided_amount
--   FROM ${database}.cs_exclusive_daily
--   WHERE shop_id = 's1' AND day = '2026-01-01'
--   GROUP BY shop_id, day, agent_id
CREATE TABLE IF NOT EXISTS ${database}.cs_exclusive_daily
(
    shop_id           String,
    agent_id          String,
    day               Date,
    customers         UInt64,
    ended             UInt64,
    invited           UInt64,
    accepted          UInt64,
    rejected          UInt64,
    sent_customers    UInt64,
    read_customers    UInt64,
    replied_customers UInt64,
    visited_customers UInt64,
    bought_customers  UInt64,
    guided_orders     UInt64,
    guided_amount     Int64,
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, day, agent_id);
