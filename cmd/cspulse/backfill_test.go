package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cspulse/cspulse/internal/testenv"
)

var scoreRE = regexp.MustCompile(`"score":\d+`)

// breakEvaluations copies a generated input directory, setting the score
// of its first n evaluations to 9 (out of range: dead-lettered) in broken,
// and to 3 in fixed, the input as it should have been.
func breakEvaluations(t *testing.T, src string, n int) (broken, fixed string) {
	t.Helper()
	broken, fixed = t.TempDir(), t.TempDir()
	for _, topic := range inputTopics {
		b := readInput(t, src, topic)
		bad, good := b, b
		if topic == "cs.evaluations" {
			var bb, gb strings.Builder
			for i, l := range strings.SplitAfter(string(b), "\n") {
				if i < n {
					bb.WriteString(scoreRE.ReplaceAllString(l, `"score":9`))
					gb.WriteString(scoreRE.ReplaceAllString(l, `"score":3`))
				} else {
					bb.WriteString(l)
					gb.WriteString(l)
				}
			}
			bad, good = []byte(bb.String()), []byte(gb.String())
		}
		for dir, data := range map[string][]byte{broken: bad, fixed: good} {
			if err := os.WriteFile(filepath.Join(dir, topic+".jsonl"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return broken, fixed
}

// redrive is the documented re-drive (docs/operations.md, "Re-driving dead
// letters"): read cs.deadletter with its headers, keep the records of one
// source topic, fix their values, and produce them back to that topic with
// their original key.
func redrive(t *testing.T, kcat, addr, topic string, fix func(string) string) int {
	t.Helper()
	out, err := exec.Command(kcat, "-C", "-b", addr, "-t", "cs.deadletter", "-X", "isolation.level=read_committed",
		"-o", "beginning", "-e", "-q", "-f", "%h\t%k\t%s\n").Output()
	if err != nil {
		t.Fatalf("kcat -C cs.deadletter: %v", err)
	}
	var in bytes.Buffer
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		headers, rest, _ := strings.Cut(line, "\t")
		if !strings.Contains(","+headers+",", ",cspulse.topic="+topic+",") {
			continue
		}
		in.WriteString(fix(rest) + "\n")
		n++
	}
	cmd := exec.Command(kcat, "-P", "-b", addr, "-t", topic, "-K", "\t", "-X", "partitioner=murmur2_random")
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P %s: %v\n%s", topic, err, out)
	}
	return n
}

// TestRedriveDeadLettersAndBackfill: evaluations with an out-of-range
// score are dead-lettered by the live group. After the fix they are
// re-driven from cs.deadletter to cs.evaluations and the live group counts
// them: they are older than the group's watermark, so it runs with a
// time.allowed_lateness that covers them (with the default 1h, those
// further behind are dead-lettered again as late; docs/operations.md).
// Its tables then equal a clean run's of the fixed input, and so do those
// of a backfill: a new group over the same input from the earliest
// offsets, with --until-idle.
func TestRedriveDeadLettersAndBackfill(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	gen := t.TempDir()
	runOK(t, "gen", "--out-dir", gen, "--seed", "8", "--shops", "2", "--sessions-per-shop-day", "80")
	const k = 4
	broken, fixed := breakEvaluations(t, gen, k)

	clean := testenv.Database(t, chAddr)
	cleanAddr := freeAddr(t)
	start(t, "broker", "--listen", cleanAddr)
	waitBroker(t, kcat, cleanAddr)
	produceFiles(t, kcat, cleanAddr, fixed)
	runOK(t, runArgs(cleanAddr, chAddr, "clean", clean, "--until-idle", "2s")...)

	live := testenv.Database(t, chAddr)
	addr := freeAddr(t)
	start(t, "broker", "--listen", addr)
	waitBroker(t, kcat, addr)
	produceFiles(t, kcat, addr, broken)
	lines, _ := os.ReadFile(filepath.Join(broken, "cs.evaluations.jsonl"))
	nEval := float64(bytes.Count(lines, []byte("\n")))
	httpAddr := freeAddr(t)
	lateness := []string{"--time.allowed_lateness", "48h"}
	run, out := start(t, append(runArgs(addr, chAddr, "live", live, lateness...), "--run.http_listen", httpAddr)...)
	counts := func() (bad, all, evs float64, state string) {
		_, _, bad = scrape(t, httpAddr, `cspulse_dead_letters_total{reason="out_of_range"}`)
		_, _, all = scrape(t, httpAddr, "cspulse_dead_letters_total")
		_, _, evs = scrape(t, httpAddr, `cspulse_events_total{topic="cs.evaluations"}`)
		return bad, all, evs, "out_of_range " + ftoa(bad) + ", all dead letters " + ftoa(all) + ", evaluations " + ftoa(evs)
	}
	eventually(t, time.Minute, "the broken evaluations are dead-lettered", func() (bool, string) {
		bad, all, evs, state := counts()
		return bad == k && all == k && evs == nEval-k, state
	})
	time.Sleep(time.Second) // the dead letters' checkpoint commits them to cs.deadletter

	if n := redrive(t, kcat, addr, "cs.evaluations", func(rec string) string {
		return scoreRE.ReplaceAllString(rec, `"score":3`)
	}); n != k {
		t.Fatalf("re-drove %d dead letters, want %d", n, k)
	}
	eventually(t, time.Minute, "the re-driven evaluations are counted", func() (bool, string) {
		bad, all, evs, state := counts()
		return bad == k && all == k && evs == nEval, state
	})
	_ = run.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, run, time.Minute); err != nil {
		t.Fatalf("live run: %v\n%s", err, out)
	}
	// The live group would go on; here a bounded run closes what is open.
	runOK(t, runArgs(addr, chAddr, "live", live, append(lateness, "--until-idle", "2s")...)...)
	compareTables(t, chAddr, clean, live)

	// Backfill the period in a new group from the earliest offsets: the
	// broken records are dead-lettered again, the re-driven ones counted.
	// (On a machine starved by other test packages an input's first fetch
	// once took over time.idle_input and the watermark ran past it; inputs
	// with records ahead are now behind from the assignment on:
	// TestInputWithRecordsAheadHoldsTheWatermark.)
	backfill := testenv.Database(t, chAddr)
	runOK(t, runArgs(addr, chAddr, "backfill-2026-11", backfill,
		append(lateness, "--kafka.start_offset", "earliest", "--until-idle", "2s")...)...)
	compareTables(t, chAddr, clean, backfill)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
