package eventtime

import (
	"strconv"
	"time"
)

// Date is a civil (proleptic Gregorian) date, counted in days since
// 1970-01-01. It is what a local day is keyed by: 4 bytes, comparable,
// ordered, and free of any zone. It is also ClickHouse's Date encoding for
// dates from 1970 on.
type Date int32

// MakeDate returns the date year-month-day. Months outside 1..12 carry
// into the year and days outside the month carry into the next or
// previous months, as with time.Date.
func MakeDate(year int, month time.Month, day int) Date {
	m := int64(month) - 1
	y := int64(year) + floorDiv(m, 12)
	m = m - floorDiv(m, 12)*12 + 1
	return Date(daysFromCivil(y, m, 1) + int64(day) - 1)
}

// DateOf returns the date of t's wall clock in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return MakeDate(y, m, d)
}

// YMD returns the year, month and day of d.
func (d Date) YMD() (year int, month time.Month, day int) {
	y, m, dd := civilFromDays(int64(d))
	return int(y), time.Month(m), int(dd)
}

// Year returns d's year.
func (d Date) Year() int { y, _, _ := d.YMD(); return y }

// Month returns d's month.
func (d Date) Month() time.Month { _, m, _ := d.YMD(); return m }

// Day returns d's day of the month, 1..31.
func (d Date) Day() int { _, _, dd := d.YMD(); return dd }

// Weekday returns d's day of the week.
func (d Date) Weekday() time.Weekday {
	// 1970-01-01 was a Thursday.
	return time.Weekday((int64(d)%7 + 7 + int64(time.Thursday)) % 7)
}

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return d + Date(n) }

// Time returns midnight at the start of d in loc, as time.Date does: if
// that midnight does not exist in loc, time.Date picks some nearby
// instant. Zone.DateStart gives the exact first instant of the day.
func (d Date) Time(loc *time.Location) time.Time {
	y, m, dd := d.YMD()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// String formats d as "2026-03-08".
func (d Date) String() string {
	return string(d.Append(make([]byte, 0, 10)))
}

// Append appends d formatted as "2026-03-08" to dst, without allocating
// when dst has room.
func (d Date) Append(dst []byte) []byte {
	y, m, dd := d.YMD()
	if y < 0 {
		dst = append(dst, '-')
		y = -y
	}
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, int(m), 2)
	dst = append(dst, '-')
	return appendPadded(dst, dd, 2)
}

// appendPadded appends the non-negative v with leading zeros to width.
func appendPadded(dst []byte, v, width int) []byte {
	p := 1
	for ; width > 1; width-- {
		p *= 10
	}
	for ; p > 1 && v < p; p /= 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(v), 10)
}

// daysFromCivil and civilFromDays are Howard Hinnant's algorithms
// (https://howardhinnant.github.io/date_algorithms.html): exact for the
// proleptic Gregorian calendar, integer-only, a few ns.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}
