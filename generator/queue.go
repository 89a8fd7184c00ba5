package generator

// pendingQueue holds generated events until they are due, ordered by their
// delivery key (event time plus delivery delay) and, for equal keys, by the
// order they were generated in, so that the output is deterministic.
//
// Events live in a slab with a free list and the heap orders small
// (key, seq, slot) entries: sifting moves 24 bytes instead of a whole event.
type pendingQueue struct {
	heap []pendingEntry
	slab []event
	free []uint32
	seq  uint64
}

type pendingEntry struct {
	key  int64
	seq  uint64
	slot uint32
}

func (q *pendingQueue) len() int { return len(q.heap) }

// minKey is the key of the next event; the queue must not be empty.
func (q *pendingQueue) minKey() int64 { return q.heap[0].key }

func (q *pendingQueue) push(key int64, ev *event) {
	var slot uint32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
		q.slab[slot] = *ev
	} else {
		slot = uint32(len(q.slab))
		q.slab = append(q.slab, *ev)
	}
	q.seq++
	q.heap = append(q.heap, pendingEntry{key: key, seq: q.seq, slot: slot})
	q.up(len(q.heap) - 1)
}

// pop removes the next event and copies it into dst.
func (q *pendingQueue) pop(dst *event) {
	top := q.heap[0]
	last := len(q.heap) - 1
	q.heap[0] = q.heap[last]
	q.heap = q.heap[:last]
	if last > 0 {
		q.down(0)
	}
	*dst = q.slab[top.slot]
	q.free = append(q.free, top.slot)
}

func (a pendingEntry) before(b pendingEntry) bool {
	return a.key < b.key || (a.key == b.key && a.seq < b.seq)
}

func (q *pendingQueue) up(i int) {
	h := q.heap
	e := h[i]
	for i > 0 {
		parent := (i - 1) / 2
		if !e.before(h[parent]) {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = e
}

func (q *pendingQueue) down(i int) {
	h := q.heap
	n := len(h)
	e := h[i]
	for {
		child := 2*i + 1
		if child >= n {
			break
		}
		if right := child + 1; right < n && h[right].before(h[child]) {
			child = right
		}
		if !h[child].before(e) {
			break
		}
		h[i] = h[child]
		i = child
	}
	h[i] = e
}
