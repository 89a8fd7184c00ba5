package eventtime

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// wall is a fixed wall-clock origin; tests move it by adding durations.
var wall = time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC)

// wmStep is one call against a Watermarks: Observe (a record), MarkIdle,
// AdvanceTo, or only a Current check, at wall time wall+at.
type wmStep struct {
	op    string // "observe", "idle", "behind", "caught-up", "advance", "check"
	input int
	ts    int64
	at    time.Duration
	want  int64 // Current after the step
}

func TestWatermarks(t *testing.T) {
	const min = math.MinInt64
	tests := []struct {
		name  string
		n     int
		steps []wmStep
	}{
		{"no data at all", 2, []wmStep{
			{op: "check", want: min},
			{op: "check", at: time.Hour, want: min},
		}},
		{"single input trails its max ts", 1, []wmStep{
			{op: "observe", ts: 100_000, want: 90_000},
			{op: "observe", ts: 95_000, want: 90_000}, // out of order: max stays
			{op: "observe", ts: 120_000, want: 110_000},
		}},
		{"min over inputs", 2, []wmStep{
			{op: "observe", input: 0, ts: 100_000, want: min}, // input 1 silent, not yet idle
			{op: "observe", input: 1, ts: 50_000, want: 40_000},
			{op: "observe", input: 0, ts: 200_000, want: 40_000},
			{op: "observe", input: 1, ts: 150_000, want: 140_000},
		}},
		{"a silent input stops holding back after idleAfter", 2, []wmStep{
			{op: "observe", input: 0, ts: 100_000, want: min},
			{op: "check", at: 59 * time.Second, want: min},
			{op: "check", at: 60 * time.Second, want: 90_000},
		}},
		{"an input gone quiet is idle after idleAfter", 2, []wmStep{
			{op: "observe", input: 0, ts: 100_000, want: min},
			{op: "observe", input: 1, ts: 50_000, want: 40_000},
			{op: "observe", input: 0, ts: 300_000, at: 30 * time.Second, want: 40_000},
			{op: "check", at: 59 * time.Second, want: 40_000},
			{op: "check", at: 60 * time.Second, want: 290_000}, // input 1 idle
		}},
		{"all idle: max over inputs", 2, []wmStep{
			{op: "observe", input: 0, ts: 100_000, want: min},
			{op: "observe", input: 1, ts: 500_000, want: 90_000},
			{op: "check", at: 2 * time.Minute, want: 490_000},
		}},
		{"waking with old data does not go back", 2, []wmStep{
			{op: "observe", input: 0, ts: 100_000, want: min},
			{op: "observe", input: 1, ts: 500_000, want: 90_000},
			{op: "check", at: 2 * time.Minute, want: 490_000},
			{op: "observe", input: 0, ts: 200_000, at: 2 * time.Minute, want: 490_000},
			{op: "observe", input: 1, ts: 600_000, at: 2 * time.Minute, want: 490_000},
			{op: "observe", input: 0, ts: 700_000, at: 2 * time.Minute, want: 590_000},
		}},
		{"MarkIdle releases at once, a record revokes it", 2, []wmStep{
			{op: "observe", input: 0, ts: 100_000, want: min},
			{op: "idle", input: 1, want: 90_000},
			{op: "observe", input: 1, ts: 95_000, want: 90_000},
			{op: "observe", input: 0, ts: 200_000, want: 90_000}, // held by input 1 again
			{op: "observe", input: 1, ts: 300_000, want: 190_000},
		}},
		{"AdvanceTo forces forward, never back", 2, []wmStep{
			{op: "observe", input: 0, ts: 100_000, want: min},
			{op: "advance", ts: 50_000, want: 50_000},
			{op: "advance", ts: 10_000, want: 50_000},
			{op: "advance", ts: math.MaxInt64, want: math.MaxInt64},
			{op: "observe", input: 1, ts: 200_000, want: math.MaxInt64},
		}},
		{"an input with records still to come is not idle after idleAfter", 2, []wmStep{
			{op: "observe", input: 0, ts: 100_000, want: min},
			{op: "observe", input: 1, ts: 50_000, want: 40_000},
			{op: "behind", input: 1, want: 40_000},
			{op: "observe", input: 0, ts: 300_000, at: 30 * time.Second, want: 40_000},
			{op: "check", at: 2 * time.Minute, want: 40_000}, // input 1's fetch is slow, not over
			{op: "check", at: 11 * time.Minute, want: 40_000},
			{op: "check", at: 12 * time.Minute, want: 290_000}, // bounded: 12 × idleAfter
		}},
		{"caught up again: idle after idleAfter", 2, []wmStep{
			{op: "observe", input: 0, ts: 100_000, want: min},
			{op: "observe", input: 1, ts: 50_000, want: 40_000},
			{op: "behind", input: 1, want: 40_000},
			{op: "caught-up", input: 1, want: 40_000},
			{op: "observe", input: 0, ts: 300_000, at: 30 * time.Second, want: 40_000},
			{op: "check", at: 60 * time.Second, want: 290_000},
		}},
		{"near MinInt64 the lag saturates", 1, []wmStep{
			{op: "observe", ts: math.MinInt64 + 5, want: min},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWatermarks(tt.n, 10*time.Second, time.Minute)
			for i, s := range tt.steps {
				now := wall.Add(s.at)
				switch s.op {
				case "observe":
					w.Observe(s.input, s.ts, now)
				case "idle":
					w.MarkIdle(s.input)
				case "behind", "caught-up":
					w.SetBehind(s.input, s.op == "behind")
				case "advance":
					w.AdvanceTo(s.ts)
				}
				if got := w.Current(now); got != s.want {
					t.Fatalf("step %d (%s input %d ts %d): Current = %d, want %d", i, s.op, s.input, s.ts, got, s.want)
				}
			}
		})
	}
}

func TestWatermarksIdleDetectionOff(t *testing.T) {
	w := NewWatermarks(2, 0, 0)
	w.Observe(0, 1000, wall)
	if got := w.Current(wall.Add(24 * time.Hour)); got != math.MinInt64 {
		t.Errorf("Current = %d: a silent input must hold back forever without idleAfter", got)
	}
	w.MarkIdle(1)
	if got := w.Current(wall.Add(24 * time.Hour)); got != 1000 {
		t.Errorf("Current after MarkIdle = %d, want 1000", got)
	}
}

// TestWatermarksNeverDecrease feeds records to random inputs at random
// wall times, with inputs going quiet and being marked idle, and checks
// that the watermark never goes back and never passes the largest ts seen
// minus the lag.
func TestWatermarksNeverDecrease(t *testing.T) {
	const lag = 10_000
	w := NewWatermarks(5, lag*time.Millisecond, time.Minute)
	rng := rand.New(rand.NewPCG(7, 7))
	now := wall
	last, maxTs := int64(math.MinInt64), int64(math.MinInt64)
	for i := range 100_000 {
		now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		input := rng.IntN(5)
		if input == 4 && rng.IntN(100) != 0 {
			input = 3 // input 4 is mostly quiet
		}
		ts := int64(i*10) + rng.Int64N(40_000) - 20_000
		maxTs = max(maxTs, ts)
		w.Observe(input, ts, now)
		if rng.IntN(1000) == 0 {
			w.MarkIdle(rng.IntN(5))
		}
		got := w.Current(now)
		if got < last {
			t.Fatalf("record %d: watermark went back from %d to %d", i, last, got)
		}
		if got > maxTs-lag {
			t.Fatalf("record %d: watermark %d passed max ts %d − lag", i, got, maxTs)
		}
		last = got
	}
	if last < 999_990-20_000-lag-60_000 {
		t.Errorf("watermark %d stayed far behind the data", last)
	}
}

func TestSaturatingArithmetic(t *testing.T) {
	tests := []struct {
		a, b, sum, diff int64
	}{
		{1, 2, 3, -1},
		{math.MaxInt64, 1, math.MaxInt64, math.MaxInt64 - 1},
		{math.MinInt64, 1, math.MinInt64 + 1, math.MinInt64},
		{math.MinInt64, -1, math.MinInt64, math.MinInt64 + 1},
		{0, math.MinInt64, math.MinInt64, math.MaxInt64},
		{-1, math.MinInt64, math.MinInt64, math.MaxInt64},
		{math.MaxInt64, math.MaxInt64, math.MaxInt64, 0},
	}
	for _, tt := range tests {
		if got := addSat(tt.a, tt.b); got != tt.sum {
			t.Errorf("addSat(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.sum)
		}
		if got := subSat(tt.a, tt.b); got != tt.diff {
			t.Errorf("subSat(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.diff)
		}
	}
}

func BenchmarkWatermarksObserve(b *testing.B) {
	w := NewWatermarks(5, 10*time.Second, time.Minute)
	now := time.Now()
	b.ReportAllocs()
	for i := range b.N {
		w.Observe(i%5, int64(i), now)
	}
}

func BenchmarkWatermarksCurrent(b *testing.B) {
	w := NewWatermarks(5, 10*time.Second, time.Minute)
	now := time.Now()
	for i := range 5 {
		w.Observe(i, int64(i), now)
	}
	var sink int64
	b.ReportAllocs()
	for range b.N {
		sink += w.Current(now)
	}
	_ = sink
}
