package metrics

import (
	"math"
	"time"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/tables"
)

// shared is what the session core shares with the families on top of it
// (families.go): the interned names, the shops and their zones, event time
// and finality. The engine embeds it and alone moves event time; a family
// holds a pointer to it, and asks the sessions for anything more through
// its own small interface (attribution's sessionCore, exclusive's
// sessionLogs), never through the engine.
type shared struct {
	zones     *eventtime.ZoneSet
	shopIDs   *interner
	shopZones []*eventtime.Zone // by shop id
	names     *interner         // agents, groups, channels, tasks, robots, intents

	wm          int64 // watermark
	finalBefore int64 // hours ending at or before this are final

	stats *Stats // the engine's
}

func newShared(zones *eventtime.ZoneSet, stats *Stats) shared {
	return shared{
		zones: zones, shopIDs: newInterner(), shopZones: []*eventtime.Zone{nil}, names: newInterner(),
		wm: math.MinInt64, finalBefore: math.MinInt64, stats: stats,
	}
}

// shop interns a shop id and resolves its zone once.
func (w *shared) shop(id []byte) (uint32, *eventtime.Zone) {
	n := w.shopIDs.id(id)
	if int(n) == len(w.shopZones) {
		w.shopZones = append(w.shopZones, w.zones.Lookup(id))
	}
	return n, w.shopZones[n]
}

// shopByName is shop for a string id.
func (w *shared) shopByName(id string) (uint32, *eventtime.Zone) {
	n := w.shopIDs.idString(id)
	if int(n) == len(w.shopZones) {
		w.shopZones = append(w.shopZones, w.zones.LookupString(id))
	}
	return n, w.shopZones[n]
}

// isFinal reports whether the hour starting at hour can no longer change.
// A local hour lasts at most an hour (DST makes some shorter, never
// longer), so hour+1h bounds its end.
func (w *shared) isFinal(hour int64) bool {
	return hour+hourMs <= w.finalBefore
}

// appendHour appends the hour, day and hour_of_day columns of an hour key.
func (w *shared) appendHour(r *tables.Rows, shop uint32, hour int64) {
	z := w.shopZones[shop]
	r.Time(time.UnixMilli(hour).UTC())
	r.Time(dateTime(z.Day(hour)))
	r.UInt8(uint8(z.HourOfDay(hour)))
}

// late counts a late event and returns Apply's answer for it.
func (w *shared) late() (schemas.Reason, bool) {
	w.stats.Late++
	return schemas.ReasonLate, false
}

// unsigned converts a count for a UInt64 column. A negative count would
// mean a retraction without its contribution: counted, written as 0.
func (w *shared) unsigned(v int64) uint64 {
	if v < 0 {
		w.stats.NegativeValues++
		return 0
	}
	return uint64(v)
}
