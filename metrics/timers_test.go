package metrics

import (
	"cmp"
	"fmt"
	"math"
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

// TestTimerQueueMatchesOneHeap: the two-heap queue wakes exactly the
// sessions one heap would, in the same order, whatever the span: pushes
// land on both sides of the horizon, some sessions are re-armed earlier
// (leaving stale items) or deleted, and the watermark moves in steps.
func TestTimerQueueMatchesOneHeap(t *testing.T) {
	for _, span := range []int64{0, 1, 7, 40, 1000} {
		t.Run(fmt.Sprint("span ", span), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(span)))
			// Two session sets with equal keys, one per structure, since
			// popping disarms the session.
			const n = 300
			mk := func() []*session {
				ss := make([]*session, n)
				for i := range ss {
					ss[i] = &session{key: fmt.Sprintf("k%04d", i), timerAt: math.MaxInt64}
				}
				return ss
			}
			qs, hs := mk(), mk()
			q, h := newTimerQueue(span), timerHeap{}
			arm := func(i int, at int64) {
				if at < qs[i].timerAt {
					qs[i].timerAt, hs[i].timerAt = at, at
					q.push(at, qs[i])
					h.push(at, hs[i])
				}
			}
			var woken []string
			for wm := int64(0); wm < 200; wm += 1 + rng.Int64N(6) {
				for range 20 {
					i := rng.IntN(n)
					switch r := rng.IntN(10); {
					case r == 0:
						qs[i].deleted, hs[i].deleted = true, true
					default:
						arm(i, wm+rng.Int64N(60))
					}
				}
				for {
					a, okA := q.popDue(wm)
					b, okB := oneHeapPopDue(&h, wm)
					if okA != okB || okA && a.key != b.key {
						t.Fatalf("wm %d: queue woke %v, one heap %v (after %d wakes)", wm, keyOf(a), keyOf(b), len(woken))
					}
					if !okA {
						break
					}
					woken = append(woken, a.key)
				}
			}
			if len(woken) < n/2 {
				t.Fatalf("only %d wakes: the test exercises too little", len(woken))
			}
		})
	}
}

func keyOf(s *session) string {
	if s == nil {
		return "none"
	}
	return s.key
}

// oneHeapPopDue is the single heap's popDue, which the queue must match.
func oneHeapPopDue(h *timerHeap, watermark int64) (*session, bool) {
	for len(*h) > 0 && (*h)[0].at <= watermark {
		it := h.pop()
		if !it.live() {
			continue
		}
		it.s.timerAt = math.MaxInt64
		return it.s, true
	}
	return nil, false
}

// TestTimerQueueSplitsAtTheHorizon: once the queue knows the watermark
// (a restore tells it before rebuilding the timers), wake-ups within span
// go to the small near heap and later ones to the far heap.
func TestTimerQueueSplitsAtTheHorizon(t *testing.T) {
	q := newTimerQueue(100)
	s := &session{key: "k"}
	q.push(50, s) // the watermark is unknown: everything is far
	q.advance(1000)
	q.push(1100, s)
	q.push(1101, s)
	if len(q.near) != 1 || q.near[0].at != 1100 || len(q.far) != 2 {
		t.Fatalf("near %v, far %v; want near [1100], far [50 1101]", q.near, q.far)
	}
}
