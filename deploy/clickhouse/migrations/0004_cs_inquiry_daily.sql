-- cs_inquiry_daily: one row per (shop_id, day, agent_id); SPEC §3.4.
--
-- day is the shop-local inquiry day. The buyer counts are distinct buyers of
-- that day and agent, so they add up over agents but NOT over days (a buyer
-- may inquire on two days). A day's row keeps changing until its inquiry
-- validity has passed; each change is a new version of the whole row.
--
-- ReplacingMergeTree(version): read with FINAL or argMax over version:
--
--   SELECT agent_id, inquiry_buyers, paid_buyers,
--          paid_buyers / inquiry_buyers AS inquiry_conversion
--   FROM ${database}.cs_inquiry_daily FINAL
--   WHERE shop_id = 's1' AND day = '2026-01-01'
--
--   SELECT agent_id, argMax(paid_amount, version) AS paid_amount
--   FROM ${database}.cs_inquiry_daily
--   WHERE shop_id = 's1' AND day = '2026-01-01'
--   GROUP BY shop_id, day, agent_id
CREATE TABLE IF NOT EXISTS ${database}.cs_inquiry_daily
(
    shop_id        String,
    agent_id       String,
    day            Date,
    inquiry_buyers UInt64,
    ordered_buyers UInt64,
    paid_buyers    UInt64,
    paid_amount    Int64,
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, day, agent_id);
