package eventtime

import (
	"testing"
	"time"
)

func TestDateMatchesTimePackage(t *testing.T) {
	// Every day from 1600 to 2400 crosses leap-century rules both ways.
	start := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)
	first := MakeDate(1600, time.January, 1)
	for i := range 800 * 366 {
		want := start.AddDate(0, 0, i)
		d := first.AddDays(i)
		y, m, dd := d.YMD()
		if y != want.Year() || m != want.Month() || dd != want.Day() {
			t.Fatalf("day %d: YMD = %d-%d-%d, want %s", i, y, m, dd, want.Format(time.DateOnly))
		}
		if d.Weekday() != want.Weekday() {
			t.Fatalf("%s: Weekday = %v, want %v", d, d.Weekday(), want.Weekday())
		}
		if got := DateOf(want); got != d {
			t.Fatalf("DateOf(%s) = %d, want %d", want.Format(time.DateOnly), got, d)
		}
	}
}

func TestDate(t *testing.T) {
	tests := []struct {
		name string
		d    Date
		want string
	}{
		{"epoch", 0, "1970-01-01"},
		{"day before the epoch", -1, "1969-12-31"},
		{"DST day", MakeDate(2026, time.March, 8), "2026-03-08"},
		{"leap day", MakeDate(2024, time.February, 29), "2024-02-29"},
		{"day 32 of January", MakeDate(2026, time.January, 32), "2026-02-01"},
		{"month 13", MakeDate(2025, 13, 1), "2026-01-01"},
		{"month 0", MakeDate(2026, 0, 1), "2025-12-01"},
		{"day 0", MakeDate(2026, time.March, 0), "2026-02-28"},
		{"AddDays back over a year", MakeDate(2026, time.January, 1).AddDays(-1), "2025-12-31"},
		{"small year", MakeDate(33, time.May, 7), "0033-05-07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.String(); got != tt.want {
				t.Errorf("String = %s, want %s", got, tt.want)
			}
			y, m, d := tt.d.YMD()
			if tt.d.Year() != y || tt.d.Month() != m || tt.d.Day() != d {
				t.Errorf("Year/Month/Day disagree with YMD")
			}
		})
	}
}

func TestDateTime(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	got := MakeDate(2026, time.March, 8).Time(loc)
	want := time.Date(2026, time.March, 8, 0, 0, 0, 0, loc)
	if !got.Equal(want) || got.Location() != loc {
		t.Errorf("Time = %v, want %v", got, want)
	}
}

func BenchmarkDateYMD(b *testing.B) {
	var sink int
	b.ReportAllocs()
	for i := range b.N {
		y, m, d := Date(i & 0xffff).YMD()
		sink += y + int(m) + d
	}
	_ = sink
}

func BenchmarkDateAppend(b *testing.B) {
	buf := make([]byte, 0, 16)
	b.ReportAllocs()
	for i := range b.N {
		buf = Date(i & 0xffff).Append(buf[:0])
	}
}
