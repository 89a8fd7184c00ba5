-- cs_robot_hourly: one row per (shop_id, hour, task_id, robot_id, intent);
-- SPEC §3.5. hour is the UTC instant of the shop-local hour's start; intent
-- is the level at `ended` ('' while unknown).
--
-- ReplacingMergeTree(version): read with FINAL or argMax over version. Week
-- rollups use toMonday(day): toStartOfWeek does not exist on 18.16.
--
--   SELECT toMonday(day) AS week, task_id, intent,
--          sum(calls) AS calls, sum(connected) AS connected
--   FROM ${database}.cs_robot_hourly FINAL
--   WHERE shop_id = 's1'
--   GROUP BY week, task_id, intent ORDER BY week, task_id, intent
--
--   SELECT task_id, robot_id, sum(c) AS calls FROM (
--     SELECT task_id, robot_id, argMax(calls, version) AS c
--     FROM ${database}.cs_robot_hourly WHERE shop_id = 's1'
--     GROUP BY shop_id, hour, task_id, robot_id, intent)
--   GROUP BY task_id, robot_id
CREATE TABLE IF NOT EXISTS ${database}.cs_robot_hourly
(
    shop_id     String,
    task_id     String,
    robot_id    String,
    hour        DateTime('UTC'),
    day         Date,
    hour_of_day UInt8,
    intent      String,
    calls       UInt64,
    connected   UInt64,
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, hour, task_id, robot_id, intent);
