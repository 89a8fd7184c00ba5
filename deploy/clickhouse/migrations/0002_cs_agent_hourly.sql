-- cs_agent_hourly: one row per (shop_id, hour, group_id, agent_id); SPEC §3.1-3.4.
--
-- hour        UTC instant of the start of the shop-local hour
-- day         shop-local date of that hour; hour_of_day its local hour 0-23
-- *_window    counted only in the local 08:00-23:00 window (SPEC §2)
-- paid_amount fen (minor units), credited at payment
--
-- The pipeline writes the whole current row each time it changes, with a
-- larger version; ReplacingMergeTree(version) keeps the highest version per
-- ORDER BY key once parts merge. Until then older versions are still stored,
-- so every read must collapse them:
--
--   SELECT day, agent_id,
--          sum(replied_3min_window) / sum(buyer_msgs_window) AS reply_3min_rate
--   FROM ${database}.cs_agent_hourly FINAL
--   WHERE shop_id = 's1' AND day BETWEEN '2026-01-01' AND '2026-01-07'
--   GROUP BY day, agent_id
--
-- or, without FINAL, argMax over version per key, then aggregate:
--
--   SELECT agent_id, sum(b) AS buyer_msgs FROM (
--     SELECT agent_id, argMax(buyer_msgs, version) AS b
--     FROM ${database}.cs_agent_hourly WHERE shop_id = 's1'
--     GROUP BY shop_id, hour, group_id, agent_id)
--   GROUP BY agent_id
--
-- Never PREWHERE together with FINAL: PREWHERE filters before the versions
-- collapse and can resurrect an old version. All columns are additive, so
-- any rollup is a sum. The partition key is a function of the ORDER BY key
-- (day follows from hour), so all versions of a row share a partition.
CREATE TABLE IF NOT EXISTS ${database}.cs_agent_hourly
(
    shop_id               String,
    group_id              String,
    agent_id              String,
    hour                  DateTime('UTC'),
    day                   Date,
    hour_of_day           UInt8,
    buyer_msgs            UInt64,
    buyer_msgs_window     UInt64,
    replied_3min_window   UInt64,
    replied_msgs          UInt64,
    response_ms_sum       UInt64,
    agent_msgs            UInt64,
    session_pairs_window  UInt64,
    session_pairs_3min_ok UInt64,
    assignments           UInt64,
    picked_assignments    UInt64,
    first_response_ms_sum UInt64,
    first_response_count  UInt64,
    wait_ms_sum           UInt64,
    wait_count            UInt64,
    ratings_window        UInt64,
    satisfied_window      UInt64,
    ratings               UInt64,
    satisfied             UInt64,
    paid_orders           UInt64,
    paid_amount           Int64,
    version               UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, hour, group_id, agent_id);
