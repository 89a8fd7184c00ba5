package metrics

import "math"

// wakeHeap schedules the attribution's buyers and orders: a min-heap by
// (time, tie, key) in which every entity has at most one place, kept in
// the entity (wakeSlot), so that a new time moves it instead of leaving a
// stale item behind: memory stays one item per scheduled entity, however
// often it is rescheduled (an unpaid order is scheduled 72 h ahead and
// again when it is paid). Entities due at the same time come out in the
// same order whatever the heap's history, so a restored operator, whose
// heap is rebuilt in map order, behaves as the one that saved it.
//
// Equal times are the rule, not the exception: every buyer of a shop's
// day is due at that day's end. The tie, a hash of the key kept in the
// item, orders them without loading the entity and its key; the key
// itself only breaks equal hashes.
type wakeHeap[T wakeable] struct{ items []wake[T] }

// wakeable is an entity the heap can schedule.
type wakeable interface {
	comparable
	wakeKey() string
	wakeSlot() *int32 // index in the heap + 1; 0 when not in it
}

type wake[T wakeable] struct {
	at, tie int64
	v       T
}

func (b *buyer) wakeKey() string  { return b.key }
func (b *buyer) wakeSlot() *int32 { return &b.slot }
func (o *order) wakeKey() string  { return o.key }
func (o *order) wakeSlot() *int32 { return &o.slot }

// wakeTie is the first order among entities due at the same time: a hash
// of the key, so that it is the same in a restored operator.
func wakeTie(key string) int64 { return int64(fnv64(key)) }

func (h *wakeHeap[T]) less(i, j int) bool {
	x, y := &h.items[i], &h.items[j]
	switch {
	case x.at != y.at:
		return x.at < y.at
	case x.tie != y.tie:
		return x.tie < y.tie
	}
	return x.v.wakeKey() < y.v.wakeKey()
}

func (h *wakeHeap[T]) swap(i, j int) {
	q := h.items
	q[i], q[j] = q[j], q[i]
	*q[i].v.wakeSlot(), *q[j].v.wakeSlot() = int32(i+1), int32(j+1)
}

// set schedules v at at, or moves it there.
func (h *wakeHeap[T]) set(v T, at int64) {
	slot := v.wakeSlot()
	if *slot == 0 {
		h.items = append(h.items, wake[T]{at: at, tie: wakeTie(v.wakeKey()), v: v})
		*slot = int32(len(h.items))
		h.up(len(h.items) - 1)
		return
	}
	i := int(*slot) - 1
	h.items[i].at = at
	if !h.up(i) {
		h.down(i)
	}
}

// remove unschedules v, if scheduled.
func (h *wakeHeap[T]) remove(v T) {
	slot := v.wakeSlot()
	if *slot == 0 {
		return
	}
	i, last := int(*slot)-1, len(h.items)-1
	if i != last {
		h.swap(i, last)
	}
	h.items[last] = wake[T]{}
	h.items = h.items[:last]
	*slot = 0
	if i != last && !h.up(i) {
		h.down(i)
	}
}

// nextAt is the earliest scheduled time, math.MaxInt64 when none.
func (h *wakeHeap[T]) nextAt() int64 {
	if len(h.items) == 0 {
		return math.MaxInt64
	}
	return h.items[0].at
}

// pop unschedules and returns the earliest entity; the heap must not be
// empty.
func (h *wakeHeap[T]) pop() T {
	v := h.items[0].v
	h.remove(v)
	return v
}

// up moves item i towards the root; false when it did not move.
func (h *wakeHeap[T]) up(i int) bool {
	moved := false
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.swap(i, p)
		i, moved = p, true
	}
	return moved
}

func (h *wakeHeap[T]) down(i int) {
	for n := len(h.items); ; {
		c := 2*i + 1
		if c >= n {
			return
		}
		if r := c + 1; r < n && h.less(r, c) {
			c = r
		}
		if !h.less(c, i) {
			return
		}
		h.swap(i, c)
		i = c
	}
}
