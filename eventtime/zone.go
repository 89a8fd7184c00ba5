package eventtime

import (
	"errors"
	"fmt"
	"math"
	"time"
)

const (
	minuteMs = int64(time.Minute / time.Millisecond)
	hourMs   = int64(time.Hour / time.Millisecond)
	dayMs    = 24 * hourMs

	// notComputed marks a lazily computed instant of an hourCell.
	notComputed = math.MinInt64
)

// Zone answers local-time questions about instants (int64 Unix ms) in one
// time zone: which local hour, day, week or month an instant belongs to,
// and when that period starts, in UTC ms.
//
// A local hour is a maximal run of instants with the same local date, the
// same wall-clock hour and the same UTC offset. So a DST fall-back repeats
// an hour as two distinct hours with distinct starts, a spring-forward hour
// that does not exist has no instants at all, and a 30-minute shift (as in
// Australia/Lord_Howe) leaves a 30-minute hour. Hours start on the wall
// clock's hh:00 under their offset, so zones offset by 30 or 45 minutes
// (Asia/Kolkata, Asia/Kathmandu) have hours starting at hh:30 or hh:15 UTC.
// A local hour's start is its key: one int64, comparable across zones.
//
// A Zone caches the last two local hours it answered about, so an instant
// in either (the usual case, including records out of order across an hour
// boundary) answers without touching time.Time. A Zone is not safe for
// concurrent use: it belongs to one goroutine; creating one per task is
// cheap, and the *time.Location behind it may be shared. Use it through
// the pointer NewZone returns: a copied Zone would share its cache.
//
// Instants must be within the years time.Time can represent in ms, roughly
// ±292 million years; arithmetic near math.MinInt64 or math.MaxInt64
// overflows.
type Zone struct {
	loc   *time.Location
	cur   *hourCell // the last hour answered about
	prev  *hourCell // the one before, for records straddling an hour boundary
	cells [2]hourCell
	// The last date DateStart answered, with its start: callers ask about
	// the same few dates over and over (an inquiry's validity ends at a
	// date's start), and each answer walks several hours.
	lastDate      Date
	lastDateStart int64
	lastDateOK    bool
}

// hourCell is one local hour and what is known of its day.
type hourCell struct {
	start, end int64 // [start, end): the hour's instants, UTC ms
	// wallStart is the instant the wall clock read hh:00 under this hour's
	// offset. It is start, unless a transition cut the hour's beginning.
	wallStart int64
	day       Date
	hour      int32 // local hour of day, 0..23
	// The day's, week's and month's starts, computed on first use.
	dayStart, weekStart, monthStart int64
}

// minuteOfDay returns the wall-clock minute of the day of ts, which must be
// in c. Within c the offset is fixed, so this is plain arithmetic.
func (c *hourCell) minuteOfDay(ts int64) int {
	return int(c.hour)*60 + int((ts-c.wallStart)/minuteMs)
}

// NewZone returns a Zone for loc. It panics if loc is nil.
func NewZone(loc *time.Location) *Zone {
	if loc == nil {
		panic("eventtime: NewZone(nil)")
	}
	z := &Zone{loc: loc}
	z.cur, z.prev = &z.cells[0], &z.cells[1]
	return z
}

// LoadZone returns the Zone of an IANA time zone name such as
// "Asia/Shanghai". It refuses "" and "Local": they name UTC and the
// machine's zone, so results would depend on a mistake or on the machine.
func LoadZone(name string) (*Zone, error) {
	loc, err := loadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("eventtime: %w", err)
	}
	return NewZone(loc), nil
}

func loadLocation(name string) (*time.Location, error) {
	switch name {
	case "":
		return nil, errors.New("empty time zone name")
	case "Local":
		return nil, errors.New(`time zone "Local" depends on the machine; name an IANA zone`)
	}
	return time.LoadLocation(name)
}

// Location returns the zone's location.
func (z *Zone) Location() *time.Location { return z.loc }

// HourStart returns the first instant of the local hour containing ts.
func (z *Zone) HourStart(ts int64) int64 { return z.cell(ts).start }

// HourEnd returns the first instant after the local hour containing ts,
// which is the next local hour's start.
func (z *Zone) HourEnd(ts int64) int64 { return z.cell(ts).end }

// Day returns the local date of ts.
func (z *Zone) Day(ts int64) Date { return z.cell(ts).day }

// HourOfDay returns the local wall-clock hour of ts, 0..23.
func (z *Zone) HourOfDay(ts int64) int { return int(z.cell(ts).hour) }

// MinuteOfDay returns the local wall-clock minute of the day of ts, 0..1439.
func (z *Zone) MinuteOfDay(ts int64) int { return z.cell(ts).minuteOfDay(ts) }

// InDailyWindow reports whether ts's local wall-clock time lies in the
// half-open daily window [fromMinute, toMinute), minutes after midnight:
// 08:00 ≤ t < 23:00 is (480, 1380), so 07:59:59.999 is outside and
// 22:59:59.999 inside. A window with fromMinute > toMinute wraps past
// midnight. The window is on the wall clock: a repeated DST hour is in it
// twice, a skipped one not at all.
func (z *Zone) InDailyWindow(ts int64, fromMinute, toMinute int) bool {
	m := z.cell(ts).minuteOfDay(ts)
	if fromMinute <= toMinute {
		return fromMinute <= m && m < toMinute
	}
	return m >= fromMinute || m < toMinute
}

// DayStart returns the first instant of ts's local date: DateStart(Day(ts)).
func (z *Zone) DayStart(ts int64) int64 {
	c := z.cell(ts)
	if c.dayStart == notComputed {
		c.dayStart = z.DateStart(c.day)
	}
	return c.dayStart
}

// WeekStart returns the first instant of the local Monday that begins the
// week containing ts.
func (z *Zone) WeekStart(ts int64) int64 {
	c := z.cell(ts)
	if c.weekStart == notComputed {
		sinceMonday := (int(c.day.Weekday()) + 6) % 7
		c.weekStart = z.DateStart(c.day.AddDays(-sinceMonday))
	}
	return c.weekStart
}

// MonthStart returns the first instant of the local month containing ts.
func (z *Zone) MonthStart(ts int64) int64 {
	c := z.cell(ts)
	if c.monthStart == notComputed {
		y, m, _ := c.day.YMD()
		c.monthStart = z.DateStart(MakeDate(y, m, 1))
	}
	return c.monthStart
}

// DateStart returns the first instant of local date d: the earliest
// instant whose wall clock shows date d. That is midnight, or where
// midnight does not exist (a DST change at 00:00, as in America/Sao_Paulo
// until 2019) the instant the date begins; where midnight happens twice
// (America/Havana), the first; and where a fall-back crosses midnight
// (America/St_Johns until 2011, at 00:01) the first moment of the date,
// even though the previous date then shows again for an hour. If d was
// skipped entirely (Pacific/Apia, 2011-12-30) it returns the start of the
// next date. The hour cache does not serve it: a walk costs about a
// microsecond, and only a repeat of the last date asked is remembered.
func (z *Zone) DateStart(d Date) int64 {
	if z.lastDateOK && d == z.lastDate {
		return z.lastDateStart
	}
	start := z.dateStart(d)
	z.lastDate, z.lastDateStart, z.lastDateOK = d, start, true
	return start
}

func (z *Zone) dateStart(d Date) int64 {
	// Walk local hours forward from a few hours before local midnight,
	// estimated with the offset at d's UTC midnight: the first hour dated
	// d or later begins the date. If an offset change of more than a few hours (a skipped day)
	// puts that start on date d already, step back a day at a time.
	midnight := int64(d) * dayMs
	at := midnight - z.offset(midnight) - 3*hourMs
	c := z.hourAt(at)
	for c.day >= d {
		at -= dayMs
		c = z.hourAt(at)
	}
	for c.day < d {
		c = z.hourAt(c.end)
	}
	return c.start
}

// cell returns the cached local hour containing ts, loading it on a miss.
// It inlines into the accessors, so a hit costs a call and two compares.
func (z *Zone) cell(ts int64) *hourCell {
	if c := z.cur; ts >= c.start && ts < c.end {
		return c
	}
	return z.miss(ts)
}

// miss makes the local hour containing ts the current cell and returns it.
func (z *Zone) miss(ts int64) *hourCell {
	z.cur, z.prev = z.prev, z.cur
	if ts >= z.cur.start && ts < z.cur.end {
		return z.cur
	}
	*z.cur = z.hourAt(ts)
	if z.prev.start < z.prev.end && z.prev.day == z.cur.day {
		// Day, week and month starts are functions of the date alone.
		z.cur.dayStart = z.prev.dayStart
		z.cur.weekStart = z.prev.weekStart
		z.cur.monthStart = z.prev.monthStart
	}
	return z.cur
}

// hourAt computes the local hour containing ts with the time package.
//
// It asks for UTC offsets only, not Time.ZoneBounds: ZoneBounds reports a
// period end before the instant asked about on the last day of leap years
// past a zone's explicit transitions (golang/go#81583), and it splits
// periods where only the abbreviation or DST flag changes, which must not
// split an hour. It assumes the offset changes at most once within an
// hour, which holds for every zone in the tz database.
func (z *Zone) hourAt(ts int64) hourCell {
	off := z.offset(ts)
	wallHour := floorDiv(ts+off, hourMs) * hourMs // local ms of hh:00
	day := floorDiv(wallHour, dayMs)
	c := hourCell{
		wallStart:  wallHour - off,
		day:        Date(day),
		hour:       int32((wallHour - day*dayMs) / hourMs),
		dayStart:   notComputed,
		weekStart:  notComputed,
		monthStart: notComputed,
	}
	c.start, c.end = c.wallStart, c.wallStart+hourMs
	if z.offset(c.start) != off {
		// The offset took effect within this hour, before ts.
		c.start = z.offsetChange(c.start, ts)
	}
	if z.offset(c.end-1) != off {
		// The offset ends within this hour, after ts.
		c.end = z.offsetChange(ts, c.end-1)
	}
	return c
}

// offset returns the UTC offset at ts in ms.
func (z *Zone) offset(ts int64) int64 {
	_, sec := time.UnixMilli(ts).In(z.loc).Zone()
	return int64(sec) * 1000
}

// offsetChange returns the first instant in (lo, hi] whose offset differs
// from lo's, given that hi's does and that the offset changes once.
func (z *Zone) offsetChange(lo, hi int64) int64 {
	off := z.offset(lo)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if z.offset(mid) == off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}
