package windowing

import "time"

// Inactivity is an inactivity timeout in event time, at millisecond
// resolution. A gap of exactly Timeout keeps the activity open: it expires
// only when now > lastActivity + Timeout.
type Inactivity struct {
	Timeout time.Duration
}

// Expired reports whether, at event time now, Timeout has been exceeded
// since lastActivity.
func (in Inactivity) Expired(lastActivity, now int64) bool {
	return now > addSat(lastActivity, millis(in.Timeout))
}

// Deadline returns the first instant at which Expired is true,
// lastActivity + Timeout + 1: the time to set a timer for, since timers
// fire once the watermark reaches their time. It saturates at
// math.MaxInt64, which in practice means never.
func (in Inactivity) Deadline(lastActivity int64) int64 {
	return addSat(addSat(lastActivity, millis(in.Timeout)), 1)
}
