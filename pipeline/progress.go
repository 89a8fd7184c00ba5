package pipeline

import (
	"time"

	"go.uber.org/zap"
)

// progress logs one line per interval: throughput since the last line and
// the running totals a user watches during a bounded run.
type progress struct {
	stats      *taskStats
	logger     *zap.Logger
	lastAt     time.Time
	lastEvents int64
	lastDead   int64
}

func newProgress(s *taskStats, log *zap.Logger) *progress {
	return &progress{stats: s, logger: log, lastAt: time.Now()}
}

func (p *progress) report(now time.Time) {
	events, dead := p.stats.totalEvents(), p.stats.totalDeadLetters()
	secs := now.Sub(p.lastAt).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(events+dead-p.lastEvents-p.lastDead) / secs
	}
	p.logger.Info("progress",
		zap.Int64("events", events),
		zap.Float64("records_per_s", float64(int64(rate))),
		zap.Int64("lag", p.stats.totalLag()),
		zap.Int64("dead_letters", dead),
		zap.Int64("rows_written", p.stats.rowsWritten.Load()),
	)
	p.lastAt, p.lastEvents, p.lastDead = now, events, dead
}
