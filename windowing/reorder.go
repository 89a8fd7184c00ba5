package windowing

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
// Items are kept by value in a 4-ary min-heap whose capacity is reused, so
// Push and Release allocate nothing once the buffer has grown to its peak.
// The caller's less is consulted only between equal timestamps. Each
// operation costs O(log n) with n items held, and n is the arrival rate
// times max_out_of_order: past a few hundred thousand items every level
// of the heap is a cache miss.
//
// Reorder is not safe for concurrent use.
type Reorder[T any] struct {
	heap []reorderEntry[T]
	less func(a, b *T) bool
	out  T // the item being released; fn gets a pointer to it
}

// The heap is 4-ary: half as deep as a binary heap, and a node's children
// are adjacent in memory, which matters more than the extra compares once
// the buffer outgrows the L1 cache.
const reorderArity = 4

type reorderEntry[T any] struct {
	ts   int64
	item T
}

// NewReorder returns an empty buffer. less must order items completely
// (for example by (ts, event id)); it is only consulted between items with
// equal ts.
func NewReorder[T any](less func(a, b *T) bool) *Reorder[T] {
	return &Reorder[T]{less: less}
}

// Len returns the number of items held.
func (r *Reorder[T]) Len() int { return len(r.heap) }

// Next returns the smallest ts held, and false if the buffer is empty.
func (r *Reorder[T]) Next() (int64, bool) {
	if len(r.heap) == 0 {
		return 0, false
	}
	return r.heap[0].ts, true
}

// Push adds an item with event time ts.
func (r *Reorder[T]) Push(ts int64, item T) {
	r.heap = append(r.heap, reorderEntry[T]{ts: ts, item: item})
	r.up(len(r.heap) - 1)
}

// Release calls fn, in order, for every item with ts < watermark. The
// pointer is valid only during the call. fn may Push.
func (r *Reorder[T]) Release(watermark int64, fn func(item *T)) {
	for len(r.heap) > 0 && r.heap[0].ts < watermark {
		r.releaseFirst(fn)
	}
}

// Drain releases every item held, in order (end of input). Unlike
// Release(math.MaxInt64) it also releases items with ts == math.MaxInt64.
func (r *Reorder[T]) Drain(fn func(item *T)) {
	for len(r.heap) > 0 {
		r.releaseFirst(fn)
	}
}

// releaseFirst removes the first item and calls fn with it. The item is
// moved out of the heap first so that fn may Push.
func (r *Reorder[T]) releaseFirst(fn func(item *T)) {
	r.out = r.heap[0].item
	r.removeFirst()
	fn(&r.out)
	var zero T
	r.out = zero // drop references held by T
}

// removeFirst drops the heap's root. It moves the hole at the root down
// along the smaller children to a leaf, then fills it with the last
// element and sifts that up (Floyd's bottom-up deletion): the last
// element is usually among the latest and stays near the leaves, so this
// saves the compare against it at every level on the way down.
func (r *Reorder[T]) removeFirst() {
	h := r.heap
	last := len(h) - 1
	i := 0
	for {
		first := reorderArity*i + 1
		if first >= last {
			break
		}
		c := r.minChild(first, min(first+reorderArity, last))
		h[i] = h[c]
		i = c
	}
	if i != last {
		h[i] = h[last]
	}
	h[last] = reorderEntry[T]{} // drop references held by T
	r.heap = h[:last]
	if i != last {
		r.up(i)
	}
}

// minChild returns the index of the first entry in order among h[from:to].
func (r *Reorder[T]) minChild(from, to int) int {
	h := r.heap
	c := from
	for d := from + 1; d < to; d++ {
		if r.before(&h[d], &h[c]) {
			c = d
		}
	}
	return c
}

func (r *Reorder[T]) before(a, b *reorderEntry[T]) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	return r.less(&a.item, &b.item)
}

// up sifts element i toward the root. It swaps rather than moving a hole:
// less takes pointers, and a pointer to a local copy would make the copy
// escape to the heap, one allocation per call.
func (r *Reorder[T]) up(i int) {
	h := r.heap
	for i > 0 {
		p := (i - 1) / reorderArity
		if !r.before(&h[i], &h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}
