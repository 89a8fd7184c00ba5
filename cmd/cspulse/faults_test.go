package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cspulse/cspulse/internal/testenv"
)

// Fault tests (SPEC §5): the final tables after faults must equal those of
// a clean run over the same input. Each case prints what it compared.

// tableKeys are the columns that identify a row; every other column but
// version is compared.
var tableKeys = map[string]string{
	"cs_agent_hourly":    "shop_id, hour, group_id, agent_id",
	"cs_shop_hourly":     "shop_id, hour",
	"cs_sessions":        "shop_id, session_id",
	"cs_inquiry_daily":   "shop_id, agent_id, day",
	"cs_robot_hourly":    "shop_id, task_id, robot_id, hour, intent",
	"cs_alerts":          "shop_id, evaluated_at, alert_id",
	"cs_agent_rankings":  "shop_id, day, scope, group_id, agent_id",
	"cs_exclusive_daily": "shop_id, agent_id, day",
}

// dumpRows returns every row of table (FINAL, without version) as text,
// in key order; rows whose figures are all zero only when withZero.
func dumpRows(t *testing.T, chAddr, db, table string, withZero bool) []string {
	t.Helper()
	cols, figures := tableColumns(t, chAddr, db, table)
	where := "1"
	if table != "cs_sessions" && !withZero {
		where = strings.Join(figures, " OR ")
	}
	return queryLines(t, chAddr, db, fmt.Sprintf("SELECT concat(%s) FROM %s FINAL WHERE %s ORDER BY %s",
		strings.Join(joinWithSep(cols), ", "), table, where, tableKeys[table]))
}

// tableColumns returns every column of table but version as a string
// expression (NULL as "NULL"), and a "!= 0" test for each figure.
func tableColumns(t *testing.T, chAddr, db, table string) (cols, figures []string) {
	t.Helper()
	conn := testenv.Conn(t, chAddr, db)
	rows, err := conn.Query(context.Background(), "SELECT name, type FROM system.columns WHERE database = ? AND table = ? ORDER BY name", db, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c, typ string
		if err := rows.Scan(&c, &typ); err != nil {
			t.Fatal(err)
		}
		if c == "version" {
			continue
		}
		cols = append(cols, fmt.Sprintf("ifNull(toString(%s), 'NULL')", c))
		if strings.Contains(typ, "Int") && c != "hour_of_day" {
			figures = append(figures, fmt.Sprintf("ifNull(%s, 0) != 0", c))
		}
	}
	return cols, figures
}

// queryLines runs q, whose rows are one string each.
func queryLines(t *testing.T, chAddr, db, q string) []string {
	t.Helper()
	rows, err := testenv.Conn(t, chAddr, db).Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	return out
}

func joinWithSep(cols []string) []string {
	var out []string
	for i, c := range cols {
		if i > 0 {
			out = append(out, "'|'")
		}
		out = append(out, c)
	}
	return out
}

// compareTables fails on any difference between the two databases, the
// all-zero rows included: which cells exist must not depend on where a
// crash or a checkpoint fell either.
func compareTables(t *testing.T, chAddr, clean, faulty string) {
	t.Helper()
	compareRows(t, chAddr, clean, faulty, true)
}

// compareRows is compareTables, the all-zero rows compared too when
// withZero.
func compareRows(t *testing.T, chAddr, clean, faulty string, withZero bool) {
	t.Helper()
	for table := range tableKeys {
		a, b := dumpRows(t, chAddr, clean, table, withZero), dumpRows(t, chAddr, faulty, table, withZero)
		t.Logf("compared %s: %d rows clean, %d rows after faults", table, len(a), len(b))
		if len(a) == 0 && table != "cs_alerts" { // a small input may raise no alert
			t.Errorf("%s: the clean run wrote nothing; the comparison would prove nothing", table)
		}
		diffs := 0
		for i := 0; i < len(a) || i < len(b); i++ {
			var x, y string
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			if x != y && diffs < 5 {
				t.Errorf("%s row %d differs:\n  clean:  %s\n  faulty: %s", table, i, x, y)
				diffs++
			}
		}
	}
}

// TestKillNineAndRestartIsExact kills the pipeline with SIGKILL at random
// points while input is still arriving, restarts it each time, and expects
// the tables of a clean run.
func TestKillNineAndRestartIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	clean, faulty := testenv.Database(t, chAddr), testenv.Database(t, chAddr)
	addr := freeAddr(t)
	start(t, "broker", "--listen", addr)
	waitBroker(t, kcat, addr)

	// Input arrives over several seconds, so kills land mid-stream.
	gen, _ := start(t, "gen", "--brokers", addr, "--seed", "11", "--shops", "4", "--sessions-per-shop-day", "1500", "--rate", "40000")
	common := []string{"--brokers", addr, "--clickhouse", chAddr, "--run.http_listen=", "--run.flush_interval", "300ms",
		"--kafka.session_timeout", "6s", "--kafka.rebalance_timeout", "10s"}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := 0; i < 3; i++ {
		run, out := start(t, append([]string{"run", "--kafka.group", "faulty", "--database", faulty, "--topics.alerts", alertsTopic("faulty")}, common...)...)
		// Kill mid-run, once the member holds partitions: kfake never
		// evicts a member killed in the middle of a join, which would hold
		// its partitions forever (a real broker evicts it after
		// session_timeout).
		deadline := time.Now().Add(60 * time.Second)
		for !assigned(out) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		wait := time.Duration(200+rng.Intn(1500)) * time.Millisecond
		time.Sleep(wait)
		_ = run.Process.Signal(syscall.SIGKILL)
		_, _ = run.Process.Wait()
		t.Logf("kill -9 #%d %v after its partitions were assigned", i+1, wait)
	}
	if err := waitExit(t, gen, 2*time.Minute); err != nil {
		t.Fatalf("gen: %v", err)
	}
	runOK(t, append([]string{"run", "--kafka.group", "faulty", "--database", faulty, "--until-idle", "2s", "--topics.alerts", alertsTopic("faulty")}, common...)...)
	runOK(t, append([]string{"run", "--kafka.group", "clean", "--database", clean, "--until-idle", "2s", "--topics.alerts", alertsTopic("clean")}, common...)...)
	compareTables(t, chAddr, clean, faulty)
	checkAlertsOnce(t, kcat, chAddr, clean, addr, "clean", addr, "faulty")
}

// startBrokerWithInput starts a broker process and produces a seeded input
// to it (extra gen flags for faults of delivery), returning its address.
func startBrokerWithInput(t *testing.T, kcat string, rate string, extra ...string) (string, *exec.Cmd) {
	t.Helper()
	addr := freeAddr(t)
	start(t, "broker", "--listen", addr)
	waitBroker(t, kcat, addr)
	args := append(append([]string{"gen", "--brokers", addr, "--seed", "11", "--rate", rate}, faultInputSize()...), extra...)
	gen, _ := start(t, args...)
	return addr, gen
}

// faultInputSize is the size of the fault tests' input: 4 shops of 1500
// sessions a day, or, with CSPULSE_FAULT_SIZE=bench, make bench's input
// (40 shops, 2 days: 2.3 M events, several produce batches per
// checkpoint), for running a fault test at that size by hand.
func faultInputSize() []string {
	if os.Getenv("CSPULSE_FAULT_SIZE") == "bench" {
		return []string{"--shops", "40", "--days", "2"}
	}
	return []string{"--shops", "4", "--sessions-per-shop-day", "1500"}
}

func runArgs(addr, chAddr, group, db string, extra ...string) []string {
	return append([]string{"run", "--brokers", addr, "--clickhouse", chAddr, "--run.http_listen=",
		"--run.flush_interval", "300ms", "--kafka.group", group, "--database", db,
		"--kafka.session_timeout", "6s", "--kafka.rebalance_timeout", "10s", "--topics.alerts", alertsTopic(group)}, extra...)
}

// cleanRun processes a clean copy of the input (extra gen flags, such as
// poison, included) into a new database: the reference a fault test
// compares with. It returns the database and the broker that holds the
// input and the clean run's dead letters.
func cleanRun(t *testing.T, kcat, chAddr string, extra ...string) (db, addr string) {
	t.Helper()
	db = testenv.Database(t, chAddr)
	addr, gen := startBrokerWithInput(t, kcat, "0", extra...)
	if err := waitExit(t, gen, 2*time.Minute); err != nil {
		t.Fatalf("gen: %v", err)
	}
	runOK(t, runArgs(addr, chAddr, "clean", db, "--until-idle", "2s")...)
	return db, addr
}

// TestInstanceKilledIsExact runs three instances in one group and kills
// one mid-run: its partitions and their state move to the others.
func TestInstanceKilledIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	clean, cleanAddr := cleanRun(t, kcat, chAddr)
	faulty := testenv.Database(t, chAddr)
	addr, gen := startBrokerWithInput(t, kcat, "30000")
	victim, vout := start(t, runArgs(addr, chAddr, "faulty", faulty)...)
	a, aout := start(t, runArgs(addr, chAddr, "faulty", faulty, "--until-idle", "8s")...)
	b, bout := start(t, runArgs(addr, chAddr, "faulty", faulty, "--until-idle", "8s")...)
	// Kill mid-run, not mid-join: once all three hold partitions.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !(assigned(vout) && assigned(aout) && assigned(bout)) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	_ = victim.Process.Signal(syscall.SIGKILL)
	_, _ = victim.Process.Wait()
	t.Log("killed one of three instances with SIGKILL mid-run")
	if err := waitExit(t, gen, 2*time.Minute); err != nil {
		t.Fatalf("gen: %v", err)
	}
	for _, c := range []*exec.Cmd{a, b} {
		if err := waitExit(t, c, 3*time.Minute); err != nil {
			t.Fatalf("surviving instance: %v", err)
		}
	}
	compareTables(t, chAddr, clean, faulty)
	checkAlertsOnce(t, kcat, chAddr, clean, cleanAddr, "clean", addr, "faulty")
}

func assigned(out *bytes.Buffer) bool { return strings.Contains(out.String(), "partitions assigned") }

// TestClickHouseOutageIsExact cuts ClickHouse off for 30 s mid-run: the
// pipeline retries, stops consuming while its checkpoint cannot be
// written, and catches up without losing or doubling a row.
func TestClickHouseOutageIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	clean, _ := cleanRun(t, kcat, chAddr)
	faulty := testenv.Database(t, chAddr)
	proxy := testenv.StartProxy(t, chAddr)
	addr, gen := startBrokerWithInput(t, kcat, "20000")
	run, out := start(t, runArgs(addr, proxy.Addr(), "faulty", faulty, "--until-idle", "3s")...)
	time.Sleep(2 * time.Second)
	proxy.SetUp(false)
	t.Log("ClickHouse unreachable for 30s")
	time.Sleep(30 * time.Second)
	proxy.SetUp(true)
	if err := waitExit(t, gen, 2*time.Minute); err != nil {
		t.Fatalf("gen: %v", err)
	}
	if err := waitExit(t, run, 3*time.Minute); err != nil {
		t.Fatalf("run through the outage: %v", err)
	}
	if !strings.Contains(out.String(), "retry") {
		t.Errorf("the run logged no retry: was ClickHouse really unreachable?")
	}
	compareTables(t, chAddr, clean, faulty)
}

// TestDuplicatesAndPoisonAreExact delivers every event twice and mixes in
// malformed records: the tables equal the clean run's, every poison record
// is in cs.deadletter, and so are the ratings made after the rating window
// (late), the same ones as in the clean run.
func TestDuplicatesAndPoisonAreExact(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	clean, cleanAddr := cleanRun(t, kcat, chAddr)
	faulty := testenv.Database(t, chAddr)
	addr, gen := startBrokerWithInput(t, kcat, "0", "--duplicates", "1", "--poison", "0.01")
	if err := waitExit(t, gen, 2*time.Minute); err != nil {
		t.Fatalf("gen: %v", err)
	}
	runOK(t, runArgs(addr, chAddr, "faulty", faulty, "--until-idle", "2s")...)
	compareTables(t, chAddr, clean, faulty)

	// Every poison record is a dead letter; the late ones are the clean
	// run's late ratings (each copy of a duplicated one is a record of its
	// own, so compared by event_id); nothing else is.
	poison, late := deadLettersByKind(t, kcat, addr)
	_, cleanLate := deadLettersByKind(t, kcat, cleanAddr)
	wantPoison := poisonProduced(t, gen)
	t.Logf("compared dead letters: %d poison of %d produced; late ratings %d, clean run %d", poison, wantPoison, len(late), len(cleanLate))
	if poison != wantPoison || poison == 0 {
		t.Errorf("poison dead letters = %d, want the %d poison records", poison, wantPoison)
	}
	if !maps.Equal(late, cleanLate) || len(cleanLate) == 0 {
		t.Errorf("late dead letters (event ids) %v, want the clean run's %v", late, cleanLate)
	}
}

var eventIDRE = regexp.MustCompile(`"event_id":"([^"]*)"`)

// deadLettersByKind counts the dead letters at addr that are not late, and
// the event ids of the late ones.
func deadLettersByKind(t *testing.T, kcat, addr string) (other int, late map[string]bool) {
	t.Helper()
	out, err := exec.Command(kcat, "-C", "-b", addr, "-t", "cs.deadletter", "-X", "isolation.level=read_committed",
		"-o", "beginning", "-e", "-q", "-f", "%h\t%s\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	late = map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		headers, value, _ := strings.Cut(line, "\t")
		if _, reason := sourceOf(headers); reason == "late" {
			if m := eventIDRE.FindStringSubmatch(value); m != nil {
				late[m[1]] = true
			}
			continue
		}
		other++
	}
	return other, late
}

// poisonProduced reads gen's own count of the poison it produced.
func poisonProduced(t *testing.T, gen *exec.Cmd) int {
	t.Helper()
	out := gen.Stdout.(*bytes.Buffer).String()
	var records, dups, poison int
	i := strings.Index(out, "produced ")
	if i < 0 {
		t.Fatalf("gen did not report its output:\n%s", out)
	}
	line := out[i:]
	if _, err := fmt.Sscanf(line, "produced %d records", &records); err != nil {
		t.Fatalf("gen output %q: %v", line, err)
	}
	j := strings.Index(line, "(")
	if _, err := fmt.Sscanf(line[j:], "(%d duplicates, %d poison)", &dups, &poison); err != nil {
		t.Fatalf("gen output %q: %v", line, err)
	}
	return poison
}

// TestSlicingDoesNotChangeTables runs one input twice: once as a backlog
// in large fetches with the default checkpoint interval, once arriving
// over seconds in small fetches with a checkpoint every 50 ms. Where the
// watermark steps and checkpoints fall must not show in the tables: every
// row, all-zero rows included, is the same.
func TestSlicingDoesNotChangeTables(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	backlog, _ := cleanRun(t, kcat, chAddr)
	sliced := testenv.Database(t, chAddr)
	addr, gen := startBrokerWithInput(t, kcat, "15000")
	run, _ := start(t, runArgs(addr, chAddr, "sliced", sliced, "--until-idle", "3s",
		"--run.flush_interval", "50ms", "--kafka.fetch_max_partition_bytes", "4096")...)
	if err := waitExit(t, gen, 2*time.Minute); err != nil {
		t.Fatalf("gen: %v", err)
	}
	if err := waitExit(t, run, 3*time.Minute); err != nil {
		t.Fatalf("sliced run: %v", err)
	}
	compareRows(t, chAddr, backlog, sliced, true)
}
