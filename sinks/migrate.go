package sinks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.uber.org/zap"

	deploych "github.com/cspulse/cspulse/deploy/clickhouse"
)

// DatabasePlaceholder stands for the target database in migration files.
// The native protocol has no per-query database, and a connection's
// default database must exist before the handshake, so every statement
// names its tables as ${database}.table.
const DatabasePlaceholder = "${database}"

// migrationsTable is created by migration 0001 and read by the runner.
const migrationsTable = "schema_migrations"

var (
	migrationFileRE = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)
	identifierRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// legacyChecksums are earlier statements of a file that databases may have
// been migrated with and that are still equivalent for the runner: version
// 1 was a plain MergeTree ORDER BY version before it became a
// ReplacingMergeTree keyed by (version, name, checksum). The runner reads
// both with SELECT DISTINCT.
var legacyChecksums = map[uint32][]string{
	1: {"281521cd33367b42b85431fca27232232754155a1b478933cacc771bba56eb76"},
}

// migration is one parsed NNNN_name.sql file.
type migration struct {
	version    uint32
	file       string
	statements []string
	checksum   string
}

// appliedMigration is a row of schema_migrations.
type appliedMigration struct {
	name     string
	checksum string
}

// Migrate brings database up to date with the migrations embedded from
// deploy/clickhouse/migrations: it creates the database when missing and
// applies, in version order, every file not yet recorded in
// schema_migrations. It returns how many files it applied (0 when the
// schema was current). A recorded file whose statements changed is an error
// naming the file: applied DDL is never silently different from the repo.
func Migrate(ctx context.Context, conn driver.Conn, database string, log *zap.Logger) (applied int, err error) {
	fsys, err := fs.Sub(deploych.Migrations, "migrations")
	if err != nil {
		return 0, fmt.Errorf("embedded migrations: %w", err)
	}
	return MigrateFS(ctx, conn, database, fsys, log)
}

// MigrateFS is Migrate over the NNNN_name.sql files at the root of fsys.
//
// ClickHouse has no DDL transactions and no locks, so every statement must
// be safe to run again — after a failure half way through a file (a file is
// recorded only after all its statements succeeded) and by several
// instances migrating one database at the same moment:
//
//   - CREATE needs IF NOT EXISTS and DROP TABLE needs IF EXISTS; a file
//     without them is rejected when loaded;
//   - ALTER TABLE ... ADD COLUMN / DROP COLUMN (one column per statement;
//     18.16 has no IF [NOT] EXISTS there) is made idempotent by the runner:
//     it looks the column up in system.columns first, skips the statement
//     when it is already done, and accepts "already exists" / "cannot find
//     column" from a racing instance once system.columns shows the result;
//   - a file may be recorded by two instances; schema_migrations is read
//     with SELECT DISTINCT, so the duplicate changes nothing.
func MigrateFS(ctx context.Context, conn driver.Conn, database string, fsys fs.FS, log *zap.Logger) (applied int, err error) {
	return migrateNode(ctx, conn, database, clusterDDL{}, fsys, log)
}

// migrateNode migrates one server. With a cluster, every table but
// schema_migrations becomes <table>_local plus a Distributed <table>
// (clusterStatements); schema_migrations records this server's own
// history.
func migrateNode(ctx context.Context, conn driver.Conn, database string, cluster clusterDDL, fsys fs.FS, log *zap.Logger) (applied int, err error) {
	if log == nil {
		log = zap.NewNop()
	}
	if !identifierRE.MatchString(database) {
		return 0, fmt.Errorf("migrate: database name %q is not a plain identifier", database)
	}
	migrations, err := loadMigrations(fsys)
	if err != nil {
		return 0, fmt.Errorf("migrate %s: %w", database, err)
	}
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+database); err != nil {
		return 0, fmt.Errorf("migrate: create database %s: %w", database, err)
	}
	done, err := readApplied(ctx, conn, database)
	if err != nil {
		return 0, fmt.Errorf("migrate %s: %w", database, err)
	}
	if err := checkApplied(migrations, done, log); err != nil {
		return 0, fmt.Errorf("migrate %s: %w", database, err)
	}
	for _, m := range migrations {
		if _, ok := done[m.version]; ok {
			continue
		}
		if err := applyMigration(ctx, conn, database, cluster, m); err != nil {
			return applied, fmt.Errorf("migrate %s: %w", database, err)
		}
		applied++
		log.Info("applied clickhouse migration", zap.String("database", database),
			zap.String("file", m.file), zap.Int("statements", len(m.statements)))
	}
	return applied, nil
}

// loadMigrations reads and parses every .sql file of fsys, ordered by
// version. A .sql file with a malformed name is an error rather than being
// skipped, so a typo cannot silently leave a table out.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	seen := map[uint32]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m, err := loadMigration(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[m.version]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, m.file, m.version)
		}
		seen[m.version] = m.file
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.New("no migration files")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

func loadMigration(fsys fs.FS, file string) (migration, error) {
	match := migrationFileRE.FindStringSubmatch(file)
	if match == nil {
		return migration{}, fmt.Errorf("migration file %s: name is not NNNN_lower_snake.sql", file)
	}
	version, err := strconv.ParseUint(match[1], 10, 32)
	if err != nil {
		return migration{}, fmt.Errorf("migration file %s: version: %w", file, err)
	}
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		return migration{}, fmt.Errorf("migration file %s: %w", file, err)
	}
	stmts := splitStatements(string(src))
	if len(stmts) == 0 {
		return migration{}, fmt.Errorf("migration file %s: no statements", file)
	}
	for i, s := range stmts {
		// Without the placeholder a table would land in the connection's
		// default database, far from the tables that read it.
		if !strings.Contains(s, DatabasePlaceholder+".") {
			return migration{}, fmt.Errorf("migration file %s: statement %d does not name %s.<table>", file, i+1, DatabasePlaceholder)
		}
		if err := checkIdempotent(s); err != nil {
			return migration{}, fmt.Errorf("migration file %s: statement %d: %w", file, i+1, err)
		}
	}
	return migration{version: uint32(version), file: file, statements: stmts, checksum: checksum(stmts)}, nil
}

// splitStatements cuts a file into statements at lines ending in ';' (the
// native protocol of 18.16 takes one statement per query). Whole-line "--"
// comments and blank lines are dropped, so a ';' ending a comment line does
// not split and comments stay out of the checksum.
func splitStatements(src string) []string {
	var stmts []string
	var cur strings.Builder
	flush := func() {
		s := strings.TrimSpace(cur.String())
		s = strings.TrimSpace(strings.TrimSuffix(s, ";"))
		if s != "" {
			stmts = append(stmts, s)
		}
		cur.Reset()
	}
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimRight(line, " \t\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			flush()
		}
	}
	flush()
	return stmts
}

// checksum covers the statements only: editing a file's comments (its
// documentation) does not invalidate a database migrated with it.
func checksum(stmts []string) string {
	sum := sha256.Sum256([]byte(strings.Join(stmts, ";\n")))
	return hex.EncodeToString(sum[:])
}

// readApplied returns schema_migrations by version, or nothing when the
// table does not exist yet (migration 0001 creates it).
func readApplied(ctx context.Context, conn driver.Conn, database string) (map[uint32]appliedMigration, error) {
	var n uint64
	err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?",
		database, migrationsTable).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", migrationsTable, err)
	}
	done := map[uint32]appliedMigration{}
	if n == 0 {
		return done, nil
	}
	// DISTINCT: a file recorded by two instances at once is one row here.
	rows, err := conn.Query(ctx, "SELECT DISTINCT version, name, checksum FROM "+database+"."+migrationsTable)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", migrationsTable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v uint32
		var a appliedMigration
		if err := rows.Scan(&v, &a.name, &a.checksum); err != nil {
			return nil, fmt.Errorf("scan %s: %w", migrationsTable, err)
		}
		// Different rows for one version mean two schemas raced.
		if prev, ok := done[v]; ok && prev != a {
			return nil, fmt.Errorf("%s has conflicting rows for version %d: %s and %s", migrationsTable, v, prev.name, a.name)
		}
		done[v] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", migrationsTable, err)
	}
	return done, nil
}

// checkApplied fails when an applied file was edited or renamed. Versions
// recorded but absent from the files only warn: an older binary may still
// run against a schema that a newer one extended.
func checkApplied(migrations []migration, done map[uint32]appliedMigration, log *zap.Logger) error {
	known := make(map[uint32]bool, len(migrations))
	for _, m := range migrations {
		known[m.version] = true
		a, ok := done[m.version]
		if !ok {
			continue
		}
		if a.name != m.file {
			return fmt.Errorf("migration %s: version %d was applied as %s; applied migrations must not be renamed", m.file, m.version, a.name)
		}
		if a.checksum != m.checksum && !isLegacyChecksum(m.version, a.checksum) {
			return fmt.Errorf("migration %s was changed after it was applied (checksum %s, applied %s); add a new migration instead",
				m.file, m.checksum[:12], a.checksum[:min(12, len(a.checksum))])
		}
	}
	for v, a := range done {
		if !known[v] {
			log.Warn("database has a migration this binary does not know", zap.Uint32("version", v), zap.String("file", a.name))
		}
	}
	return nil
}

func isLegacyChecksum(version uint32, sum string) bool {
	for _, legacy := range legacyChecksums[version] {
		if sum == legacy {
			return true
		}
	}
	return false
}

func applyMigration(ctx context.Context, conn driver.Conn, database string, cluster clusterDDL, m migration) error {
	for i, stmt := range m.statements {
		stmts := []string{stmt}
		if cluster.name != "" {
			var err error
			if stmts, err = clusterStatements(stmt, cluster); err != nil {
				return fmt.Errorf("migration %s statement %d: %w", m.file, i+1, err)
			}
		}
		for _, s := range stmts {
			if err := execIdempotent(ctx, conn, database, s); err != nil {
				return fmt.Errorf("migration %s statement %d: %w", m.file, i+1, err)
			}
		}
	}
	// Another instance may have finished this file meanwhile: one record is
	// enough (a second one, from a closer race, is harmless).
	var recorded uint64
	err := conn.QueryRow(ctx, "SELECT count() FROM "+database+"."+migrationsTable+" WHERE version = ? AND checksum = ?",
		m.version, m.checksum).Scan(&recorded)
	if err != nil {
		return fmt.Errorf("record migration %s: %w", m.file, err)
	}
	if recorded > 0 {
		return nil
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+database+"."+migrationsTable+" (version, name, checksum, applied_at)")
	if err != nil {
		return fmt.Errorf("record migration %s: %w", m.file, err)
	}
	if err := batch.Append(m.version, m.file, m.checksum, time.Now().UTC()); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("record migration %s: %w", m.file, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("record migration %s: %w", m.file, err)
	}
	return nil
}

var (
	createRE = regexp.MustCompile(`(?is)^CREATE\s+(?:MATERIALIZED\s+VIEW|VIEW|TABLE|DATABASE|DICTIONARY)\s+(IF\s+NOT\s+EXISTS\s+)?`)
	dropRE   = regexp.MustCompile(`(?is)^DROP\s+(?:TABLE|VIEW|DATABASE|DICTIONARY)\s+(IF\s+EXISTS\s+)?`)
	// columnAlterRE is a one-column ADD or DROP: table, action, the
	// optional IF [NOT] EXISTS, column, rest (the type and options).
	columnAlterRE = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(\S+)\s+(?:ON\s+CLUSTER\s+\S+\s+)?(ADD|DROP)\s+COLUMN\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?` + "`?" + `([A-Za-z_][A-Za-z0-9_]*)` + "`?" + `(.*)$`)
	// anotherActionRE finds a second action in one ALTER.
	anotherActionRE = regexp.MustCompile(`(?is),\s*(?:ADD|DROP|MODIFY|CLEAR|COMMENT|RENAME)\s+COLUMN\b`)
	// typeEndRE ends the type of an ADD COLUMN at its first option.
	typeEndRE = regexp.MustCompile(`(?is)\s(?:DEFAULT|MATERIALIZED|ALIAS|COMMENT|CODEC|AFTER|FIRST|TTL)\b`)
)

// checkIdempotent rejects statements that fail or differ when run twice.
func checkIdempotent(stmt string) error {
	if m := createRE.FindStringSubmatch(stmt); m != nil && m[1] == "" {
		return errors.New("CREATE without IF NOT EXISTS: a migration may run again (after a failure, or from another instance at the same time)")
	}
	if m := dropRE.FindStringSubmatch(stmt); m != nil && m[1] == "" {
		return errors.New("DROP without IF EXISTS: a migration may run again (after a failure, or from another instance at the same time)")
	}
	if m := columnAlterRE.FindStringSubmatch(stmt); m != nil && anotherActionRE.MatchString(m[5]) {
		return errors.New("ALTER with more than one column action: write one ADD/DROP COLUMN per statement, so the runner can tell which are done")
	}
	return nil
}

// columnChange is a one-column ADD or DROP COLUMN statement.
type columnChange struct {
	table, column, typ string
	add                bool
}

func parseColumnChange(stmt string) (columnChange, bool) {
	m := columnAlterRE.FindStringSubmatch(stmt)
	if m == nil {
		return columnChange{}, false
	}
	c := columnChange{table: m[1], column: m[4], add: strings.EqualFold(m[2], "ADD")}
	if c.add {
		typ := m[5]
		if loc := typeEndRE.FindStringIndex(typ); loc != nil {
			typ = typ[:loc[0]]
		}
		c.typ = strings.TrimSpace(typ)
	}
	return c, true
}

// execIdempotent runs one statement of a migration. ADD and DROP COLUMN are
// skipped when system.columns shows them done, and their "already exists"
// (ClickHouse code 44) is accepted when an instance racing this one did
// the same change in between.
func execIdempotent(ctx context.Context, conn driver.Conn, database, stmt string) error {
	sql := strings.ReplaceAll(stmt, DatabasePlaceholder, database)
	change, ok := parseColumnChange(sql)
	if !ok {
		return conn.Exec(ctx, sql)
	}
	done, err := columnChangeDone(ctx, conn, change)
	if err != nil || done {
		return err
	}
	// 18.16 cannot parse IF [NOT] EXISTS in ALTER; the lookup above does
	// its job, so the clause is dropped.
	if m := columnAlterRE.FindStringSubmatchIndex(sql); m != nil && m[6] >= 0 {
		sql = sql[:m[6]] + sql[m[7]:]
	}
	execErr := conn.Exec(ctx, sql)
	if execErr == nil {
		return nil
	}
	var ex *clickhouse.Exception
	if !errors.As(execErr, &ex) || ex.Code != 44 {
		return execErr
	}
	// "Already exists": a racing instance added the column. Look again
	// to refuse one of another type; a column gone again was dropped by a
	// later migration that instance has run since, which is fine too.
	done, err = columnChangeDone(ctx, conn, change)
	switch {
	case err != nil:
		return err
	case done || change.add:
		return nil
	}
	return execErr
}

// columnChangeDone reports whether an ADD COLUMN's column exists (with the
// statement's type: a different one is an error, not a skip) or a DROP
// COLUMN's column is gone.
func columnChangeDone(ctx context.Context, conn driver.Conn, c columnChange) (bool, error) {
	db, table, ok := strings.Cut(c.table, ".")
	if !ok {
		return false, fmt.Errorf("ALTER TABLE %s: name the table as ${database}.table", c.table)
	}
	var types []string
	rows, err := conn.Query(ctx, "SELECT type FROM system.columns WHERE database = ? AND table = ? AND name = ?",
		strings.Trim(db, "`"), strings.Trim(table, "`"), c.column)
	if err != nil {
		return false, fmt.Errorf("look up column %s.%s: %w", c.table, c.column, err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ string
		if err := rows.Scan(&typ); err != nil {
			return false, fmt.Errorf("look up column %s.%s: %w", c.table, c.column, err)
		}
		types = append(types, typ)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("look up column %s.%s: %w", c.table, c.column, err)
	}
	if !c.add {
		return len(types) == 0, nil
	}
	if len(types) == 0 {
		return false, nil
	}
	if c.typ != "" && squeeze(types[0]) != squeeze(c.typ) {
		return false, fmt.Errorf("column %s.%s exists with type %s, the migration adds it as %s", c.table, c.column, types[0], c.typ)
	}
	return true, nil
}

// squeeze drops white space, so "DateTime( 'UTC' )" equals "DateTime('UTC')".
func squeeze(s string) string {
	return strings.Join(strings.Fields(s), "")
}

var (
	clusterCreateRE = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+\$\{database\}\.([A-Za-z_][A-Za-z0-9_]*)(\s.*)$`)
	clusterAlterRE  = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+\$\{database\}\.([A-Za-z_][A-Za-z0-9_]*)(\s.*)$`)
	shopIDColumnRE  = regexp.MustCompile(`(?m)^\s*shop_id\s+String\b`)
	mutationRE      = regexp.MustCompile(`(?is)^\s*(UPDATE|DELETE)\b`)
	// replacingEngineRE finds a table's ReplacingMergeTree(version).
	replacingEngineRE = regexp.MustCompile(`ENGINE\s*=\s*ReplacingMergeTree\(([^)]*)\)`)
)

// LocalTableSuffix names a cluster's per-shard tables: cs_sessions is the
// Distributed table that readers and the writer use, cs_sessions_local
// holds each shard's rows.
const LocalTableSuffix = "_local"

// clusterDDL is how migrations are rewritten for a cluster: its name
// (empty: one server) and whether its shards have replicas.
type clusterDDL struct {
	name       string
	replicated bool
}

// clusterStatements rewrites one statement of a migration file (written
// for one server) for a node of a cluster:
//
//   - CREATE TABLE IF NOT EXISTS ${database}.t (...) ENGINE = ... becomes
//     the same table as t_local, and t as a Distributed table over the
//     cluster's t_local tables sharded by cityHash64(shop_id): a shop's
//     rows, every version of them, live on one shard, so FINAL and argMax
//     collapse versions there and every sum adds up across shards; with
//     replicas, t_local's ReplacingMergeTree(v) becomes
//     ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/t_local',
//     '{replica}', v), the servers' macros naming shard and replica;
//   - ALTER TABLE ${database}.t ... runs on t_local, then on t; a mutation
//     (ALTER TABLE … UPDATE / DELETE) on t_local only;
//   - schema_migrations stays a table of this node.
//
// Other statements are refused: a file must say how it shards.
func clusterStatements(stmt string, c clusterDDL) ([]string, error) {
	cluster := c.name
	if m := clusterCreateRE.FindStringSubmatch(stmt); m != nil {
		table, rest := m[1], m[2]
		if table == migrationsTable {
			return []string{stmt}, nil
		}
		if !shopIDColumnRE.MatchString(rest) {
			return nil, fmt.Errorf("table %s has no shop_id String column to shard by (clickhouse.cluster)", table)
		}
		if c.replicated {
			engine := replacingEngineRE.FindStringSubmatchIndex(rest)
			if engine == nil {
				return nil, fmt.Errorf("table %s: clickhouse.replicated needs ENGINE = ReplacingMergeTree(version)", table)
			}
			path := "'/clickhouse/tables/{shard}/" + DatabasePlaceholder + "/" + table + LocalTableSuffix + "'"
			rest = rest[:engine[0]] + "ENGINE = ReplicatedReplacingMergeTree(" + path + ", '{replica}', " +
				rest[engine[2]:engine[3]] + ")" + rest[engine[1]:]
		}
		local := DatabasePlaceholder + "." + table + LocalTableSuffix
		return []string{
			"CREATE TABLE IF NOT EXISTS " + local + rest,
			"CREATE TABLE IF NOT EXISTS " + DatabasePlaceholder + "." + table + " AS " + local +
				"\nENGINE = Distributed(" + cluster + ", " + DatabasePlaceholder + ", " + table + LocalTableSuffix + ", cityHash64(shop_id))",
		}, nil
	}
	if m := clusterAlterRE.FindStringSubmatch(stmt); m != nil {
		table, rest := m[1], m[2]
		if table == migrationsTable {
			return []string{stmt}, nil
		}
		local := "ALTER TABLE " + DatabasePlaceholder + "." + table + LocalTableSuffix + rest
		if mutationRE.MatchString(rest) {
			return []string{local}, nil // rows live in the local tables; a Distributed table has none to mutate
		}
		return []string{local, "ALTER TABLE " + DatabasePlaceholder + "." + table + rest}, nil
	}
	return nil, errors.New("only CREATE TABLE IF NOT EXISTS and ALTER TABLE can be applied to a cluster (clickhouse.cluster)")
}

// ClusterNode is a server of a cluster, as system.clusters names it.
type ClusterNode struct {
	Shard uint32
	Addr  string // host:port of its native protocol
}

// ClusterNodes lists the servers of cluster as the server behind conn
// knows them (its remote_servers).
func ClusterNodes(ctx context.Context, conn driver.Conn, cluster string) ([]ClusterNode, error) {
	rows, err := conn.Query(ctx, "SELECT shard_num, host_name, port FROM system.clusters WHERE cluster = ? ORDER BY shard_num, replica_num", cluster)
	if err != nil {
		return nil, fmt.Errorf("look up cluster %s: %w", cluster, err)
	}
	defer rows.Close()
	var nodes []ClusterNode
	for rows.Next() {
		var n ClusterNode
		var host string
		var port uint16
		if err := rows.Scan(&n.Shard, &host, &port); err != nil {
			return nil, fmt.Errorf("look up cluster %s: %w", cluster, err)
		}
		n.Addr = net.JoinHostPort(host, strconv.Itoa(int(port)))
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up cluster %s: %w", cluster, err)
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("cluster %s is not in the server's system.clusters (remote_servers)", cluster)
	}
	return nodes, nil
}

// Migrate brings the writer's database up to date with the embedded
// migrations: on its server, or with cfg.Cluster on every server of the
// cluster, one after another. It returns the files applied, summed over
// servers.
//
// Cluster mode runs each node's DDL on that node rather than with ON
// CLUSTER: ON CLUSTER needs ZooKeeper (ClickHouse Keeper on 24+) for its
// DDL queue, which a sharded setup without replicas does not otherwise
// need; the statements are idempotent, so running them node by node, from
// several instances at once, ends in the same schema.
func (c *ClickHouse) Migrate(ctx context.Context, log *zap.Logger) (int, error) {
	fsys, err := fs.Sub(deploych.Migrations, "migrations")
	if err != nil {
		return 0, fmt.Errorf("embedded migrations: %w", err)
	}
	return c.MigrateFS(ctx, fsys, log)
}

// MigrateFS is Migrate over the NNNN_name.sql files at the root of fsys.
func (c *ClickHouse) MigrateFS(ctx context.Context, fsys fs.FS, log *zap.Logger) (int, error) {
	if c.cfg.Cluster == "" {
		return MigrateFS(ctx, c.conn, c.cfg.Database, fsys, log)
	}
	nodes, err := ClusterNodes(ctx, c.conn, c.cfg.Cluster)
	if err != nil {
		return 0, fmt.Errorf("migrate %s: clickhouse.cluster: %w", c.cfg.Database, err)
	}
	total := 0
	for _, n := range nodes {
		cfg := c.cfg
		cfg.Addr = []string{n.Addr}
		node, err := OpenClickHouse(ctx, cfg, c.log)
		if err != nil {
			return total, fmt.Errorf("migrate %s on shard %d: %w", c.cfg.Database, n.Shard, err)
		}
		applied, err := migrateNode(ctx, node.conn, c.cfg.Database, clusterDDL{c.cfg.Cluster, c.cfg.Replicated}, fsys, log)
		_ = node.Close()
		total += applied
		if err != nil {
			return total, fmt.Errorf("shard %d (%s): %w", n.Shard, n.Addr, err)
		}
	}
	return total, nil
}
