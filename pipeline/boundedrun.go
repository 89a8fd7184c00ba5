package pipeline

// Bounded runs (--until-idle): when the input is complete, and the
// finished mark of the partitions whose state is closed.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// idle is true when run.until_idle is set and nothing arrived for that long
// since the later of the last record and the last assignment.
func (r *Runner) idle(now, lastRecord time.Time) bool {
	if r.cfg.Run.UntilIdle <= 0 {
		return false
	}
	assigned := r.assignedAt.Load()
	if assigned == 0 {
		return false
	}
	since := lastRecord
	if a := time.Unix(0, assigned); a.After(since) {
		since = a
	}
	return now.Sub(since) >= r.cfg.Run.UntilIdle
}

// finishIdle ends a run.until_idle run in two steps, so that every
// partition's state is closed once the whole input is consumed, whoever
// ends up owning it:
//
//  1. When every input partition is consumed to its end offset (this
//     member's by its own position, the others' by their committed
//     offsets), this member closes the state of its partitions (the
//     finishing checkpoint) and commits them marked finished.
//  2. It exits only once every partition is committed at its end and
//     marked finished. A member that died after consuming and committing
//     everything left its partitions unmarked, their sessions open and
//     their held events unstepped: the survivors wait for the group to
//     hand those partitions over, and finish them too.
//
// done=false means: look again after another idle period.
func (r *Runner) finishIdle(ctx context.Context) (done bool, err error) {
	consumed, _ := r.inputState(ctx)
	if !consumed {
		return false, nil // records are still due
	}
	r.log.Info("input idle: closing all state", zap.Duration("until_idle", r.cfg.Run.UntilIdle))
	if err := r.checkpoint(ctx, true, true); err != nil {
		return false, err
	}
	if _, finished := r.inputState(ctx); !finished {
		r.log.Info("waiting for the group: a partition is consumed but its owner has not finished it")
		return false, nil
	}
	return true, nil
}

// inputState reports whether every input partition is consumed to its end
// offset (this member's by position, the others' by committed offsets),
// and whether every one is also committed there marked finished. An empty
// partition counts as both. A failing admin request is logged and counts
// as not yet.
func (r *Runner) inputState(ctx context.Context) (consumed, finished bool) {
	ctx, cancel := context.WithTimeout(ctx, kafkaCallTimeout)
	defer cancel()
	adm := kadm.NewClient(r.client)
	ends, err := adm.ListEndOffsets(ctx, r.cfg.Topics.Inputs()...)
	if err != nil {
		r.log.Warn("list end offsets", zap.Error(err))
		return false, false
	}
	committed, err := adm.FetchOffsets(ctx, r.cfg.Kafka.Group)
	if err != nil {
		r.log.Warn("fetch committed offsets", zap.Error(err))
		return false, false
	}
	// With kafka.start_offset latest, a partition the group never
	// committed starts where the log ended when this run started: the
	// records before are not its input.
	var starts kadm.ListedOffsets
	if r.latest() {
		if starts, err = adm.ListOffsetsAfterMilli(ctx, r.startMillis, r.cfg.Topics.Inputs()...); err != nil {
			r.log.Warn("list start offsets", zap.Error(err))
			return false, false
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	consumed, finished = true, true
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset == 0 {
			return
		}
		c, ok := committed.Lookup(o.Topic, o.Partition)
		pos := c.At
		key := lagKey{o.Topic, o.Partition}
		if s, found := starts.Lookup(o.Topic, o.Partition); !ok && found && s.Err == nil {
			pos = s.Offset
			if _, polled := r.position[key]; r.assigned[key] && !polled {
				// Nothing polled: the finishing checkpoint commits
				// (and marks finished) the start.
				r.position[key] = s.Offset
			}
		}
		if r.assigned[key] {
			pos = max(pos, r.position[key])
		}
		if pos < o.Offset {
			consumed = false
		}
		if !ok || c.At < o.Offset || c.Metadata != finishedMetadata {
			finished = false
		}
	})
	return consumed, finished
}

// finishedMetadata is the commit metadata of a partition whose owner
// closed all state at the end of input (run.until_idle): its results are
// complete. A committed offset at the end without it belongs to a member
// that died before closing (sessions still open, events held for the
// watermark): the partition's next owner must still finish it.
const finishedMetadata = "cspulse:finished"

// markFinished marks the commits of finished partitions. Every commit of
// them carries the mark, not only the finishing one: a later commit (on a
// revoke, at shutdown) must not take it back.
func markFinished(finished map[int32]bool) func(*kmsg.OffsetCommitRequest) error {
	return func(req *kmsg.OffsetCommitRequest) error {
		meta := finishedMetadata
		for i := range req.Topics {
			for j := range req.Topics[i].Partitions {
				if p := &req.Topics[i].Partitions[j]; finished[p.Partition] {
					p.Metadata = &meta
				}
			}
		}
		return nil
	}
}
