package pipeline

import (
	"time"

	"go.uber.org/zap"

	"github.com/cspulse/cspulse/schemas"
)

// progress logs one line per interval: throughput since the last line and
// the running totals a user watches during a bounded run.
type progress struct {
	stats      *taskStats
	logger     *zap.Logger
	lastAt     time.Time
	lastEvents int64
	lastDead   int64
	lastWrong  int64
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
	// Co-partitioning breaches are loud but rate-limited: one warning per
	// progress interval in which some occurred, with the last example.
	if wrong := p.stats.deadLetters[schemas.ReasonWrongPartition].Load(); wrong > p.lastWrong {
		var example string
		if d := p.stats.wrongPartition.Load(); d != nil {
			example = *d
		}
		p.logger.Warn("records on the wrong partition for their key: a producer does not use kafka.partitioner; "+
			"such records are dead-lettered as wrong_partition and NOT counted (README: producing correctly)",
			zap.Int64("since_last", wrong-p.lastWrong), zap.Int64("total", wrong), zap.String("last", example))
		p.lastWrong = wrong
	}
}
