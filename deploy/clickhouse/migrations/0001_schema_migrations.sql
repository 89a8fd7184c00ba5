-- schema_migrations: the migration runner's own record (sinks.Migrate).
-- One row per applied file: version (the NNNN prefix), name, and the
-- SHA-256 of the file's statements (comments excluded).
--
-- Several instances may migrate one database at once (ClickHouse has no
-- transactions or locks), so a file can be recorded more than once. That
-- is harmless: the runner reads SELECT DISTINCT version, name, checksum,
-- and ReplacingMergeTree drops exact duplicates when parts merge. The key
-- holds the checksum, so two different files recorded under one version
-- (two schemas racing) stay visible and stop the runner.
--
-- Until 2026-12 this table was a plain MergeTree ORDER BY version; the
-- runner still accepts that statement's checksum for version 1 and reads
-- both engines alike.
--
-- Read: SELECT DISTINCT version, name, checksum
--       FROM ${database}.schema_migrations ORDER BY version
--
-- ${database} is replaced by the runner with the target database.
CREATE TABLE IF NOT EXISTS ${database}.schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (version, name, checksum);
