-- cs_alerts: the history of cs.alerts, one row per alert (SPEC §4.2): a
-- transition of one (rule, scope) between ok and breach, evaluated when
-- the shop's watermark passed the end of a local hour (evaluated_at, the
-- window's end). day is the shop-local day of the evaluated hour.
--
-- An alert never changes; alert_id is deterministic (the same input gives
-- the same id), so a checkpoint inserted again after a crash writes the
-- same row, and FINAL (or DISTINCT alert_id) shows it once:
--
--   SELECT evaluated_at, scope, scope_id, metric, state, value, threshold
--   FROM ${database}.cs_alerts FINAL
--   WHERE shop_id = 's1' AND day >= '2026-01-01'
--   ORDER BY evaluated_at, alert_id
CREATE TABLE IF NOT EXISTS ${database}.cs_alerts
(
    alert_id     String,
    shop_id      String,
    rule         String,
    scope        String,
    scope_id     String,
    group_id     String,
    metric       String,
    alert_window String,
    window_start DateTime('UTC'),
    window_end   DateTime('UTC'),
    value        Float64,
    numerator    Int64,
    denominator  Int64,
    threshold    Float64,
    direction    String,
    state        String,
    evaluated_at DateTime('UTC'),
    day          Date,
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, evaluated_at, alert_id);
