package windowing

import (
	"math/bits"
	"sort"
)

// Reorder holds items until the watermark passes them and releases them in
// event-time order, ties broken by a caller-supplied total order, so the
// release sequence does not depend on arrival order.
//
// Release rule: an item is released when ts < watermark, strictly. The
// watermark already trails the largest ts seen by max_out_of_order, so any
// record that can still arrive on time has ts >= watermark; releasing an
// item with ts == watermark could put it ahead of an equal-ts item that
// sorts before it and has not arrived yet.
//
// An item pushed with ts < watermark (behind the watermark but perhaps not
// late, see IsLate) is released by the next Release, after items that were
// released before it arrived: no buffer can restore order for it.
//
// Reorder is a radix heap of values: items wait in 65 buckets by the
// highest bit in which their ts differs from the last ts released, and
// move to lower buckets as that advances, each a sequential append, a few
// times over its stay. Unlike a binary heap it does not slow down once the
// items held (the arrival rate times max_out_of_order) outgrow the CPU
// caches. The caller's less only orders items with equal ts. Bucket
// capacity is reused: Push and Release allocate nothing once the buffer
// has grown to its peak, which may hold up to about twice the largest
// number of items held.
//
// Reorder is not safe for concurrent use.
type Reorder[T any] struct {
	// base is the radix key of the ts last moved to ready; every item in
	// the buckets has a key >= base.
	base    uint64
	buckets [65][]reorderEntry[T] // by bits.Len64(key ^ base)
	minKey  [65]uint64            // smallest key in each non-empty bucket
	full    uint64                // bit b-1 set: bucket b > 0 is not empty
	queued  int                   // items in buckets

	ready []reorderEntry[T] // items at ts == base, sorted, being released
	next  int               // ready[next:] is still to release

	// behind holds items pushed with a key below base, after later items
	// were released. They come before everything else.
	behind       []reorderEntry[T]
	behindNext   int  // behind[behindNext:] is still to release
	behindSorted bool // behind[behindNext:] is sorted

	sorter reorderSorter[T]
}

type reorderEntry[T any] struct {
	ts   int64
	item T
}

// radixKey maps ts to an unsigned key in the same order.
func radixKey(ts int64) uint64 { return uint64(ts) ^ 1<<63 }

// NewReorder returns an empty buffer. less must order items completely
// (for example by (ts, event id)); it is only consulted between items with
// equal ts.
func NewReorder[T any](less func(a, b *T) bool) *Reorder[T] {
	return &Reorder[T]{sorter: reorderSorter[T]{less: less}}
}

// Len returns the number of items held.
func (r *Reorder[T]) Len() int {
	return len(r.behind) - r.behindNext + len(r.ready) - r.next + r.queued
}

// Next returns the smallest ts held, and false if the buffer is empty.
func (r *Reorder[T]) Next() (int64, bool) {
	switch {
	case r.behindNext < len(r.behind):
		if !r.behindSorted {
			r.sort(r.behind[r.behindNext:])
			r.behindSorted = true
		}
		return r.behind[r.behindNext].ts, true
	case r.next < len(r.ready):
		return r.ready[r.next].ts, true
	case r.queued > 0:
		return int64(r.minKey[r.firstBucket()] ^ 1<<63), true
	}
	return 0, false
}

// Push adds an item with event time ts.
func (r *Reorder[T]) Push(ts int64, item T) {
	k := radixKey(ts)
	if k < r.base {
		r.behind = append(r.behind, reorderEntry[T]{ts: ts, item: item})
		r.behindSorted = false
		return
	}
	r.enqueue(k, reorderEntry[T]{ts: ts, item: item})
	r.queued++
}

// Release calls fn, in order, for every item with ts < watermark. The
// pointer is valid only during the call. fn may Push.
func (r *Reorder[T]) Release(watermark int64, fn func(item *T)) {
	r.release(watermark, false, 0, fn)
}

// Drain releases every item held, in order (end of input). Unlike
// Release(math.MaxInt64) it also releases items with ts == math.MaxInt64.
func (r *Reorder[T]) Drain(fn func(item *T)) {
	r.release(0, true, 0, fn)
}

// releaseFirst releases the first item; Advance uses it to interleave
// items with timers.
func (r *Reorder[T]) releaseFirst(fn func(item *T)) {
	r.release(0, true, 1, fn)
}

// release releases, in order, the items with ts < watermark, or every
// item if all; at most limit of them if limit > 0. Next and take keep the
// radix base at or below the ts of the last item released, so that
// records arriving on time are bucketed rather than put behind.
func (r *Reorder[T]) release(watermark int64, all bool, limit int, fn func(item *T)) {
	for n := 0; limit <= 0 || n < limit; n++ {
		ts, ok := r.Next()
		if !ok || !all && ts >= watermark {
			return
		}
		fn(&r.take().item)
	}
}

// take removes the first item and returns a pointer to it, valid until
// the next take: the slot is reused only after that. Next must have been
// called since the last Push.
func (r *Reorder[T]) take() *reorderEntry[T] {
	if r.behindNext < len(r.behind) {
		r.behindNext++
		return &r.behind[r.behindNext-1]
	}
	if len(r.behind) > 0 { // all released: reuse the capacity
		clear(r.behind) // drop references held by T
		r.behind, r.behindNext = r.behind[:0], 0
	}
	if r.next == len(r.ready) {
		r.settle()
		r.refill()
	}
	r.next++
	return &r.ready[r.next-1]
}

// enqueue puts an entry with key k >= base into its bucket.
func (r *Reorder[T]) enqueue(k uint64, e reorderEntry[T]) {
	b := bits.Len64(k ^ r.base)
	if len(r.buckets[b]) == 0 || k < r.minKey[b] {
		r.minKey[b] = k
	}
	r.buckets[b] = append(r.buckets[b], e)
	if b > 0 {
		r.full |= 1 << (b - 1)
	}
}

// firstBucket returns the lowest non-empty bucket; queued must be > 0.
func (r *Reorder[T]) firstBucket() int {
	if len(r.buckets[0]) > 0 {
		return 0
	}
	return bits.TrailingZeros64(r.full) + 1
}

// settle makes bucket 0 hold the queued items with the smallest key: it
// moves base up to that key and redistributes the bucket holding it.
// Buckets above keep their items: those differ from the new base in the
// same highest bit as from the old one.
func (r *Reorder[T]) settle() {
	b := r.firstBucket()
	if b == 0 {
		return
	}
	src := r.buckets[b]
	r.buckets[b] = nil
	r.full &^= 1 << (b - 1)
	r.base = r.minKey[b]
	for i := range src {
		r.enqueue(radixKey(src[i].ts), src[i])
	}
	clear(src) // drop references held by T
	r.buckets[b] = src[:0]
}

// refill makes bucket 0, the items at ts == base, the sorted ready run.
func (r *Reorder[T]) refill() {
	clear(r.ready)
	r.ready, r.buckets[0] = r.buckets[0], r.ready[:0]
	r.queued -= len(r.ready)
	r.next = 0
	r.sort(r.ready)
}

func (r *Reorder[T]) sort(s []reorderEntry[T]) {
	if len(s) < 2 {
		return
	}
	r.sorter.s = s
	sort.Sort(&r.sorter)
	r.sorter.s = nil
}

// reorderSorter sorts entries by (ts, less). It is a field of Reorder so
// that passing it to sort.Sort as an interface does not allocate.
type reorderSorter[T any] struct {
	s    []reorderEntry[T]
	less func(a, b *T) bool
}

func (s *reorderSorter[T]) Len() int      { return len(s.s) }
func (s *reorderSorter[T]) Swap(i, j int) { s.s[i], s.s[j] = s.s[j], s.s[i] }
func (s *reorderSorter[T]) Less(i, j int) bool {
	a, b := &s.s[i], &s.s[j]
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	return s.less(&a.item, &b.item)
}
