package windowing

import (
	"fmt"
	"slices"
	"testing"
)

func TestAdvanceInterleavesItemsAndTimers(t *testing.T) {
	r := NewReorder(eventLess)
	var tm Timers[string]
	for _, ts := range []int64{20, 5, 15, 10} {
		r.Push(ts, event{ts: ts, id: ts})
	}
	tm.Set("t10", 10)
	tm.Set("t3", 3)
	tm.Set("t20", 20)
	var got []string
	onItem := func(e *event) {
		got = append(got, fmt.Sprint("item", e.ts))
		if e.ts == 5 {
			tm.Set("s12", 12) // set by an item, due before later items
		}
	}
	onTimer := func(k string, at int64) {
		got = append(got, k)
		if k == "s12" {
			r.Push(13, event{ts: 13, id: 13}) // pushed by a timer, due
		}
	}
	Advance(20, r, &tm, onItem, onTimer)
	// A timer at T goes after items < T and before items >= T; the item
	// at 20 waits for a watermark past 20, the timer at 20 does not.
	want := []string{"t3", "item5", "t10", "item10", "s12", "item13", "item15", "t20"}
	if !slices.Equal(got, want) {
		t.Errorf("sequence %v\nwant     %v", got, want)
	}
	if r.Len() != 1 || tm.Len() != 0 {
		t.Errorf("left %d items and %d timers, want 1 and 0", r.Len(), tm.Len())
	}
}

func BenchmarkAdvance(b *testing.B) {
	r := NewReorder(eventLess)
	var tm Timers[int64]
	var sink int64
	onItem := func(e *event) { tm.Set(e.id%1024, e.ts+5000) }
	onTimer := func(k int64, at int64) { sink += k }
	for i := range int64(100_000) {
		r.Push(i, event{ts: i, id: i})
		Advance(i-1000, r, &tm, onItem, onTimer)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range int64(b.N) {
		ts := 100_000 + i
		r.Push(ts, event{ts: ts, id: ts})
		Advance(ts-1000, r, &tm, onItem, onTimer)
	}
}
