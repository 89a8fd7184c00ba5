-- cs_agent_rankings: the agents' performance ranking (绩效排名, SPEC §4.3),
-- one row per (shop_id, day, scope, group_id, agent_id). scope 'shop'
-- ranks every agent of the shop (group_id ''), scope 'group' the agents of
-- one group by their figures in that group. day is the shop-local day; the
-- current day's rows change as its figures do, the previous day's stay
-- current until its figures are final. Each change is a new version of
-- the whole row; read with FINAL.
--
-- ranked = 1: the agent had a reception that day in that scope. A row with
-- ranked = 0 is an agent whose reception was taken back by a late event:
-- filter it out. For each of the four metrics: the value, its rank
-- (1 = best; ties share the smallest rank), the mean over the ranked
-- agents, and the rank change against the previous day's rank (positive =
-- moved up; NULL when the agent had no rank that day). A rate is NULL,
-- and unranked, when the agent had nothing to measure.
--
--   SELECT agent_id, received_buyers, received_buyers_rank,
--          received_buyers_rank_change
--   FROM ${database}.cs_agent_rankings FINAL
--   WHERE shop_id = 's1' AND day = '2026-01-05' AND scope = 'shop' AND ranked = 1
--   ORDER BY received_buyers_rank, agent_id
CREATE TABLE IF NOT EXISTS ${database}.cs_agent_rankings
(
    shop_id                            String,
    day                                Date,
    scope                              String,
    group_id                           String,
    agent_id                           String,
    ranked                             UInt8,
    agents                             UInt32,
    received_buyers                    UInt64,
    received_buyers_rank               Nullable(UInt32),
    received_buyers_mean               Nullable(Float64),
    received_buyers_rank_change        Nullable(Int32),
    reply_3min_rate_session            Nullable(Float64),
    reply_3min_rate_session_rank       Nullable(UInt32),
    reply_3min_rate_session_mean       Nullable(Float64),
    reply_3min_rate_session_rank_change Nullable(Int32),
    session_pairs_window               UInt64,
    session_pairs_3min_ok              UInt64,
    satisfaction_rate                  Nullable(Float64),
    satisfaction_rate_rank             Nullable(UInt32),
    satisfaction_rate_mean             Nullable(Float64),
    satisfaction_rate_rank_change      Nullable(Int32),
    ratings_window                     UInt64,
    satisfied_window                   UInt64,
    received_sessions                  UInt64,
    received_sessions_rank             Nullable(UInt32),
    received_sessions_mean             Nullable(Float64),
    received_sessions_rank_change      Nullable(Int32),
    version                            UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, day, scope, group_id, agent_id);
