package eventtime

import (
	"math"
	"time"
)

// Event-time arithmetic saturates instead of wrapping: math.MinInt64 and
// math.MaxInt64 are legitimate watermarks (no data yet, end of input), and
// subtracting a lag from the first or adding a timeout to the second must
// not wrap around to the other end of the time line.

// addSat returns a+b clamped to [math.MinInt64, math.MaxInt64].
func addSat(a, b int64) int64 {
	s := a + b
	// Overflow happened iff a and b have the same sign and s has the other.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		if a >= 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

// subSat returns a-b clamped to [math.MinInt64, math.MaxInt64].
func subSat(a, b int64) int64 {
	if b == math.MinInt64 {
		// -b is not representable; a - MinInt64 overflows for every a >= 0.
		if a >= 0 {
			return math.MaxInt64
		}
		return a - b
	}
	return addSat(a, -b)
}

// millis converts a configuration duration to event-time milliseconds,
// truncating toward zero as time.Duration.Milliseconds does.
func millis(d time.Duration) int64 { return d.Milliseconds() }

// floorDiv is integer division rounding toward negative infinity, which
// local-time bucketing needs for instants before 1970.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
