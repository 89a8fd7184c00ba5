package operators

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTimerHeapOrder: whatever the order of pushes, items come out by
// (time, session key), for heaps of several depths.
func TestTimerHeapOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 4, 5, 6, 20, 21, 85, 86, 1000} {
		var h timerHeap
		var want []timerItem
		for i := range n {
			it := timerItem{at: rng.Int64N(50), s: &session{key: fmt.Sprintf("k%04d", i)}}
			h.push(it.at, it.s)
			want = append(want, it)
		}
		slices.SortFunc(want, func(a, b timerItem) int {
			return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.s.key, b.s.key))
		})
		for i, w := range want {
			got := h.pop()
			if got.at != w.at || got.s != w.s {
				t.Fatalf("n=%d: pop %d = (%d, %s), want (%d, %s)", n, i, got.at, got.s.key, w.at, w.s.key)
			}
		}
		if len(h) != 0 {
			t.Fatalf("n=%d: %d items left", n, len(h))
		}
	}
}
