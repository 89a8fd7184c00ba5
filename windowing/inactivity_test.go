package windowing

import (
	"math"
	"testing"
	"time"
)

func TestInactivity(t *testing.T) {
	in := Inactivity{Timeout: 30 * time.Minute}
	const last = 1_000_000
	const timeout = 30 * 60 * 1000
	tests := []struct {
		name string
		now  int64
		want bool
	}{
		{"just after", last + 1, false},
		{"gap of exactly the timeout keeps it open", last + timeout, false},
		{"one ms more expires it", last + timeout + 1, true},
		{"event before last activity", last - 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := in.Expired(last, tt.now); got != tt.want {
				t.Errorf("Expired(%d, %d) = %v, want %v", last, tt.now, got, tt.want)
			}
		})
	}
	if got, want := in.Deadline(last), int64(last+timeout+1); got != want {
		t.Errorf("Deadline = %d, want %d", got, want)
	}
	if d := in.Deadline(last); !in.Expired(last, d) || in.Expired(last, d-1) {
		t.Errorf("Deadline %d is not the first expired instant", d)
	}
	if got := in.Deadline(math.MaxInt64 - 10); got != math.MaxInt64 {
		t.Errorf("Deadline near the end of time = %d, want saturation", got)
	}
}

func BenchmarkInactivityExpired(b *testing.B) {
	in := Inactivity{Timeout: 30 * time.Minute}
	n := 0
	b.ReportAllocs()
	for i := range b.N {
		if in.Expired(0, int64(i)) {
			n++
		}
	}
	_ = n
}
