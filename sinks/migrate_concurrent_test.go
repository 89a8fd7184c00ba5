package sinks

import (
	"context"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	deploych "github.com/cspulse/cspulse/deploy/clickhouse"
	"github.com/cspulse/cspulse/tables"
)

func TestParseColumnChange(t *testing.T) {
	cases := []struct {
		stmt string
		want columnChange
		ok   bool
	}{
		{"ALTER TABLE db.t ADD COLUMN note String DEFAULT 'a' AFTER x", columnChange{table: "db.t", column: "note", typ: "String", add: true}, true},
		{"alter table db.t add column if not exists n Array(String)", columnChange{table: "db.t", column: "n", typ: "Array(String)", add: true}, true},
		{"ALTER TABLE db.t ON CLUSTER c ADD COLUMN at DateTime('UTC')", columnChange{table: "db.t", column: "at", typ: "DateTime('UTC')", add: true}, true},
		{"ALTER TABLE db.t DROP COLUMN IF EXISTS old", columnChange{table: "db.t", column: "old"}, true},
		{"ALTER TABLE db.t MODIFY COLUMN x UInt16", columnChange{}, false},
		{"CREATE TABLE IF NOT EXISTS db.t (x UInt8) ENGINE = TinyLog", columnChange{}, false},
	}
	for _, tc := range cases {
		got, ok := parseColumnChange(tc.stmt)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseColumnChange(%q) = %+v, %v; want %+v, %v", tc.stmt, got, ok, tc.want, tc.ok)
		}
	}
}

// migrationsWith is the embedded migrations plus extra files.
func migrationsWith(t *testing.T, extra map[string]string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(deploych.Migrations, "migrations", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(deploych.Migrations, path)
		out[strings.TrimPrefix(path, "migrations/")] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range extra {
		out[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return out
}

// TestMigrateConcurrently starts several migrators on one fresh database at
// the same instant, as several cspulse instances starting together do, with
// the real files plus an ADD COLUMN and a DROP COLUMN (not idempotent in
// ClickHouse 18.16 itself). Every migrator must succeed, the schema must be
// whole, and schema_migrations must read as exactly one record per file.
func TestMigrateConcurrently(t *testing.T) {
	const instances = 4
	fsys := migrationsWith(t, map[string]string{
		"0101_probe_add.sql":  "ALTER TABLE ${database}.cs_shop_hourly ADD COLUMN probe_note String DEFAULT '';\n",
		"0102_probe_add2.sql": "ALTER TABLE ${database}.cs_shop_hourly ADD COLUMN IF NOT EXISTS probe_gone UInt8;\n",
		"0103_probe_drop.sql": "ALTER TABLE ${database}.cs_shop_hourly DROP COLUMN IF EXISTS probe_gone;\n",
	})
	files, _ := fs.Glob(fsys, "*.sql")
	sort.Strings(files)
	ctx := context.Background()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))

	for round := 0; round < 2; round++ {
		cfg := testConfig(t)
		conns := make([]*ClickHouse, instances)
		for i := range conns {
			ch, err := OpenClickHouse(ctx, cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			defer ch.Close()
			conns[i] = ch
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		applied := make([]int, instances)
		errs := make([]error, instances)
		for i, ch := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				applied[i], errs[i] = MigrateFS(ctx, ch.Conn(), cfg.Database, fsys, log)
			}()
		}
		close(start)
		wg.Wait()
		total := 0
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: migrator %d: %v", round, i, err)
			}
			total += applied[i]
		}
		if total < len(files) {
			t.Errorf("round %d: the migrators applied %d files together, want at least %d", round, total, len(files))
		}
		t.Logf("round %d: applied per migrator %v", round, applied)

		conn := conns[0].Conn()
		rows, err := conn.Query(ctx, "SELECT DISTINCT name FROM "+cfg.Database+".schema_migrations ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		var recorded []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			recorded = append(recorded, n)
		}
		if !reflect.DeepEqual(recorded, files) {
			t.Errorf("round %d: schema_migrations records %v, want %v", round, recorded, files)
		}

		var note, gone uint64
		err = conn.QueryRow(ctx, "SELECT countIf(name = 'probe_note' AND type = 'String'), countIf(name = 'probe_gone') FROM system.columns WHERE database = ? AND table = 'cs_shop_hourly'",
			cfg.Database).Scan(&note, &gone)
		if err != nil {
			t.Fatal(err)
		}
		if note != 1 || gone != 0 {
			t.Errorf("round %d: cs_shop_hourly has probe_note %d times, probe_gone %d times; want 1 and 0", round, note, gone)
		}
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ?", cfg.Database).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := uint64(len(tables.All) + 1); n != want { // and schema_migrations
			t.Errorf("round %d: %d tables, want %d", round, n, want)
		}
		if n, err := MigrateFS(ctx, conn, cfg.Database, fsys, log); err != nil || n != 0 {
			t.Errorf("round %d: a later start = %d, %v; want 0, nil", round, n, err)
		}
	}
}

// TestMigrateColumnChangeRerun is a file whose ALTER ran but was not
// recorded (the process died in between): the next start must pass over
// it, unless the column exists with another type.
func TestMigrateColumnChangeRerun(t *testing.T) {
	ctx := context.Background()
	log := zaptest.NewLogger(t)
	ch := openFresh(t, log)
	db := ch.Database()
	runner, err := fs.ReadFile(deploych.Migrations, "migrations/0001_schema_migrations.sql")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"0001_schema_migrations.sql": {Data: runner},
		"0002_probe.sql":             {Data: []byte("CREATE TABLE IF NOT EXISTS ${database}.probe (x UInt8) ENGINE = MergeTree ORDER BY x;")},
	}
	if n, err := MigrateFS(ctx, ch.Conn(), db, fsys, log); err != nil || n != 2 {
		t.Fatalf("first run = %d, %v", n, err)
	}
	for _, q := range []string{
		"ALTER TABLE " + db + ".probe ADD COLUMN added String", // done, not recorded
		"ALTER TABLE " + db + ".probe ADD COLUMN clash UInt8",  // done with another type
	} {
		if err := ch.Conn().Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	fsys["0003_probe_added.sql"] = &fstest.MapFile{Data: []byte("ALTER TABLE ${database}.probe ADD COLUMN added String DEFAULT '';")}
	fsys["0004_probe_drop.sql"] = &fstest.MapFile{Data: []byte("ALTER TABLE ${database}.probe DROP COLUMN never_there;")}
	if n, err := MigrateFS(ctx, ch.Conn(), db, fsys, log); err != nil || n != 2 {
		t.Fatalf("rerun of a done ADD and DROP COLUMN = %d, %v; want 2, nil", n, err)
	}
	fsys["0005_probe_clash.sql"] = &fstest.MapFile{Data: []byte("ALTER TABLE ${database}.probe ADD COLUMN clash String;")}
	_, err = MigrateFS(ctx, ch.Conn(), db, fsys, log)
	if err == nil || !strings.Contains(err.Error(), "0005_probe_clash.sql") || !strings.Contains(err.Error(), "exists with type UInt8") {
		t.Fatalf("ADD COLUMN over a column of another type: err = %v, want one naming the file and the type", err)
	}
}

// TestMigrateAcceptsLegacyRunnerTable: a database migrated when
// schema_migrations was a plain MergeTree keeps working.
func TestMigrateAcceptsLegacyRunnerTable(t *testing.T) {
	ctx := context.Background()
	log := zaptest.NewLogger(t)
	ch := openFresh(t, log)
	db := ch.Database()
	legacy := "CREATE TABLE IF NOT EXISTS ${database}.schema_migrations\n(\n    version    UInt32,\n    name       String,\n    checksum   String,\n    applied_at DateTime('UTC')\n)\nENGINE = MergeTree\nORDER BY version;\n"
	old := fstest.MapFS{"0001_schema_migrations.sql": {Data: []byte(legacy)}}
	if sum := checksum(splitStatements(legacy)); !isLegacyChecksum(1, sum) {
		t.Fatalf("the old 0001 statement's checksum %s is not accepted", sum)
	}
	if n, err := MigrateFS(ctx, ch.Conn(), db, old, log); err != nil || n != 1 {
		t.Fatalf("legacy 0001 = %d, %v", n, err)
	}
	n, err := Migrate(ctx, ch.Conn(), db, log)
	if err != nil {
		t.Fatalf("current migrations over a legacy runner table: %v", err)
	}
	fsys, _ := fs.Sub(deploych.Migrations, "migrations")
	files, _ := fs.Glob(fsys, "*.sql")
	if n != len(files)-1 {
		t.Errorf("applied %d, want %d (all but 0001)", n, len(files)-1)
	}
}
