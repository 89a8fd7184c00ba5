package metrics

import (
	"cmp"
	"container/heap"
	"slices"
)

// A buyer's facts (exclusive.go) are kept ordered by ts, then kind, then the event id's hash:
// a re-delivery is found, and the order is the same whatever the arrival
// order.
type factOrder struct {
	ts   int64
	kind xkind
	hash uint64
}

func (a factOrder) compare(b factOrder) int {
	switch {
	case a.ts != b.ts:
		return cmp.Compare(a.ts, b.ts)
	case a.kind != b.kind:
		return int(a.kind) - int(b.kind)
	}
	return cmp.Compare(a.hash, b.hash)
}

type fact interface{ order() factOrder }

func (r relEvent) order() factOrder { return factOrder{r.ts, r.kind, r.hash} }
func (m mark) order() factOrder     { return factOrder{m.ts, m.kind, m.hash} }

// insertFact inserts f in order; false for a re-delivery.
func insertFact[F fact](list *[]F, f F) bool {
	i, found := slices.BinarySearchFunc(*list, f, func(a, b F) int { return a.order().compare(b.order()) })
	if found {
		return false
	}
	*list = slices.Insert(*list, i, f)
	return true
}

// addRel inserts a relationship event; false for a re-delivery.
func (b *xbuyer) addRel(r relEvent) bool { return insertFact(&b.rels, r) }

// addMark inserts any other fact; false for a re-delivery.
func (b *xbuyer) addMark(m mark) bool { return insertFact(&b.marks, m) }

// removeSession drops the session's messages, if held: a close taken
// back, or about to be shown again.
func (b *xbuyer) removeSession(id uint64) {
	b.sessions = slices.DeleteFunc(b.sessions, func(s xsession) bool { return s.id == id })
}

// empty reports whether the buyer holds no fact any more.
func (b *xbuyer) empty() bool {
	return len(b.rels)+len(b.marks)+len(b.sessions) == 0
}

// changedAt records that b got a fact at ts: stepped now when the
// watermark has passed it (late, or a session's close), else held until
// it does.
func (x *exclusive) changedAt(b *xbuyer, ts int64) {
	x.touchBuyer(b)
	if ts >= x.sh.wm {
		heap.Push(&x.wake, xwake{at: ts, b: b})
		return
	}
	x.recompute(b)
}

// xwake is a held fact's wake-up: when the watermark passes at, b is
// recomputed. A buyer has one per held fact; extra ones cost a recompute
// that changes nothing.
type xwake struct {
	at int64
	b  *xbuyer
}

type xwakeHeap []xwake

func (h xwakeHeap) Len() int { return len(h) }
func (h xwakeHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].b.key < h[j].b.key
}
func (h xwakeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *xwakeHeap) Push(v any)   { *h = append(*h, v.(xwake)) }
func (h *xwakeHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	old[len(old)-1] = xwake{}
	*h = old[:len(old)-1]
	return v
}

// stepDue recomputes every buyer with a fact the watermark has passed.
func (x *exclusive) stepDue() {
	wm := x.sh.wm
	for len(x.wake) > 0 && x.wake[0].at < wm {
		w := heap.Pop(&x.wake).(xwake)
		if w.b.deleted || w.b.queued {
			continue
		}
		w.b.queued = true
		x.due = append(x.due, w.b)
	}
	for _, b := range x.due {
		b.queued = false
		x.recompute(b)
	}
	clear(x.due)
	x.due = x.due[:0]
}
