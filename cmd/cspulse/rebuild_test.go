package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cspulse/cspulse/internal/testenv"
)

// TestRebuildReplacesEarlierRows: the same group runs over recreated
// input topics (a new broker: offsets start at 0 again, the changelog is
// empty) holding other events for the same shops, hours and agents. Every
// row the second run writes must replace the first run's, so for every
// key of the second input the tables equal a clean run of it. With row
// versions made of input offsets the first run's higher offsets won.
func TestRebuildReplacesEarlierRows(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	inputOf := func(seed string) string {
		addr := freeAddr(t)
		start(t, "broker", "--listen", addr)
		waitBroker(t, kcat, addr)
		runOK(t, "gen", "--brokers", addr, "--seed", seed, "--shops", "3", "--sessions-per-shop-day", "600", "--rate", "0")
		return addr
	}
	first, second := inputOf("11"), inputOf("12")
	clean, mixed := testenv.Database(t, chAddr), testenv.Database(t, chAddr)
	runOK(t, runArgs(second, chAddr, "clean", clean, "--until-idle", "2s")...)
	runOK(t, runArgs(first, chAddr, "live", mixed, "--until-idle", "2s")...)
	runOK(t, runArgs(second, chAddr, "live", mixed, "--until-idle", "2s")...)

	for table, key := range tableKeys {
		cols, _ := tableColumns(t, chAddr, clean, table)
		q := func(db string) string {
			return fmt.Sprintf("SELECT concat(%s) FROM %s.%s FINAL WHERE (%s) IN (SELECT %s FROM %s.%s) ORDER BY %s",
				strings.Join(joinWithSep(cols), ", "), db, table, key, key, clean, table, key)
		}
		want, got := queryLines(t, chAddr, clean, q(clean)), queryLines(t, chAddr, clean, q(mixed))
		t.Logf("%s: %d rows of the second input", table, len(want))
		if len(want) == 0 {
			t.Errorf("%s: the clean run wrote nothing; the comparison would prove nothing", table)
		}
		diffs := 0
		for i := range max(len(want), len(got)) {
			var w, g string
			if i < len(want) {
				w = want[i]
			}
			if i < len(got) {
				g = got[i]
			}
			if w != g && diffs < 3 {
				t.Errorf("%s row %d: the first run's row was not replaced:\n  want: %s\n  got:  %s", table, i, w, g)
				diffs++
			}
		}
	}
}
