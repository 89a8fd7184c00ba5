package windowing

// Advance brings event time up to watermark: it releases the items of r
// with ts < watermark and fires the timers of t with at <= watermark as one
// sequence in event-time order. A timer at T fires after every item with
// ts < T and before every item with ts >= T, because T is the first
// instant at which its condition holds (see Inactivity.Deadline; a window
// [start, end) closes at end). onItem and onTimer may Set timers and Push
// items; what they add is merged into the same sequence if due.
//
// Calling r.Release and then t.PopDue instead would fire a timer at T after
// items later than T whenever the watermark jumps past several of each,
// and would miss the timers that those items set before later items.
func Advance[T any, K comparable](watermark int64, r *Reorder[T], t *Timers[K],
	onItem func(item *T), onTimer func(key K, at int64)) {
	for {
		at, timerDue := t.Next()
		timerDue = timerDue && at <= watermark
		ts, itemDue := r.Next()
		itemDue = itemDue && ts < watermark
		switch {
		case timerDue && (!itemDue || at <= ts):
			key, at := t.pop()
			onTimer(key, at)
		case itemDue:
			r.releaseFirst(onItem)
		default:
			return
		}
	}
}
