-- cs_shop_hourly: one row per (shop_id, hour); SPEC §3.2 and §3.4.
--
-- hour is the UTC instant of the start of the shop-local hour, day and
-- hour_of_day are shop-local. Amounts in fen; paid_amount_agents +
-- paid_amount_silent = paid_amount_total.
--
-- ReplacingMergeTree(version): read with FINAL (or argMax over version per
-- key), never with PREWHERE:
--
--   SELECT day,
--          sum(transferred_picked_sessions) / sum(transferred_sessions) AS pickup_rate,
--          sum(paid_amount_silent) AS silent_sales
--   FROM ${database}.cs_shop_hourly FINAL
--   WHERE shop_id = 's1' AND hour_of_day BETWEEN 9 AND 17
--   GROUP BY day ORDER BY day
--
--   SELECT shop_id, hour, argMax(consult_sessions, version) AS consult
--   FROM ${database}.cs_shop_hourly GROUP BY shop_id, hour
CREATE TABLE IF NOT EXISTS ${database}.cs_shop_hourly
(
    shop_id                     String,
    hour                        DateTime('UTC'),
    day                         Date,
    hour_of_day                 UInt8,
    consult_sessions            UInt64,
    transferred_sessions        UInt64,
    transferred_picked_sessions UInt64,
    received_sessions           UInt64,
    abandoned_sessions          UInt64,
    buyer_msgs                  UInt64,
    agent_msgs                  UInt64,
    paid_amount_total           Int64,
    paid_amount_agents          Int64,
    paid_amount_silent          Int64,
    paid_orders                 UInt64,
    version                     UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, hour);
