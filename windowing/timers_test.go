package windowing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

type fired struct {
	key string
	at  int64
}

func popAll(tm *Timers[string], watermark int64) []fired {
	var out []fired
	tm.PopDue(watermark, func(k string, at int64) { out = append(out, fired{k, at}) })
	return out
}

func TestTimersFireInTimeThenSetOrder(t *testing.T) {
	var tm Timers[string]
	tm.Set("c", 30)
	tm.Set("b", 20)
	tm.Set("x", 20) // same time as b, set later: fires after b
	tm.Set("a", 10)
	tm.Set("late", 100)
	got := popAll(&tm, 30)
	want := []fired{{"a", 10}, {"b", 20}, {"x", 20}, {"c", 30}}
	if !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
	if at, ok := tm.Next(); !ok || at != 100 || tm.Len() != 1 {
		t.Errorf("after PopDue: Next = %d, %v, Len = %d; want 100, true, 1", at, ok, tm.Len())
	}
}

func TestTimersSetReplaces(t *testing.T) {
	var tm Timers[string]
	tm.Set("a", 10)
	tm.Set("b", 10)
	tm.Set("a", 50) // later
	tm.Set("b", 5)  // earlier
	if tm.Len() != 2 {
		t.Fatalf("Len = %d, want 2", tm.Len())
	}
	if at, ok := tm.At("a"); !ok || at != 50 {
		t.Errorf("At(a) = %d, %v; want 50", at, ok)
	}
	if got, want := popAll(&tm, 100), []fired{{"b", 5}, {"a", 50}}; !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
	// Re-setting to the same time moves the key behind others at that time.
	tm.Set("p", 7)
	tm.Set("q", 7)
	tm.Set("p", 7)
	if got, want := popAll(&tm, 7), []fired{{"q", 7}, {"p", 7}}; !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
}

func TestTimersDelete(t *testing.T) {
	var tm Timers[string]
	for i, k := range []string{"a", "b", "c", "d", "e"} {
		tm.Set(k, int64(10*(i+1)))
	}
	tm.Delete("c")
	tm.Delete("a") // the root
	tm.Delete("zz")
	if _, ok := tm.At("c"); ok {
		t.Error("At(c) after Delete")
	}
	if got, want := popAll(&tm, 100), []fired{{"b", 20}, {"d", 40}, {"e", 50}}; !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
	if _, ok := tm.Next(); ok || tm.Len() != 0 {
		t.Errorf("not empty after firing all")
	}
}

func TestTimersSetDuringFire(t *testing.T) {
	var tm Timers[string]
	tm.Set("a", 10)
	tm.Set("b", 20)
	tm.Set("c", 40)
	var got []fired
	tm.PopDue(30, func(k string, at int64) {
		got = append(got, fired{k, at})
		switch {
		case k == "a" && at == 10:
			tm.Set("a", 25)   // re-arm the key being fired: due, fires in this call
			tm.Set("new", 15) // earlier than b and due: fires next
			tm.Set("out", 31) // not due
			tm.Delete("c")
		case k == "b":
			tm.Set("past", 5) // already due and earlier than b: still fires now
		}
	})
	want := []fired{{"a", 10}, {"new", 15}, {"b", 20}, {"past", 5}, {"a", 25}}
	if !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
	if at, ok := tm.Next(); !ok || at != 31 || tm.Len() != 1 {
		t.Errorf("left Next = %d, Len = %d; want 31, 1", at, tm.Len())
	}
}

// TestTimersMatchSortedModel runs random Set, Delete and PopDue calls
// against a Timers and a plain map, checking every fired sequence against
// the map's timers sorted by (time, set order).
func TestTimersMatchSortedModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var tm Timers[int]
	type armed struct{ at, seq int64 }
	model := map[int]armed{}
	var seq int64
	for step := range 20_000 {
		switch r := rng.IntN(10); {
		case r < 6:
			k, at := rng.IntN(300), rng.Int64N(1000)+int64(step)
			seq++
			tm.Set(k, at)
			model[k] = armed{at, seq}
		case r < 8:
			k := rng.IntN(300)
			tm.Delete(k)
			delete(model, k)
		default:
			wm := int64(step) + rng.Int64N(200)
			var want []int
			for k, a := range model {
				if a.at <= wm {
					want = append(want, k)
				}
			}
			slices.SortFunc(want, func(x, y int) int {
				if model[x].at != model[y].at {
					return int(model[x].at - model[y].at)
				}
				return int(model[x].seq - model[y].seq)
			})
			var got []int
			tm.PopDue(wm, func(k int, at int64) {
				if at != model[k].at {
					t.Fatalf("key %d fired at %d, armed at %d", k, at, model[k].at)
				}
				got = append(got, k)
			})
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: fired %v, want %v", step, got, want)
			}
			for _, k := range got {
				delete(model, k)
			}
		}
		if tm.Len() != len(model) {
			t.Fatalf("step %d: Len = %d, want %d", step, tm.Len(), len(model))
		}
	}
}

func TestTimersReleaseKeys(t *testing.T) {
	// Fired and deleted keys must not stay reachable through free slots.
	var tm Timers[string]
	tm.Set(strings.Repeat("k", 3), 1)
	tm.Set("d", 2)
	tm.Delete("d")
	popAll(&tm, 10)
	for i, s := range tm.slots {
		if s.key != "" {
			t.Errorf("slot %d still holds %q", i, s.key)
		}
	}
}

// BenchmarkTimersSessionChurn is the per-event pattern of an inactivity
// timeout: every event re-arms its key a little later, the watermark
// advances, and the timers of keys that went quiet fire. Keys are never
// reused, as with ever-new session ids.
func BenchmarkTimersSessionChurn(b *testing.B) {
	const live = 10_000 // open keys at any time
	var tm Timers[uint64]
	rng := rand.New(rand.NewPCG(1, 1))
	ts, next := int64(0), uint64(0)
	step := func() {
		ts++
		k := next - uint64(rng.IntN(live))
		if rng.IntN(16) == 0 || next < live {
			k = next // a new key
			next++
		}
		tm.Set(k, ts+live)
		tm.PopDue(ts, func(uint64, int64) {})
	}
	for range 50 * live { // warm up to steady state
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		step()
	}
}

func BenchmarkTimersSetReplace(b *testing.B) {
	var tm Timers[uint32]
	const n = 10_000
	for k := range uint32(n) {
		tm.Set(k, int64(k))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		tm.Set(uint32(i%n), int64(i+n))
	}
}

func BenchmarkTimersDeleteSet(b *testing.B) {
	var tm Timers[uint32]
	const n = 10_000
	for k := range uint32(n) {
		tm.Set(k, int64(k))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := uint32(i % n)
		tm.Delete(k)
		tm.Set(k, int64(i))
	}
}

func BenchmarkTimersPopDue(b *testing.B) {
	var tm Timers[uint32]
	const n = 10_000
	for k := range uint32(n) {
		tm.Set(k, int64(k))
	}
	at := int64(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		tm.PopDue(int64(i), func(k uint32, _ int64) {
			tm.Set(k, at) // keep the heap at n timers
			at++
		})
	}
}

func ExampleTimers() {
	var tm Timers[string]
	tm.Set("session-2", 2000)
	tm.Set("session-1", 1000)
	tm.Set("session-3", 1000)
	tm.PopDue(1500, func(key string, at int64) { fmt.Println(key, at) })
	// Output:
	// session-1 1000
	// session-3 1000
}
