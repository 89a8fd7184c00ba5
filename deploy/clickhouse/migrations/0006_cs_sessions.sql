-- cs_sessions: one row per closed session (明细), key (shop_id, session_id).
--
-- started_at/ended_at are UTC at second precision, *_ms the exact epoch
-- milliseconds (18.16 has no DateTime64). day is the shop-local day of the
-- start. first_response_ms is -1 when no agent answered; rating 0 = none;
-- close_reason is 'ended' or 'timeout'; filtered_by names the reception
-- filter that removed the session ('' when none).
--
-- ReplacingMergeTree(version) deduplicates only inside a partition, so a
-- session's day must never change between versions (it is the day of the
-- start, fixed when the session is first written). argMax over version
-- groups across partitions and is exact either way.
--
--   SELECT session_id, last_agent_id, duration_ms, rating
--   FROM ${database}.cs_sessions FINAL
--   WHERE shop_id = 's1' AND day = '2026-01-01' AND rating BETWEEN 1 AND 3
--
--   SELECT session_id, argMax(rating, version) AS last_rating
--   FROM ${database}.cs_sessions WHERE shop_id = 's1'
--   GROUP BY shop_id, session_id
CREATE TABLE IF NOT EXISTS ${database}.cs_sessions
(
    shop_id           String,
    session_id        String,
    buyer_id          String,
    origin            String,
    channel           String,
    started_at        DateTime('UTC'),
    started_at_ms     Int64,
    ended_at          DateTime('UTC'),
    ended_at_ms       Int64,
    duration_ms       Int64,
    day               Date,
    close_reason      String,
    last_agent_id     String,
    agent_ids         Array(String),
    group_id          String,
    buyer_msgs        UInt32,
    agent_msgs        UInt32,
    robot_msgs        UInt32,
    queued            UInt8,
    abandoned         UInt8,
    queue_wait_ms     Int64,
    first_response_ms Int64,
    picked            UInt8,
    received          UInt8,
    rating            UInt8,
    filtered_by       String,
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, session_id);
