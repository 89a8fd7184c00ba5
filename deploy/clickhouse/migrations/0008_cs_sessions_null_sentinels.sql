-- cs_sessions rows written before 0007 carry the old sentinels: -1 for no
-- first response, 0 for no rating (a real rating is 1..5, a real first
-- response ≥ 0). This mutation makes them NULL like the rows written since.
-- It runs in the background (system.mutations); running it twice changes
-- nothing. Works on ClickHouse 18.16 and 24+.
ALTER TABLE ${database}.cs_sessions
    UPDATE first_response_ms = if(first_response_ms = -1, NULL, first_response_ms),
           rating = if(rating = 0, NULL, rating)
    WHERE first_response_ms = -1 OR rating = 0;
