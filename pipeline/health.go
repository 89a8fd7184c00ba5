package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"go.uber.org/zap"
)

// kafkaCallTimeout bounds each admin request the runner makes on its own
// (end offsets, committed offsets): a broker that stops answering must not
// hang the caller.
const kafkaCallTimeout = 10 * time.Second

// lagEvery is how often the lag monitor lists the brokers' end offsets.
const lagEvery = 3 * time.Second

// stuckWarnEvery: while a checkpoint takes longer than this, the monitor
// logs it this often.
const stuckWarnEvery = 10 * time.Second

// monitor runs beside the poll loop, which a slow checkpoint blocks: every
// lagEvery it lists the input partitions' end offsets and the group's
// committed offsets and sets the lag of this member's partitions against
// the last checkpoint (so lag grows while checkpoints stop), and it logs a
// checkpoint that takes too long.
func (r *Runner) monitor(ctx context.Context) {
	tick := time.NewTicker(lagEvery)
	defer tick.Stop()
	var lastWarn time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			r.measureLag(ctx)
			if since, stage, ok := r.stats.inflight(); ok && now.Sub(since) >= stuckWarnEvery && now.Sub(lastWarn) >= stuckWarnEvery {
				lastWarn = now
				r.log.Warn("checkpoint not done yet: results and committed offsets stand still (readiness fails after run.ready_max_checkpoint_age)",
					zap.Duration("for", now.Sub(since).Round(time.Second)), zap.String("at", stage),
					zap.Duration("run.checkpoint_timeout", r.cfg.Run.CheckpointTimeout))
			}
		}
	}
}

func (r *Runner) measureLag(ctx context.Context) {
	if r.stats.assignedCount() == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, kafkaCallTimeout)
	defer cancel()
	adm := kadm.NewClient(r.client)
	listed, err := adm.ListEndOffsets(ctx, r.cfg.Topics.Inputs()...)
	if err != nil {
		r.log.Debug("lag: list end offsets", zap.Error(err))
		return
	}
	ends := map[lagKey]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			ends[lagKey{o.Topic, o.Partition}] = o.Offset
		}
	})
	committed := map[lagKey]int64{}
	if resp, err := adm.FetchOffsets(ctx, r.cfg.Kafka.Group); err == nil {
		resp.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil && o.At >= 0 {
				committed[lagKey{o.Topic, o.Partition}] = o.At
			}
		})
	}
	r.stats.updateLag(ends, committed)
}

// Readiness is nil when the member is ready: it holds partitions and a
// checkpoint succeeded within run.ready_max_checkpoint_age (a member that
// cannot write its results, e.g. in a ClickHouse outage, is not ready).
// Otherwise it says why.
func (r *Runner) Readiness() error {
	if r.stuck.Load() {
		return errors.New("a checkpoint is stuck past run.checkpoint_timeout; the process is exiting")
	}
	if r.stats.assignedCount() == 0 {
		return errors.New("no partitions assigned")
	}
	age := r.stats.checkpointAge(time.Now())
	if limit := r.cfg.Run.ReadyMaxCheckpointAge; age > limit {
		msg := fmt.Sprintf("no checkpoint succeeded for %v (run.ready_max_checkpoint_age %v)", age.Round(time.Second), limit)
		if since, stage, ok := r.stats.inflight(); ok {
			msg += fmt.Sprintf("; one has been in progress for %v at: %s", time.Since(since).Round(time.Second), stage)
		}
		return errors.New(msg)
	}
	return nil
}

// Ready is Readiness() == nil.
func (r *Runner) Ready() bool { return r.Readiness() == nil }
