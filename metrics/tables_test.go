package metrics

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/sinks"
)

// goTypeOf is the Go type clickhouse-go/v2 takes for each ClickHouse column
// type the tables use.
var goTypeOf = map[string]reflect.Type{
	"String":          reflect.TypeFor[string](),
	"DateTime('UTC')": reflect.TypeFor[time.Time](),
	"DateTime":        reflect.TypeFor[time.Time](),
	"Date":            reflect.TypeFor[time.Time](),
	"UInt8":           reflect.TypeFor[uint8](),
	"UInt32":          reflect.TypeFor[uint32](),
	"UInt64":          reflect.TypeFor[uint64](),
	"Int64":           reflect.TypeFor[int64](),
	"Float64":         reflect.TypeFor[float64](),
	"Array(String)":   reflect.TypeFor[[]string](),
	// Nullable: a pointer, nil for NULL.
	"Nullable(Int64)":   reflect.TypeFor[*int64](),
	"Nullable(UInt8)":   reflect.TypeFor[*uint8](),
	"Nullable(UInt32)":  reflect.TypeFor[*uint32](),
	"Nullable(Int32)":   reflect.TypeFor[*int32](),
	"Nullable(Float64)": reflect.TypeFor[*float64](),
}

// migrationsDir holds the SQL migrations, relative to this package.
var migrationsDir = filepath.Join("..", "deploy", "clickhouse", "migrations")

var modifyColumn = regexp.MustCompile(`MODIFY COLUMN ([a-z_0-9]+) ([A-Za-z0-9()' ]+?)[,;]`)

// alteredTypes returns the column types that later migrations (ALTER
// TABLE … MODIFY COLUMN, e.g. 0007) give table, in file order.
func alteredTypes(t *testing.T, table string) map[string]string {
	files, _ := filepath.Glob(filepath.Join(migrationsDir, "*.sql"))
	if len(files) == 0 {
		t.Fatalf("no migrations in %s", migrationsDir)
	}
	slices.Sort(files)
	types := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body := string(b)
		if !strings.Contains(body, "ALTER TABLE ${database}."+table+"\n") {
			continue
		}
		for _, m := range modifyColumn.FindAllStringSubmatch(body, -1) {
			types[m[1]] = m[2]
		}
	}
	return types
}

var ddlColumn = regexp.MustCompile(`^\s*([a-z_0-9]+)\s+([A-Za-z0-9()' ]+?),?\s*$`)

// ddlColumns reads the column names and types of table from its migration
// in deploy/clickhouse/migrations.
func ddlColumns(t *testing.T, table string) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(migrationsDir, "*_"+table+".sql"))
	if len(files) != 1 {
		t.Fatalf("no single migration for %s in %s: %v", table, migrationsDir, files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	start := strings.Index(body, "CREATE TABLE")
	open := strings.Index(body[start:], "(") + start
	end := strings.Index(body[open:], "\n)") + open
	cols := map[string]string{}
	for _, line := range strings.Split(body[open+1:end], "\n") {
		if m := ddlColumn.FindStringSubmatch(line); m != nil {
			cols[m[1]] = strings.TrimSpace(m[2])
		}
	}
	for col, typ := range alteredTypes(t, table) {
		cols[col] = typ
	}
	return cols
}

// TestTablesMatchMigrations checks that every table's columns are those of
// its DDL and that the rows carry the Go type the driver takes for each.
func TestTablesMatchMigrations(t *testing.T) {
	rows := newRowSet(nil)
	for _, name := range []string{"reply_3min_boundary", "robot_intents", "validity_days", "exclusive_customers"} {
		sc := loadScenario(t, filepath.Join("testdata", "scenarios", name))
		r, _ := sc.run(t, sc.steps, true)
		for table, byKey := range r.rows {
			if rows.rows[table] == nil {
				rows.rows[table] = byKey
			}
		}
	}
	random := randomScenario(1, 300, true) // with alert rules
	r, _ := random.run(t, random.steps, true)
	for table, byKey := range r.rows {
		if rows.rows[table] == nil {
			rows.rows[table] = byKey
		}
	}
	for _, table := range Tables {
		t.Run(table.Name, func(t *testing.T) {
			ddl := ddlColumns(t, table.Name)
			var names []string
			for name := range ddl {
				names = append(names, name)
			}
			if !sameSet(names, table.Columns) {
				t.Fatalf("columns differ:\n DDL  %v\n Go   %v", sortedCopy(names), sortedCopy(table.Columns))
			}
			row := anyRow(rows, table)
			for i, col := range table.Columns {
				want, known := goTypeOf[ddl[col]]
				if !known {
					t.Errorf("%s: unmapped ClickHouse type %s", col, ddl[col])
					continue
				}
				if got := reflect.TypeOf(row[i]); got != want {
					t.Errorf("%s %s: Go value is %v, want %v", col, ddl[col], got, want)
				}
			}
		})
	}
}

func anyRow(rows *rowSet, table sinks.Table) []any {
	for _, r := range rows.rows[table.Name] {
		out := make([]any, len(table.Columns))
		for i, c := range table.Columns {
			out[i] = r.cols[c]
		}
		return out
	}
	panic("no row of " + table.Name)
}

func sameSet(a, b []string) bool { return slices.Equal(sortedCopy(a), sortedCopy(b)) }

func sortedCopy(xs []string) []string {
	c := slices.Clone(xs)
	slices.Sort(c)
	return c
}
