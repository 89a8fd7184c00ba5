package pipeline

import (
	"sync"
	"time"
)

// activityClock is wall time with the runner's own pauses taken out. Input
// idleness is measured on it: while a checkpoint holds consumption back
// (ClickHouse down, backpressure) no input can deliver, so none may count
// as idle. Otherwise, when consumption resumes, the first topic to deliver
// would push the watermark ahead of the others and turn their records late.
type activityClock struct {
	mu       sync.Mutex
	paused   time.Duration // total of finished pauses
	pausedAt time.Time     // start of the current pause; zero when running
}

// Now is the current activity time; it stands still during a pause.
func (c *activityClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.pausedAt.IsZero() {
		return c.pausedAt.Add(-c.paused)
	}
	return time.Now().Add(-c.paused)
}

// Pause stops the clock until Resume.
func (c *activityClock) Pause() {
	c.mu.Lock()
	if c.pausedAt.IsZero() {
		c.pausedAt = time.Now()
	}
	c.mu.Unlock()
}

// Resume restarts the clock where Pause stopped it.
func (c *activityClock) Resume() {
	c.mu.Lock()
	if !c.pausedAt.IsZero() {
		c.paused += time.Since(c.pausedAt)
		c.pausedAt = time.Time{}
	}
	c.mu.Unlock()
}
