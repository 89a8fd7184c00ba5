package windowing

// Timers is a set of event-time timers, at most one per key, that fire in
// time order when the watermark reaches them. Equal times fire in the order
// they were set (a replaced timer counts as set by its last Set), so the
// firing order depends only on the sequence of calls, never on map
// iteration or heap history.
//
// Set, Delete and each fired timer cost O(log n) and allocate nothing once
// the heap, slots and map have grown to the peak number of timers.
//
// The zero value is an empty set ready to use. Timers is not safe for
// concurrent use.
type Timers[K comparable] struct {
	heap  []timerEntry   // min-heap by (at, seq)
	slots []timerSlot[K] // stable per-timer records, indexed by timerEntry.slot
	free  []int32        // unused slots
	index map[K]int32    // key -> slot
	seq   uint64         // Set counter, the tie-break for equal times
}

// timerEntry is a heap element. It holds no key so that sifting moves 24
// bytes whatever K is, and updates a slot's position without hashing.
type timerEntry struct {
	at   int64
	seq  uint64
	slot int32
}

// timerSlot ties a key to its current heap position.
type timerSlot[K comparable] struct {
	key K
	pos int32
}

// Len returns the number of pending timers.
func (t *Timers[K]) Len() int { return len(t.heap) }

// Next returns the earliest pending timer time, and false if there is none.
func (t *Timers[K]) Next() (int64, bool) {
	if len(t.heap) == 0 {
		return 0, false
	}
	return t.heap[0].at, true
}

// At returns the time of key's pending timer, and false if it has none.
func (t *Timers[K]) At(key K) (int64, bool) {
	s, ok := t.index[key]
	if !ok {
		return 0, false
	}
	return t.heap[t.slots[s].pos].at, true
}

// Set arms key's timer at time at, replacing the pending one if any.
func (t *Timers[K]) Set(key K, at int64) {
	t.seq++
	if s, ok := t.index[key]; ok {
		i := int(t.slots[s].pos)
		t.heap[i].at, t.heap[i].seq = at, t.seq
		t.fix(i)
		return
	}
	s := t.newSlot(key)
	t.heap = append(t.heap, timerEntry{at: at, seq: t.seq, slot: s})
	t.up(len(t.heap) - 1)
}

// Delete disarms key's timer; it is a no-op if there is none.
func (t *Timers[K]) Delete(key K) {
	s, ok := t.index[key]
	if !ok {
		return
	}
	t.removeAt(int(t.slots[s].pos))
	t.freeSlot(s)
}

// PopDue fires, in (time, set order), every timer with at <= watermark,
// removing each before calling fn. fn may Set and Delete timers, including
// re-arming the key being fired: a timer it sets that is already due fires
// in this same call, even if it is earlier than the one being fired.
func (t *Timers[K]) PopDue(watermark int64, fn func(key K, at int64)) {
	for len(t.heap) > 0 && t.heap[0].at <= watermark {
		key, at := t.pop()
		fn(key, at)
	}
}

// pop removes the earliest timer and returns it. The heap must not be empty.
func (t *Timers[K]) pop() (K, int64) {
	top := t.heap[0]
	key := t.slots[top.slot].key
	t.removeAt(0)
	t.freeSlot(top.slot)
	return key, top.at
}

func (t *Timers[K]) newSlot(key K) int32 {
	var s int32
	if n := len(t.free); n > 0 {
		s = t.free[n-1]
		t.free = t.free[:n-1]
		t.slots[s].key = key
	} else {
		s = int32(len(t.slots))
		t.slots = append(t.slots, timerSlot[K]{key: key})
	}
	if t.index == nil {
		t.index = make(map[K]int32)
	}
	t.index[key] = s
	return s
}

func (t *Timers[K]) freeSlot(s int32) {
	var zero K
	delete(t.index, t.slots[s].key)
	t.slots[s].key = zero // drop references held by K (strings, pointers)
	t.free = append(t.free, s)
}

// removeAt takes heap element i out, keeping the heap ordered.
func (t *Timers[K]) removeAt(i int) {
	last := len(t.heap) - 1
	if i != last {
		t.heap[i] = t.heap[last]
		t.slots[t.heap[i].slot].pos = int32(i)
	}
	t.heap = t.heap[:last]
	if i != last {
		t.fix(i)
	}
}

func (t *Timers[K]) less(a, b *timerEntry) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// fix restores heap order after element i changed.
func (t *Timers[K]) fix(i int) {
	if !t.down(i) {
		t.up(i)
	}
}

// up sifts element i toward the root, moving a hole rather than swapping.
func (t *Timers[K]) up(i int) {
	e := t.heap[i]
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(&e, &t.heap[p]) {
			break
		}
		t.place(i, t.heap[p])
		i = p
	}
	t.place(i, e)
}

// down sifts element i toward the leaves and reports whether it moved.
func (t *Timers[K]) down(i int) bool {
	e, start, n := t.heap[i], i, len(t.heap)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && t.less(&t.heap[r], &t.heap[c]) {
			c = r
		}
		if !t.less(&t.heap[c], &e) {
			break
		}
		t.place(i, t.heap[c])
		i = c
	}
	t.place(i, e)
	return i != start
}

// place stores e at heap position i and records the position in its slot.
func (t *Timers[K]) place(i int, e timerEntry) {
	t.heap[i] = e
	t.slots[e.slot].pos = int32(i)
}
