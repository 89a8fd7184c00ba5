package windowing

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// event stands for a record: ordered by (ts, id), as the pipeline orders
// records by (ts, event id).
type event struct {
	ts, id int64
	pad    [2]int64 // a realistic item is a few words
}

func eventLess(a, b *event) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	return a.id < b.id
}

func eventCmp(a, b event) int {
	return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.id, b.id))
}

func ids(items []event) []int64 {
	out := make([]int64, len(items))
	for i, e := range items {
		out[i] = e.id
	}
	return out
}

func TestReorderReleasesStrictlyBeforeWatermark(t *testing.T) {
	r := NewReorder(eventLess)
	var out []event
	collect := func(e *event) { out = append(out, *e) }
	r.Push(10, event{ts: 10, id: 2})
	r.Push(5, event{ts: 5, id: 9})
	r.Release(10, collect)
	if !slices.Equal(ids(out), []int64{9}) {
		t.Fatalf("Release(10) gave %v, want only the item at 5", ids(out))
	}
	// An item at ts == the old watermark may still arrive and sort first.
	r.Push(10, event{ts: 10, id: 1})
	r.Release(11, collect)
	if !slices.Equal(ids(out), []int64{9, 1, 2}) {
		t.Fatalf("released %v, want [9 1 2]", ids(out))
	}
	if r.Len() != 0 {
		t.Errorf("Len = %d, want 0", r.Len())
	}
}

func TestReorderDrain(t *testing.T) {
	r := NewReorder(eventLess)
	for _, e := range []event{{ts: math.MaxInt64, id: 1}, {ts: 3, id: 2}, {ts: 3, id: 1}} {
		r.Push(e.ts, e)
	}
	if ts, ok := r.Next(); !ok || ts != 3 {
		t.Errorf("Next = %d, %v; want 3, true", ts, ok)
	}
	var out []event
	r.Drain(func(e *event) { out = append(out, *e) })
	if got := ids(out); !slices.Equal(got, []int64{1, 2, 1}) || out[2].ts != math.MaxInt64 {
		t.Errorf("Drain gave %v", out)
	}
	if _, ok := r.Next(); ok {
		t.Error("Next on an empty buffer")
	}
}

func TestReorderPushDuringRelease(t *testing.T) {
	r := NewReorder(eventLess)
	r.Push(1, event{ts: 1, id: 1})
	r.Push(3, event{ts: 3, id: 3})
	var out []int64
	r.Release(10, func(e *event) {
		out = append(out, e.id)
		if e.id == 1 {
			r.Push(2, event{ts: 2, id: 2}) // due: released in this call
			r.Push(20, event{ts: 20, id: 20})
		}
		if e.id == 2 && e.ts != 2 {
			t.Errorf("item changed under fn: %+v", *e)
		}
	})
	if !slices.Equal(out, []int64{1, 2, 3}) || r.Len() != 1 {
		t.Errorf("released %v, Len %d; want [1 2 3], 1", out, r.Len())
	}
}

// TestReorderDeterminism is the arrival-order property: items shuffled
// so that none arrives more than maxOutOfOrder after a later-ts item (so
// none is behind the watermark when it arrives) are released in exactly
// the sorted order, for any arrival order and any Release schedule. Many
// items share a ts so that the tie-break and the strict rule matter.
func TestReorderDeterminism(t *testing.T) {
	const (
		n             = 5000
		maxOutOfOrder = 200 // ms
	)
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 42))
		items := make([]event, n)
		for i := range items {
			items[i] = event{ts: int64(rng.IntN(n / 4)), id: int64(i)}
		}
		want := slices.Clone(items)
		slices.SortFunc(want, eventCmp)

		// Arrival order: sort by ts + a delay of up to maxOutOfOrder.
		arrival := make([]int64, n)
		for i := range items {
			arrival[i] = items[i].ts + rng.Int64N(maxOutOfOrder+1)
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(arrival[a], arrival[b]) })

		wm := NewWatermarks(1, maxOutOfOrder*time.Millisecond, 0)
		r := NewReorder(eventLess)
		var got []event
		collect := func(e *event) { got = append(got, *e) }
		for _, i := range order {
			e := items[i]
			if w := wm.Current(wall); e.ts < w {
				t.Fatalf("seed %d: generator made item %+v behind watermark %d", seed, e, w)
			}
			wm.Observe(0, e.ts, wall)
			r.Push(e.ts, e)
			if rng.IntN(4) == 0 {
				r.Release(wm.Current(wall), collect)
			}
		}
		wm.AdvanceTo(math.MaxInt64)
		r.Release(wm.Current(wall), collect)
		r.Drain(collect)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: release order differs from sorted order", seed)
		}
	}
}

// TestReorderMatchesSortedModel runs random Push, Release (with
// watermarks that may even go back), Next and Drain calls against a
// Reorder and a plain slice: every Release must give exactly the held
// items with ts < watermark, sorted. Timestamps cross zero and reach both
// ends of int64, to exercise the radix buckets.
func TestReorderMatchesSortedModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	r := NewReorder(eventLess)
	var model []event
	var got []event
	collect := func(e *event) { got = append(got, *e) }
	wm, id := int64(-5000), int64(0)
	for step := range 50_000 {
		switch k := rng.IntN(20); {
		case k < 12: // on time or a little behind
			id++
			e := event{ts: wm + rng.Int64N(3000) - 200, id: id}
			r.Push(e.ts, e)
			model = append(model, e)
		case k == 12: // extremes
			id++
			e := event{ts: []int64{math.MinInt64, math.MaxInt64, -1, 0}[rng.IntN(4)], id: id}
			r.Push(e.ts, e)
			model = append(model, e)
		case k < 19:
			if rng.IntN(10) == 0 {
				wm -= rng.Int64N(500) // a caller's watermark may go back
			} else {
				wm += rng.Int64N(400)
			}
			got = got[:0]
			r.Release(wm, collect)
			var want, kept []event
			for _, e := range model {
				if e.ts < wm {
					want = append(want, e)
				} else {
					kept = append(kept, e)
				}
			}
			slices.SortFunc(want, eventCmp)
			model = kept
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: Release(%d) gave %d items, want %d (or a different order)", step, wm, len(got), len(want))
			}
		default:
			got = got[:0]
			r.Drain(collect)
			slices.SortFunc(model, eventCmp)
			if !slices.Equal(got, model) {
				t.Fatalf("step %d: Drain gave %d items, want %d", step, len(got), len(model))
			}
			model = model[:0]
		}
		if r.Len() != len(model) {
			t.Fatalf("step %d: Len = %d, want %d", step, r.Len(), len(model))
		}
		if ts, ok := r.Next(); ok != (len(model) > 0) || ok && ts != slices.MinFunc(model, eventCmp).ts {
			t.Fatalf("step %d: Next = %d, %v", step, ts, ok)
		}
	}
}

// BenchmarkReorderPushRelease pushes one record and releases what the
// watermark passed, per op, in steady state. Records arrive up to lag ms
// late at one per ms, so about lag records are held: the cost grows with
// the log of that and, past the CPU caches, with memory latency.
func BenchmarkReorderPushRelease(b *testing.B) {
	for _, lag := range []int64{1_000, 10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("held=%d", lag), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			delays := make([]int64, 1<<16)
			for i := range delays {
				delays[i] = rng.Int64N(lag)
			}
			r := NewReorder(eventLess)
			var sink int64
			release := func(e *event) { sink += e.id }
			maxTs := int64(0)
			step := func(i int) {
				ts := int64(i) - delays[i&(len(delays)-1)]
				maxTs = max(maxTs, ts)
				r.Push(ts, event{ts: ts, id: int64(i)})
				r.Release(maxTs-lag, release)
			}
			warm := 3 * int(lag)
			for i := range warm {
				step(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				step(warm + i)
			}
		})
	}
}

// BenchmarkReorder1M pushes and releases 1 M records per op (held about
// 10 000 at a time), reusing the buffer across ops; event time keeps going
// forward from op to op. ns/item is the figure to compare with
// BenchmarkReorderPushRelease.
func BenchmarkReorder1M(b *testing.B) {
	const n, lag = 1_000_000, 10_000
	rng := rand.New(rand.NewPCG(1, 3))
	delays := make([]int64, n)
	for i := range delays {
		delays[i] = rng.Int64N(lag)
	}
	r := NewReorder(eventLess)
	var sink int64
	release := func(e *event) { sink += e.id }
	start := int64(0)
	run := func() {
		maxTs := int64(math.MinInt64)
		for i, d := range delays {
			ts := start + int64(i) - d
			maxTs = max(maxTs, ts)
			r.Push(ts, event{ts: ts, id: int64(i)})
			r.Release(maxTs-lag, release)
		}
		r.Drain(release)
		start += n + lag
	}
	run() // grow the buffers
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		run()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
}
