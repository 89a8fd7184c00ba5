-- cs_sessions: "no first response" and "no rating" become NULL instead of
-- the sentinels -1 and 0, so that avg(first_response_ms) and avg(rating)
-- are right without a WHERE (aggregates skip NULL), and count(rating)
-- counts the rated sessions.
--
-- Runs on ClickHouse 18.16 and 24+: MODIFY COLUMN to Nullable converts
-- the existing parts; 0008 turns the old sentinels into NULL. Neither
-- column is part of the sorting key, which Nullable columns cannot be.
ALTER TABLE ${database}.cs_sessions
    MODIFY COLUMN first_response_ms Nullable(Int64),
    MODIFY COLUMN rating Nullable(UInt8);
