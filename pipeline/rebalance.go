package pipeline

// Rebalances: restore the tasks of assigned partitions from the
// changelog, checkpoint and stop those of revoked or lost ones.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/cspulse/cspulse/internal/failpoint"
)

func (r *Runner) onAssigned(ctx context.Context, cl *kgo.Client, assigned map[string][]int32) {
	r.mu.Lock()
	r.setAssigned(assigned, true)
	if r.cfg.Run.StateCheckpoints {
		// Bounded like a checkpoint: a broker that stops answering must
		// not hold r.mu (and the poll loop) forever.
		rctx, cancel := context.WithTimeout(ctx, r.cfg.Run.CheckpointTimeout)
		err := r.restoreTasks(rctx, cl, partitionSet(assigned))
		cancel()
		if err != nil {
			// Consuming on without the state would count twice or miss:
			// stop, and let the operator or the orchestrator restart.
			r.fatal.Store(&err)
			r.log.Error("restore from changelog failed", zap.Error(err))
		}
	}
	r.mu.Unlock()
	r.assignedAt.Store(time.Now().UnixNano())
	r.log.Info("partitions assigned", zap.Any("partitions", assigned))
}

// restoreTasks rebuilds the tasks of newly assigned partitions from the
// changelog and moves their inputs to the offsets the state reflects.
// Callers hold r.mu.
func (r *Runner) restoreTasks(ctx context.Context, cl *kgo.Client, partitions map[int32]bool) error {
	seek := map[string]map[int32]kgo.EpochOffset{}
	offsets := r.listInputOffsets(ctx, cl)
	for p := range partitions {
		if _, ok := r.tasks[p]; ok {
			continue
		}
		t, rest, entries, err := r.restoreTask(ctx, p)
		if err != nil {
			return err
		}
		if rest.ok {
			t.resume(rest)
			for i, topic := range r.cfg.Topics.Inputs() {
				if rest.state.next[i] == 0 {
					// The task never processed a record of this input:
					// the group's committed offset (a bounded run with
					// kafka.start_offset latest commits where it
					// started) or the reset policy decides, not offset 0.
					continue
				}
				if seek[topic] == nil {
					seek[topic] = map[int32]kgo.EpochOffset{}
				}
				at := kgo.EpochOffset{Epoch: -1, Offset: rest.state.next[i]}
				seek[topic][p] = at
				// The group's committed offset may be behind the state
				// (a crash between the two writes); with nothing new to
				// poll it would stay behind. The next checkpoint commits it.
				r.position[lagKey{topic, p}] = at.Offset
				r.restoredAt[lagKey{topic, p}] = at
				r.stats.setCheckpointed(map[string]map[int32]int64{topic: {p: at.Offset}})
			}
		}
		if offsets != nil {
			offsets.markBehind(t, r.cfg.Topics.Inputs(), rest)
		}
		r.tasks[p] = t
		r.startTask(t)
		r.log.Info("partition state restored", zap.Int32("partition", p), zap.Int("entries", entries),
			zap.Bool("from_changelog", rest.ok), zap.Uint64("version", rest.state.version),
			zap.Int("rows_to_insert_again", pendingLen(rest)))
	}
	if len(seek) > 0 {
		cl.SetOffsets(seek)
	}
	return nil
}

// restoreTask makes partition p's task and loads its changelog state. The
// task's writer first fences the partition's previous owner, so that no
// checkpoint of that owner can land after the read.
func (r *Runner) restoreTask(ctx context.Context, p int32) (*task, restored, int, error) {
	start := time.Now()
	engine := r.engines.New(p)
	t, err := r.newTask(p, engine)
	if err != nil {
		return nil, restored{}, 0, err
	}
	fail := func(err error) (*task, restored, int, error) {
		t.stop()
		t.writer.close()
		if errors.Is(err, errIncompleteCheckpoint) {
			err = fmt.Errorf("%w; it was written without kafka.transactions and cut by a crash: "+
				"rebuild this group's results from the inputs (docs/operations.md, \"Rebuilding\")", err)
		}
		return nil, restored{}, 0, fmt.Errorf("restore partition %d: %w", p, err)
	}
	if err := t.writer.fence(ctx); err != nil {
		return fail(err)
	}
	read, err := readChangelog(ctx, r.conn, r.cfg.ChangelogTopic(), p, r.transactional(), r.cfg.Kafka.TransactionTimeout+10*time.Second)
	if err != nil {
		return fail(err)
	}
	rest, err := restore(engine, read)
	if err != nil {
		return fail(err)
	}
	failpoint.Hit(failpoint.RestoreBeforeRows)
	r.log.Debug("changelog read", zap.Int32("partition", p), zap.Duration("took", time.Since(start)))
	return t, rest, len(read.entries), nil
}

func pendingLen(r restored) int {
	if r.pending == nil {
		return 0
	}
	return r.pending.Len()
}

// onRevoked checkpoints before the partitions go, so the next owner starts
// exactly where this one stopped.
func (r *Runner) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stuck.Load() || r.failed.Load() {
		r.log.Warn("partitions revoked while the run fails: no checkpoint; the next owner replays from the last one")
	} else if err := r.checkpointLocked(ctx, false, true); err != nil {
		r.log.Error("checkpoint on revoke failed; the next owner replays from the last commit", zap.Error(err))
	}
	r.stopTasks(partitionSet(revoked))
	r.setAssigned(revoked, false)
	r.log.Info("partitions revoked", zap.Any("partitions", revoked))
}

// onLost drops tasks without committing: another member may own them now.
func (r *Runner) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopTasks(partitionSet(lost))
	r.setAssigned(lost, false)
	r.log.Warn("partitions lost", zap.Any("partitions", lost))
}

// setAssigned records (or forgets) input partitions; callers hold r.mu.
func (r *Runner) setAssigned(m map[string][]int32, on bool) {
	for topic, ps := range m {
		for _, p := range ps {
			key := lagKey{topic, p}
			if on {
				r.assigned[key] = true
			} else {
				delete(r.assigned, key)
				delete(r.position, key)
			}
			r.stats.assign(key, on)
		}
	}
}

func partitionSet(m map[string][]int32) map[int32]bool {
	set := map[int32]bool{}
	for _, ps := range m {
		for _, p := range ps {
			set[p] = true
		}
	}
	return set
}
