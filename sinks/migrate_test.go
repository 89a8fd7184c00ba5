package sinks

import (
	"context"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"go.uber.org/zap/zaptest"

	deploych "github.com/cspulse/cspulse/deploy/clickhouse"
	"github.com/cspulse/cspulse/tables"
)

func TestSplitStatements(t *testing.T) {
	src := "-- header; with a semicolon;\n" +
		"CREATE TABLE ${database}.a\n(\n    x UInt8 -- inline\n)\nENGINE = TinyLog;\n" +
		"\n\n" +
		"  -- between;\n" +
		"ALTER TABLE ${database}.a ADD COLUMN y String DEFAULT 'a;b';   \n" +
		"SELECT 1"
	got := splitStatements(src)
	want := []string{
		"CREATE TABLE ${database}.a\n(\n    x UInt8 -- inline\n)\nENGINE = TinyLog",
		"ALTER TABLE ${database}.a ADD COLUMN y String DEFAULT 'a;b'",
		"SELECT 1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("splitStatements:\n got %q\nwant %q", got, want)
	}
}

func TestChecksumIgnoresComments(t *testing.T) {
	a := splitStatements("-- v1 docs\nCREATE TABLE ${database}.a (x UInt8) ENGINE = TinyLog;\n")
	b := splitStatements("-- better docs\n\n-- more\nCREATE TABLE ${database}.a (x UInt8) ENGINE = TinyLog;   \n")
	c := splitStatements("CREATE TABLE ${database}.a (x UInt16) ENGINE = TinyLog;\n")
	if checksum(a) != checksum(b) {
		t.Errorf("comment-only edit changed the checksum")
	}
	if checksum(a) == checksum(c) {
		t.Errorf("statement edit kept the checksum")
	}
}

func TestLoadMigrationsRejectsBadFiles(t *testing.T) {
	ok := &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS ${database}.t (x UInt8) ENGINE = TinyLog;")}
	cases := map[string]struct {
		fs   fstest.MapFS
		want string
	}{
		"bad name":       {fstest.MapFS{"1_x.sql": ok}, "1_x.sql: name is not NNNN_lower_snake.sql"},
		"duplicate":      {fstest.MapFS{"0001_a.sql": ok, "0001_b.sql": ok}, "share version 1"},
		"no placeholder": {fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE t (x UInt8) ENGINE = TinyLog;")}}, "does not name ${database}"},
		"empty":          {fstest.MapFS{"0001_a.sql": {Data: []byte("-- nothing\n")}}, "no statements"},
		"no files":       {fstest.MapFS{"README.md": {Data: []byte("x")}}, "no migration files"},
		"create twice":   {fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE ${database}.t (x UInt8) ENGINE = TinyLog;")}}, "CREATE without IF NOT EXISTS"},
		"drop twice":     {fstest.MapFS{"0001_a.sql": {Data: []byte("DROP TABLE ${database}.t;")}}, "DROP without IF EXISTS"},
		"two columns": {fstest.MapFS{"0001_a.sql": {Data: []byte("ALTER TABLE ${database}.t ADD COLUMN a UInt8,\n    ADD COLUMN b UInt8;")}},
			"more than one column action"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := loadMigrations(tc.fs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEmbeddedMigrationsParse(t *testing.T) {
	fsys, err := fs.Sub(deploych.Migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(fsys)
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	want := uint32(1)
	for _, m := range ms {
		if m.version != want {
			t.Errorf("%s: version %d, want %d (no gaps)", m.file, m.version, want)
		}
		want = m.version + 1
	}
	if ms[0].file != "0001_schema_migrations.sql" {
		t.Errorf("first migration is %s, want the runner's own table first", ms[0].file)
	}
}

func TestMigrateAppliesOnceAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	log := zaptest.NewLogger(t)
	ch := openFresh(t, log)
	db := ch.Database()

	fsys, _ := fs.Sub(deploych.Migrations, "migrations")
	files, _ := fs.Glob(fsys, "*.sql")

	applied, err := Migrate(ctx, ch.Conn(), db, log)
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if applied != len(files) {
		t.Fatalf("first Migrate applied %d, want %d", applied, len(files))
	}
	applied, err = Migrate(ctx, ch.Conn(), db, log)
	if err != nil || applied != 0 {
		t.Fatalf("second Migrate = %d, %v; want 0, nil", applied, err)
	}

	var got []string
	rows, err := ch.Conn().Query(ctx, "SELECT name FROM system.tables WHERE database = ? ORDER BY name", db)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	want := []string{"schema_migrations"}
	for _, t := range tables.All {
		want = append(want, t.Name)
	}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tables = %v, want %v", got, want)
	}

	var recorded, distinct uint64
	err = ch.Conn().QueryRow(ctx, "SELECT count(), uniqExact(checksum) FROM "+db+".schema_migrations").Scan(&recorded, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if recorded != uint64(len(files)) || distinct != uint64(len(files)) {
		t.Errorf("schema_migrations has %d rows, %d checksums; want %d of each", recorded, distinct, len(files))
	}
}

func TestMigrateDetectsChangedMigration(t *testing.T) {
	ctx := context.Background()
	log := zaptest.NewLogger(t)
	ch := openFresh(t, log)
	db := ch.Database()

	runner, err := fs.ReadFile(deploych.Migrations, "migrations/0001_schema_migrations.sql")
	if err != nil {
		t.Fatal(err)
	}
	probe := "-- probe\nCREATE TABLE IF NOT EXISTS ${database}.probe (x UInt8) ENGINE = TinyLog;\n"
	fsys := fstest.MapFS{
		"0001_schema_migrations.sql": {Data: runner},
		"0002_probe.sql":             {Data: []byte(probe)},
	}
	migrate := func() (int, error) { return MigrateFS(ctx, ch.Conn(), db, fsys, log) }

	if n, err := migrate(); err != nil || n != 2 {
		t.Fatalf("first run = %d, %v; want 2, nil", n, err)
	}

	fsys["0002_probe.sql"] = &fstest.MapFile{Data: []byte("-- reworded docs\n" + probe)}
	if n, err := migrate(); err != nil || n != 0 {
		t.Fatalf("comment-only edit = %d, %v; want 0, nil", n, err)
	}

	fsys["0002_probe.sql"] = &fstest.MapFile{Data: []byte(strings.Replace(probe, "UInt8", "UInt16", 1))}
	_, err = migrate()
	if err == nil || !strings.Contains(err.Error(), "0002_probe.sql") || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("edited applied migration: err = %v, want a changed-checksum error naming 0002_probe.sql", err)
	}

	fsys["0002_probe.sql"] = &fstest.MapFile{Data: []byte(probe)}
	fsys["0003_probe_two.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS ${database}.probe_two (x UInt8) ENGINE = TinyLog;")}
	if n, err := migrate(); err != nil || n != 1 {
		t.Fatalf("added migration = %d, %v; want 1, nil", n, err)
	}
}

func TestMigrateRejectsBadDatabaseName(t *testing.T) {
	_, err := MigrateFS(context.Background(), nil, "x; DROP", fstest.MapFS{}, nil)
	if err == nil || !strings.Contains(err.Error(), "not a plain identifier") {
		t.Fatalf("err = %v", err)
	}
}
