-- schema_migrations: the migration runner's own record (sinks.Migrate).
-- One row per applied file: version (the NNNN prefix), name, and the
-- SHA-256 of the file's statements (comments excluded). The runner reads
-- every row and groups by version itself, so a duplicate row left by two
-- instances migrating at once is harmless.
--
-- Plain MergeTree, not TinyLog: TinyLog has no concurrent reads and
-- writes, and MergeTree ... ORDER BY runs on ClickHouse 18.16 and 24+.
--
-- Read: SELECT version, name, checksum, applied_at
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
ENGINE = MergeTree
ORDER BY version;
