package windowing_test

import (
	"fmt"
	"math"
	"time"

	"github.com/cspulse/cspulse/windowing"
)

// A task's loop: observe each record, hold it until the watermark passes
// it, and run records and timers in event-time order. Here a key's timer
// fires 30 s after its last record; at end of input the watermark jumps to
// the end of time and flushes everything.
func Example() {
	type record struct {
		ts, id int64
		key    string
	}
	byTsThenID := func(a, b *record) bool {
		return a.ts < b.ts || a.ts == b.ts && a.id < b.id
	}
	marks := windowing.NewWatermarks(1, 10*time.Second, time.Minute)
	held := windowing.NewReorder(byTsThenID)
	var timers windowing.Timers[string]
	idle := windowing.Inactivity{Timeout: 30 * time.Second}

	onRecord := func(r *record) {
		fmt.Println("record", r.id, "at", r.ts)
		timers.Set(r.key, idle.Deadline(r.ts))
	}
	onTimer := func(key string, at int64) { fmt.Println("timeout", key, "at", at) }

	now := time.Now() // wall time only decides idleness
	for _, r := range []record{{0, 1, "a"}, {5_000, 2, "b"}, {2_000, 3, "a"}, {60_000, 4, "b"}} {
		marks.Observe(0, r.ts, now)
		held.Push(r.ts, r)
		windowing.Advance(marks.Current(now), held, &timers, onRecord, onTimer)
	}
	marks.AdvanceTo(math.MaxInt64)
	windowing.Advance(marks.Current(now), held, &timers, onRecord, onTimer)
	// Output:
	// record 1 at 0
	// record 3 at 2000
	// record 2 at 5000
	// timeout a at 32001
	// timeout b at 35001
	// record 4 at 60000
	// timeout b at 90001
}

func ExampleZone() {
	z, err := windowing.LoadZone("America/New_York")
	if err != nil {
		panic(err)
	}
	// 2026-11-01: clocks go back from 02:00 EDT to 01:00 EST, so hour 1
	// happens twice. Each is its own hour, keyed by its UTC start.
	for _, s := range []string{"2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"} {
		t, _ := time.Parse(time.RFC3339, s)
		ts := t.UnixMilli()
		fmt.Println(z.Day(ts), z.HourOfDay(ts), time.UnixMilli(z.HourStart(ts)).UTC().Format(time.TimeOnly))
	}
	// Output:
	// 2026-11-01 1 05:00:00
	// 2026-11-01 1 06:00:00
}
