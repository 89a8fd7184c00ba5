package eventtime

import (
	"math/rand/v2"
	"testing"
	"time"
)

// instant parses "2026-03-08 01:59:59.999 -0500" to Unix ms. Tests spell
// the offset so that an instant in a repeated hour is unambiguous.
func instant(t testing.TB, s string) int64 {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04:05.000 -0700", s)
	if err != nil {
		t.Fatalf("bad instant %q: %v", s, err)
	}
	return v.UnixMilli()
}

func mustZone(t testing.TB, name string) *Zone {
	t.Helper()
	z, err := LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func fmtMs(loc *time.Location, ms int64) string {
	return time.UnixMilli(ms).In(loc).Format("2006-01-02 15:04:05.000 -0700")
}

// TestZoneHours checks the local hour, day and minute of instants around
// DST changes, fractional offsets and midnight.
func TestZoneHours(t *testing.T) {
	tests := []struct {
		name       string
		zone       string
		ts         string
		hour       int
		minute     int
		day        string
		hourStart  string
		hourEnd    string
		dayStart   string
		hourLength time.Duration
	}{
		{"NY spring: last ms before the gap", "America/New_York", "2026-03-08 01:59:59.999 -0500",
			1, 119, "2026-03-08", "2026-03-08 01:00:00.000 -0500", "2026-03-08 03:00:00.000 -0400", "2026-03-08 00:00:00.000 -0500", time.Hour},
		{"NY spring: first ms after the gap is hour 3", "America/New_York", "2026-03-08 03:00:00.000 -0400",
			3, 180, "2026-03-08", "2026-03-08 03:00:00.000 -0400", "2026-03-08 04:00:00.000 -0400", "2026-03-08 00:00:00.000 -0500", time.Hour},
		{"NY fall: first hour 1 (EDT)", "America/New_York", "2026-11-01 01:30:00.000 -0400",
			1, 90, "2026-11-01", "2026-11-01 01:00:00.000 -0400", "2026-11-01 01:00:00.000 -0500", "2026-11-01 00:00:00.000 -0400", time.Hour},
		{"NY fall: second hour 1 (EST)", "America/New_York", "2026-11-01 01:30:00.000 -0500",
			1, 90, "2026-11-01", "2026-11-01 01:00:00.000 -0500", "2026-11-01 02:00:00.000 -0500", "2026-11-01 00:00:00.000 -0400", time.Hour},
		{"Shanghai window start", "Asia/Shanghai", "2026-03-08 08:00:00.000 +0800",
			8, 480, "2026-03-08", "2026-03-08 08:00:00.000 +0800", "2026-03-08 09:00:00.000 +0800", "2026-03-08 00:00:00.000 +0800", time.Hour},
		{"Shanghai last ms of the day", "Asia/Shanghai", "2026-03-08 23:59:59.999 +0800",
			23, 1439, "2026-03-08", "2026-03-08 23:00:00.000 +0800", "2026-03-09 00:00:00.000 +0800", "2026-03-08 00:00:00.000 +0800", time.Hour},
		{"Shanghai midnight starts the next day", "Asia/Shanghai", "2026-03-09 00:00:00.000 +0800",
			0, 0, "2026-03-09", "2026-03-09 00:00:00.000 +0800", "2026-03-09 01:00:00.000 +0800", "2026-03-09 00:00:00.000 +0800", time.Hour},
		{"Kolkata +05:30: hours start at hh:30 UTC", "Asia/Kolkata", "2026-03-08 10:47:00.000 +0530",
			10, 647, "2026-03-08", "2026-03-08 10:00:00.000 +0530", "2026-03-08 11:00:00.000 +0530", "2026-03-08 00:00:00.000 +0530", time.Hour},
		{"Kathmandu +05:45", "Asia/Kathmandu", "2026-03-08 00:14:59.999 +0545",
			0, 14, "2026-03-08", "2026-03-08 00:00:00.000 +0545", "2026-03-08 01:00:00.000 +0545", "2026-03-08 00:00:00.000 +0545", time.Hour},
		{"Kathmandu: UTC midnight is local 05:45", "Asia/Kathmandu", "2026-03-08 00:00:00.000 +0000",
			5, 345, "2026-03-08", "2026-03-08 05:00:00.000 +0545", "2026-03-08 06:00:00.000 +0545", "2026-03-08 00:00:00.000 +0545", time.Hour},
		{"Lord Howe spring: hour 2 is 30 minutes long", "Australia/Lord_Howe", "2026-10-04 02:45:00.000 +1100",
			2, 165, "2026-10-04", "2026-10-04 02:30:00.000 +1100", "2026-10-04 03:00:00.000 +1100", "2026-10-04 00:00:00.000 +1030", 30 * time.Minute},
		{"Lord Howe spring: hour 1 ends at the jump", "Australia/Lord_Howe", "2026-10-04 01:10:00.000 +1030",
			1, 70, "2026-10-04", "2026-10-04 01:00:00.000 +1030", "2026-10-04 02:30:00.000 +1100", "2026-10-04 00:00:00.000 +1030", time.Hour},
		{"Lord Howe fall: first hour 1", "Australia/Lord_Howe", "2026-04-05 01:45:00.000 +1100",
			1, 105, "2026-04-05", "2026-04-05 01:00:00.000 +1100", "2026-04-05 01:30:00.000 +1030", "2026-04-05 00:00:00.000 +1100", time.Hour},
		{"Lord Howe fall: second hour 1 is its last 30 minutes", "Australia/Lord_Howe", "2026-04-05 01:45:00.000 +1030",
			1, 105, "2026-04-05", "2026-04-05 01:30:00.000 +1030", "2026-04-05 02:00:00.000 +1030", "2026-04-05 00:00:00.000 +1100", 30 * time.Minute},
		{"Sao Paulo: midnight skipped, the day starts at 01:00", "America/Sao_Paulo", "2018-11-04 09:00:00.000 -0200",
			9, 540, "2018-11-04", "2018-11-04 09:00:00.000 -0200", "2018-11-04 10:00:00.000 -0200", "2018-11-04 01:00:00.000 -0200", time.Hour},
		{"Sao Paulo: repeated 23:00, the second", "America/Sao_Paulo", "2019-02-16 23:10:00.000 -0300",
			23, 1390, "2019-02-16", "2019-02-16 23:00:00.000 -0300", "2019-02-17 00:00:00.000 -0300", "2019-02-16 00:00:00.000 -0200", time.Hour},
		{"Havana: midnight twice, the day starts at the first", "America/Havana", "2026-11-01 00:30:00.000 -0500",
			0, 30, "2026-11-01", "2026-11-01 00:00:00.000 -0500", "2026-11-01 01:00:00.000 -0500", "2026-11-01 00:00:00.000 -0400", time.Hour},
		{"Havana: midnight skipped", "America/Havana", "2026-03-08 01:00:00.000 -0400",
			1, 60, "2026-03-08", "2026-03-08 01:00:00.000 -0400", "2026-03-08 02:00:00.000 -0400", "2026-03-08 01:00:00.000 -0400", time.Hour},
		{"St Johns: a fall-back at 00:01 dates the day from its first minute", "America/St_Johns", "1990-10-28 12:00:00.000 -0330",
			12, 720, "1990-10-28", "1990-10-28 12:00:00.000 -0330", "1990-10-28 13:00:00.000 -0330", "1990-10-28 00:00:00.000 -0230", time.Hour},
		{"St Johns: the previous date's repeated hour 23 starts at the fall-back", "America/St_Johns", "1990-10-27 23:30:00.000 -0330",
			23, 1410, "1990-10-27", "1990-10-27 23:01:00.000 -0330", "1990-10-28 00:00:00.000 -0330", "1990-10-27 00:00:00.000 -0230", 59 * time.Minute},
		{"before 1970", "Asia/Shanghai", "1969-12-31 23:59:59.999 +0800",
			23, 1439, "1969-12-31", "1969-12-31 23:00:00.000 +0800", "1970-01-01 00:00:00.000 +0800", "1969-12-31 00:00:00.000 +0800", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := mustZone(t, tt.zone)
			ts := instant(t, tt.ts)
			if got := z.HourOfDay(ts); got != tt.hour {
				t.Errorf("HourOfDay = %d, want %d", got, tt.hour)
			}
			if got := z.MinuteOfDay(ts); got != tt.minute {
				t.Errorf("MinuteOfDay = %d, want %d", got, tt.minute)
			}
			if got := z.Day(ts).String(); got != tt.day {
				t.Errorf("Day = %s, want %s", got, tt.day)
			}
			loc := z.Location()
			for _, c := range []struct {
				what      string
				got, want int64
			}{
				{"HourStart", z.HourStart(ts), instant(t, tt.hourStart)},
				{"HourEnd", z.HourEnd(ts), instant(t, tt.hourEnd)},
				{"DayStart", z.DayStart(ts), instant(t, tt.dayStart)},
			} {
				if c.got != c.want {
					t.Errorf("%s = %s, want %s", c.what, fmtMs(loc, c.got), fmtMs(loc, c.want))
				}
			}
			if got := time.Duration(z.HourEnd(ts)-z.HourStart(ts)) * time.Millisecond; got != tt.hourLength {
				t.Errorf("hour length = %v, want %v", got, tt.hourLength)
			}
		})
	}
}

// TestZoneDayLength checks DST days via DateStart of consecutive dates.
func TestZoneDayLength(t *testing.T) {
	tests := []struct {
		zone string
		day  Date
		want time.Duration
	}{
		{"America/New_York", MakeDate(2026, 3, 8), 23 * time.Hour},
		{"America/New_York", MakeDate(2026, 3, 9), 24 * time.Hour},
		{"America/New_York", MakeDate(2026, 11, 1), 25 * time.Hour},
		{"Asia/Shanghai", MakeDate(2026, 3, 8), 24 * time.Hour},
		{"Australia/Lord_Howe", MakeDate(2026, 10, 4), 23*time.Hour + 30*time.Minute},
		{"Australia/Lord_Howe", MakeDate(2026, 4, 5), 24*time.Hour + 30*time.Minute},
		{"America/Sao_Paulo", MakeDate(2018, 11, 4), 23 * time.Hour},
		{"America/Sao_Paulo", MakeDate(2019, 2, 16), 25 * time.Hour},
		{"America/Havana", MakeDate(2026, 11, 1), 25 * time.Hour},
		// Samoa skipped 2011-12-30: asking for it gives the next day's start.
		{"Pacific/Apia", MakeDate(2011, 12, 29), 24 * time.Hour},
		{"Pacific/Apia", MakeDate(2011, 12, 30), 0},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.day.String(), func(t *testing.T) {
			z := mustZone(t, tt.zone)
			got := time.Duration(z.DateStart(tt.day.AddDays(1))-z.DateStart(tt.day)) * time.Millisecond
			if got != tt.want {
				t.Errorf("day length = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestZoneHoursPartitionDSTDays walks a DST day hour by hour: the hours
// must tile the day without gaps or overlaps, with the expected sequence
// of hours of day.
func TestZoneHoursPartitionDSTDays(t *testing.T) {
	tests := []struct {
		zone  string
		day   Date
		hours []int
	}{
		{"America/New_York", MakeDate(2026, 3, 8), []int{0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}},
		{"America/New_York", MakeDate(2026, 11, 1), []int{0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}},
		{"Australia/Lord_Howe", MakeDate(2026, 10, 4), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}},
		{"America/Sao_Paulo", MakeDate(2018, 11, 4), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.day.String(), func(t *testing.T) {
			z := mustZone(t, tt.zone)
			end := z.DateStart(tt.day.AddDays(1))
			var hours []int
			for ts := z.DateStart(tt.day); ts < end; ts = z.HourEnd(ts) {
				if z.HourStart(ts) != ts {
					t.Fatalf("hour at %s starts at %s", fmtMs(z.Location(), ts), fmtMs(z.Location(), z.HourStart(ts)))
				}
				if z.Day(ts) != tt.day {
					t.Fatalf("hour at %s is on %s", fmtMs(z.Location(), ts), z.Day(ts))
				}
				hours = append(hours, z.HourOfDay(ts))
			}
			if !equalInts(hours, tt.hours) {
				t.Errorf("hours of day = %v, want %v", hours, tt.hours)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInDailyWindow(t *testing.T) {
	const from, to = 8 * 60, 23 * 60
	tests := []struct {
		zone string
		ts   string
		want bool
	}{
		{"Asia/Shanghai", "2026-03-08 07:59:59.999 +0800", false},
		{"Asia/Shanghai", "2026-03-08 08:00:00.000 +0800", true},
		{"Asia/Shanghai", "2026-03-08 22:59:59.999 +0800", true},
		{"Asia/Shanghai", "2026-03-08 23:00:00.000 +0800", false},
		{"Asia/Shanghai", "2026-03-08 00:00:00.000 +0800", false},
		{"Asia/Kolkata", "2026-03-08 07:59:59.999 +0530", false},
		{"Asia/Kolkata", "2026-03-08 08:00:00.000 +0530", true},
		{"Asia/Kolkata", "2026-03-08 22:59:59.999 +0530", true},
		{"Asia/Kolkata", "2026-03-08 23:00:00.000 +0530", false},
		{"America/New_York", "2026-03-08 07:59:59.999 -0400", false}, // DST day
		{"America/New_York", "2026-03-08 08:00:00.000 -0400", true},
		{"America/New_York", "2026-11-01 22:59:59.999 -0500", true},
		{"America/New_York", "2026-11-01 23:00:00.000 -0500", false},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.ts, func(t *testing.T) {
			z := mustZone(t, tt.zone)
			if got := z.InDailyWindow(instant(t, tt.ts), from, to); got != tt.want {
				t.Errorf("InDailyWindow = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInDailyWindowWrapsMidnight(t *testing.T) {
	z := mustZone(t, "Asia/Shanghai")
	const from, to = 22 * 60, 6 * 60 // 22:00 ≤ t < 06:00
	for ts, want := range map[string]bool{
		"2026-03-08 21:59:59.999 +0800": false,
		"2026-03-08 22:00:00.000 +0800": true,
		"2026-03-08 23:59:59.999 +0800": true,
		"2026-03-09 00:00:00.000 +0800": true,
		"2026-03-09 05:59:59.999 +0800": true,
		"2026-03-09 06:00:00.000 +0800": false,
	} {
		if got := z.InDailyWindow(instant(t, ts), from, to); got != want {
			t.Errorf("InDailyWindow(%s) = %v, want %v", ts, got, want)
		}
	}
}

func TestWeekAndMonthStart(t *testing.T) {
	tests := []struct {
		name   string
		zone   string
		ts     string
		week   string
		month  string
		monday bool
	}{
		{"Sunday belongs to the week before", "Asia/Shanghai", "2026-03-08 15:00:00.000 +0800",
			"2026-03-02 00:00:00.000 +0800", "2026-03-01 00:00:00.000 +0800", false},
		{"Monday midnight starts a week", "Asia/Shanghai", "2026-03-09 00:00:00.000 +0800",
			"2026-03-09 00:00:00.000 +0800", "2026-03-01 00:00:00.000 +0800", true},
		{"last ms of Sunday", "Asia/Shanghai", "2026-03-08 23:59:59.999 +0800",
			"2026-03-02 00:00:00.000 +0800", "2026-03-01 00:00:00.000 +0800", false},
		{"last ms of a month", "Asia/Shanghai", "2026-03-31 23:59:59.999 +0800",
			"2026-03-30 00:00:00.000 +0800", "2026-03-01 00:00:00.000 +0800", false},
		{"first ms of a month", "Asia/Shanghai", "2026-04-01 00:00:00.000 +0800",
			"2026-03-30 00:00:00.000 +0800", "2026-04-01 00:00:00.000 +0800", false},
		{"week across spring forward starts in EST", "America/New_York", "2026-03-08 12:00:00.000 -0400",
			"2026-03-02 00:00:00.000 -0500", "2026-03-01 00:00:00.000 -0500", false},
		{"month started before fall back", "America/New_York", "2026-11-15 12:00:00.000 -0500",
			"2026-11-09 00:00:00.000 -0500", "2026-11-01 00:00:00.000 -0400", false},
		{"year boundary", "Asia/Kolkata", "2027-01-01 00:00:00.000 +0530",
			"2026-12-28 00:00:00.000 +0530", "2027-01-01 00:00:00.000 +0530", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := mustZone(t, tt.zone)
			ts := instant(t, tt.ts)
			if got, want := z.WeekStart(ts), instant(t, tt.week); got != want {
				t.Errorf("WeekStart = %s, want %s", fmtMs(z.Location(), got), tt.week)
			}
			if got, want := z.MonthStart(ts), instant(t, tt.month); got != want {
				t.Errorf("MonthStart = %s, want %s", fmtMs(z.Location(), got), tt.month)
			}
			if got := z.Day(ts).Weekday() == time.Monday; got != tt.monday {
				t.Errorf("Monday = %v, want %v", got, tt.monday)
			}
		})
	}
}

func TestLoadZoneRejects(t *testing.T) {
	for _, name := range []string{"", "Local", "Mars/Olympus_Mons"} {
		if _, err := LoadZone(name); err == nil {
			t.Errorf("LoadZone(%q) succeeded", name)
		}
	}
}

// propertyZones cover fractional offsets, DST shifts of 30 min and 2 h,
// negative DST, midnight transitions, a skipped day and no DST at all.
var propertyZones = []string{
	"America/New_York", "Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu",
	"Australia/Lord_Howe", "America/Sao_Paulo", "America/Havana",
	"Europe/London", "Europe/Dublin", "Pacific/Apia", "Pacific/Chatham",
	"America/St_Johns", "Antarctica/Troll", "Africa/Casablanca", "UTC",
}

// TestZoneMatchesTimePackage compares every Zone answer with one computed
// by scanning plain time.Time values, for random instants in 1990–2040
// (with small steps and jumps backwards, to exercise both cache entries)
// and for instants around every zone transition in that span.
func TestZoneMatchesTimePackage(t *testing.T) {
	lo := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	hi := time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	samples := 3000
	if testing.Short() {
		samples = 300
	}
	for _, name := range propertyZones {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			z := mustZone(t, name)
			ref := refZone{z.Location()}
			rng := rand.New(rand.NewPCG(1, uint64(len(name))))
			check := func(ts int64, calendar bool) {
				t.Helper()
				checkZoneAt(t, z, ref, ts, calendar)
			}
			ts := lo + rng.Int64N(hi-lo)
			for i := range samples {
				switch r := rng.IntN(10); {
				case r < 5: // anywhere
					ts = lo + rng.Int64N(hi-lo)
				case r < 8: // nearby, either way: hits and the second entry
					ts += rng.Int64N(6*hourMs) - 3*hourMs
				default: // back up to two days, as a late record does
					ts -= rng.Int64N(2 * dayMs)
				}
				check(ts, i%16 == 0)
			}
			for _, tr := range transitions(z.Location(), lo, hi) {
				for _, d := range []int64{-dayMs, -hourMs - 1, -hourMs, -30 * minuteMs, -1, 0, 1, 30 * minuteMs, hourMs, hourMs + 1, dayMs} {
					check(tr+d, true)
				}
			}
		})
	}
}

func checkZoneAt(t *testing.T, z *Zone, ref refZone, ts int64, calendar bool) {
	t.Helper()
	at := fmtMs(ref.loc, ts)
	want := ref.hourStart(ts)
	if got := z.HourStart(ts); got != want {
		t.Fatalf("%s: HourStart = %s, want %s", at, fmtMs(ref.loc, got), fmtMs(ref.loc, want))
	}
	if got, want := z.HourEnd(ts), ref.hourEnd(ts); got != want {
		t.Fatalf("%s: HourEnd = %s, want %s", at, fmtMs(ref.loc, got), fmtMs(ref.loc, want))
	}
	local := time.UnixMilli(ts).In(ref.loc)
	if got, want := z.Day(ts), DateOf(local); got != want {
		t.Fatalf("%s: Day = %s, want %s", at, got, want)
	}
	if got, want := z.HourOfDay(ts), local.Hour(); got != want {
		t.Fatalf("%s: HourOfDay = %d, want %d", at, got, want)
	}
	minute := local.Hour()*60 + local.Minute()
	if got := z.MinuteOfDay(ts); got != minute {
		t.Fatalf("%s: MinuteOfDay = %d, want %d", at, got, minute)
	}
	if got, want := z.InDailyWindow(ts, 480, 1380), minute >= 480 && minute < 1380; got != want {
		t.Fatalf("%s: InDailyWindow = %v, want %v", at, got, want)
	}
	if !calendar {
		return // the reference for the rest is slow
	}
	if got, want := z.DayStart(ts), ref.dayStart(ts); got != want {
		t.Fatalf("%s: DayStart = %s, want %s", at, fmtMs(ref.loc, got), fmtMs(ref.loc, want))
	}
	if got, want := z.WeekStart(ts), ref.weekStart(ts); got != want {
		t.Fatalf("%s: WeekStart = %s, want %s", at, fmtMs(ref.loc, got), fmtMs(ref.loc, want))
	}
	if got, want := z.MonthStart(ts), ref.monthStart(ts); got != want {
		t.Fatalf("%s: MonthStart = %s, want %s", at, fmtMs(ref.loc, got), fmtMs(ref.loc, want))
	}
}

// refZone answers the same questions as Zone by brute force: a period's
// start is found by stepping back until the local date, hour or offset
// changes, then bisecting down to the millisecond.
type refZone struct{ loc *time.Location }

type refHourKey struct {
	date      Date
	hour, off int
}

func (r refZone) hourKey(ts int64) refHourKey {
	t := time.UnixMilli(ts).In(r.loc)
	_, off := t.Zone()
	return refHourKey{DateOf(t), t.Hour(), off}
}

func (r refZone) date(ts int64) Date { return DateOf(time.UnixMilli(ts).In(r.loc)) }

func (r refZone) hourStart(ts int64) int64 {
	k := r.hourKey(ts)
	return boundary(ts, -5*minuteMs, func(x int64) bool { return r.hourKey(x) == k })
}

func (r refZone) hourEnd(ts int64) int64 {
	k := r.hourKey(ts)
	return boundary(ts, 5*minuteMs, func(x int64) bool { return r.hourKey(x) == k }) + 1
}

func (r refZone) dayStart(ts int64) int64 { return r.dateStart(r.date(ts)) }

func (r refZone) weekStart(ts int64) int64 {
	d := r.date(ts)
	return r.dateStart(d.AddDays(-(int(d.Weekday()) + 6) % 7))
}

func (r refZone) monthStart(ts int64) int64 {
	y, m, _ := r.date(ts).YMD()
	return r.dateStart(MakeDate(y, m, 1))
}

// dateStart returns the earliest instant dated d or later: it walks whole
// minutes forward from an instant that is surely on an earlier date (every
// offset since 1990 is whole minutes, and so is every transition), then
// bisects to the millisecond.
func (r refZone) dateStart(d Date) int64 {
	before := func(x int64) bool { return r.date(x) < d }
	t := int64(d)*dayMs - 16*hourMs
	for before(t + minuteMs) {
		t += minuteMs
	}
	return bisect(t, t+minuteMs, before) + 1
}

// boundary returns the last instant x, going from ts in steps of step,
// such that same holds on all of [ts, x] (or [x, ts]).
func boundary(ts, step int64, same func(int64) bool) int64 {
	in := ts
	for same(in + step) {
		in += step
	}
	return bisect(in, in+step, same)
}

// bisect returns the instant x between in and out (either order) that is
// the last with same(x) before same turns false, given same(in) and
// !same(out) and one change between them.
func bisect(in, out int64, same func(int64) bool) int64 {
	for out-in > 1 || in-out > 1 {
		mid := in + (out-in)/2
		if same(mid) {
			in = mid
		} else {
			out = mid
		}
	}
	return in
}

// transitions lists the instants in [lo, hi) at which loc's UTC offset
// changes, found by sampling every 15 minutes and bisecting. It avoids
// Time.ZoneBounds, which is wrong on the last day of some years
// (golang/go#81583).
func transitions(loc *time.Location, lo, hi int64) []int64 {
	offset := func(ms int64) int {
		_, off := time.UnixMilli(ms).In(loc).Zone()
		return off
	}
	var out []int64
	const step = 15 * minuteMs
	for t := lo; t+step < hi; t += step {
		before := offset(t)
		if offset(t+step) == before {
			continue
		}
		same := func(x int64) bool { return offset(x) == before }
		out = append(out, bisect(t, t+step, same)+1)
	}
	return out
}

func BenchmarkZoneHourStartHit(b *testing.B) {
	z := mustZone(b, "Asia/Shanghai")
	ts := instant(b, "2026-03-08 10:00:00.000 +0800")
	var sink int64
	b.ReportAllocs()
	for i := range b.N {
		sink += z.HourStart(ts + int64(i&1023))
	}
	_ = sink
}

func BenchmarkZoneDayHit(b *testing.B) {
	z := mustZone(b, "America/New_York")
	ts := instant(b, "2026-03-08 10:00:00.000 -0400")
	var sink Date
	b.ReportAllocs()
	for i := range b.N {
		sink += z.Day(ts + int64(i&1023))
	}
	_ = sink
}

func BenchmarkZoneInDailyWindowHit(b *testing.B) {
	z := mustZone(b, "Asia/Kolkata")
	ts := instant(b, "2026-03-08 10:00:00.000 +0530")
	n := 0
	b.ReportAllocs()
	for i := range b.N {
		if z.InDailyWindow(ts+int64(i&1023)*1000, 480, 1380) {
			n++
		}
	}
	_ = n
}

func BenchmarkZoneDayStartHit(b *testing.B) {
	z := mustZone(b, "Asia/Shanghai")
	ts := instant(b, "2026-03-08 10:00:00.000 +0800")
	var sink int64
	b.ReportAllocs()
	for i := range b.N {
		sink += z.DayStart(ts + int64(i&1023))
	}
	_ = sink
}

// BenchmarkZoneStraddle alternates between two adjacent hours, as records
// out of order across an hour boundary do: the second cache entry answers.
func BenchmarkZoneStraddle(b *testing.B) {
	z := mustZone(b, "Asia/Shanghai")
	boundary := instant(b, "2026-03-08 11:00:00.000 +0800")
	var sink int64
	b.ReportAllocs()
	for i := range b.N {
		sink += z.HourStart(boundary - 1 + int64(i&1))
	}
	_ = sink
}

// BenchmarkZoneMiss asks about a different day each time: the cost of the
// time package lookup behind a miss.
func BenchmarkZoneMiss(b *testing.B) {
	z := mustZone(b, "America/New_York")
	ts := instant(b, "2026-03-08 10:00:00.000 -0400")
	var sink int64
	b.ReportAllocs()
	for i := range b.N {
		sink += z.HourStart(ts + int64(i%512)*dayMs)
	}
	_ = sink
}

func BenchmarkZoneDateStart(b *testing.B) {
	z := mustZone(b, "America/New_York")
	d := MakeDate(2026, 3, 8)
	var sink int64
	b.ReportAllocs()
	for i := range b.N {
		sink += z.DateStart(d + Date(i&511))
	}
	_ = sink
}

// TestDateStartRepeated: DateStart's one-date memo answers like the walk,
// whatever sequence of dates (repeats, neighbours, jumps) comes in.
func TestDateStartRepeated(t *testing.T) {
	for _, name := range propertyZones {
		z := mustZone(t, name)
		fresh := mustZone(t, name)
		rng := rand.New(rand.NewPCG(7, uint64(len(name))))
		d := MakeDate(2026, time.March, 1)
		for range 2000 {
			switch rng.IntN(3) {
			case 0: // the same date again
			case 1:
				d = d.AddDays(rng.IntN(3) - 1)
			default:
				d = d.AddDays(rng.IntN(800) - 400)
			}
			if got, want := z.DateStart(d), fresh.dateStart(d); got != want {
				t.Fatalf("%s: DateStart(%v) = %d, want %d", name, d, got, want)
			}
		}
	}
}
