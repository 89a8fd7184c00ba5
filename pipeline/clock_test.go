package pipeline

import (
	"testing"
	"time"
)

func TestActivityClockStandsStillWhilePaused(t *testing.T) {
	var c activityClock
	before := c.Now()
	c.Pause()
	atPause := c.Now()
	time.Sleep(30 * time.Millisecond)
	if got := c.Now(); !got.Equal(atPause) {
		t.Errorf("clock moved during a pause: %v → %v", atPause, got)
	}
	c.Resume()
	time.Sleep(10 * time.Millisecond)
	after := c.Now()
	if d := after.Sub(before); d < 10*time.Millisecond || d >= 30*time.Millisecond {
		t.Errorf("after a 30 ms pause and 10 ms of running, the clock advanced %v since the start; want about 10 ms", d)
	}
}
