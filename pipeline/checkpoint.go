package pipeline

// Checkpoints: cut a consistent snapshot between polls, then write it
// ahead (changelog transaction), insert its rows, commit the offsets.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/cspulse/cspulse/internal/failpoint"
	"github.com/cspulse/cspulse/sinks"
)

// checkpoint makes everything processed so far durable, in the order that
// keeps results exact: state with its rows and dead letters (one
// transaction per task), then rows, then offsets. With finish,
// tasks first advance event time to the end (input complete). With wait
// false the writes run in the background while consumption goes on (one
// checkpoint in flight at a time; the next waits for it); with wait true
// the call returns once everything is durable.
func (r *Runner) checkpoint(ctx context.Context, finish, wait bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checkpointLocked(ctx, finish, wait)
}

func (r *Runner) checkpointLocked(ctx context.Context, finish, wait bool) error {
	// The previous checkpoint must be durable before this one is taken:
	// commits stay in order, and at most two checkpoints' rows are in memory.
	// Waiting here holds consumption back: no input counts as idle meanwhile.
	r.clock.Pause()
	err := r.commits.wait(ctx)
	r.clock.Resume()
	if err != nil {
		return r.stuckError(err)
	}
	snap := r.snapshot(finish)
	jobCtx := ctx
	if !wait {
		// A background write outlives the poll that started it: a stop
		// signal must not cancel it halfway; shutdown waits for it.
		jobCtx = context.WithoutCancel(ctx)
	}
	// Every step of a checkpoint has a deadline: a broker or ClickHouse
	// that stops answering ends the run (run.checkpoint_timeout) instead
	// of hanging it, and the rebalance callbacks waiting for r.mu with it.
	limit := r.cfg.Run.CheckpointTimeout
	jobCtx, cancel := context.WithTimeout(jobCtx, limit)
	r.stats.inflightSince.Store(snap.taken.UnixNano())
	r.stats.setStage("snapshot")
	// The wait gives up a little after the job's deadline, in case some
	// call does not honour it.
	r.commits.start(time.Now().Add(limit+checkpointGrace), func() error {
		defer cancel()
		err := r.persist(jobCtx, snap)
		if err != nil && pastDeadline(jobCtx) {
			err = timedOut{err}
		}
		return err
	})
	if wait {
		return r.stuckError(r.commits.wait(ctx))
	}
	return nil
}

// pastDeadline: ctx's deadline has passed. A driver reports it in its own
// words (clickhouse-go copies the deadline onto the connection and
// returns an i/o timeout), sometimes before ctx's own timer has fired, so
// the clock decides, not ctx.Err().
func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// checkpointGrace is how much longer than run.checkpoint_timeout the
// runner waits for a checkpoint whose calls do not honour their deadline.
const checkpointGrace = 10 * time.Second

// errCheckpointTimeout: a checkpoint was not durable within
// run.checkpoint_timeout.
var errCheckpointTimeout = errors.New("checkpoint not done within run.checkpoint_timeout")

// timedOut is a checkpoint's error after its deadline passed.
type timedOut struct{ error }

func (e timedOut) Unwrap() error        { return e.error }
func (e timedOut) Is(target error) bool { return target == errCheckpointTimeout }

// stuckError names a checkpoint that did not finish in time, with the
// step it was at, and remembers it: the run must end, and a revoke must
// not wait for that checkpoint again.
func (r *Runner) stuckError(err error) error {
	if err == nil || !errors.Is(err, errCheckpointTimeout) {
		return err
	}
	r.stuck.Store(true)
	_, stage, _ := r.stats.inflight()
	if stage == "" {
		if st := r.stats.stage.Load(); st != nil {
			stage = *st
		}
	}
	return fmt.Errorf("%w (%v), stuck at: %s; a restart resumes from the last checkpoint: %w",
		errCheckpointTimeout, r.cfg.Run.CheckpointTimeout, stage, err)
}

// checkpointSnapshot is what one checkpoint makes durable: each task's
// part and the input offsets they reflect.
type checkpointSnapshot struct {
	tasks    []snapshotTask
	offsets  map[string]map[int32]kgo.EpochOffset
	finished map[int32]bool // partitions whose tasks closed all state
	taken    time.Time
}

// snapshotTask is one task's part of a snapshot and how to write it.
type snapshotTask struct {
	partition int32
	*taskCheckpoint
	writer *checkpointWriter
	alive  context.Context // ends when the task stops: its partition is gone
}

// snapshot asks every task at once for its part, and takes the offsets of
// everything polled, which the tasks have processed by the time they
// answer.
func (r *Runner) snapshot(finish bool) *checkpointSnapshot {
	snap := &checkpointSnapshot{taken: time.Now(), finished: map[int32]bool{}}
	reqs := make([]taskRequest, 0, len(r.tasks))
	for p, t := range r.tasks {
		out := &taskCheckpoint{rows: sinks.NewBuffer(r.writer)}
		if r.cfg.Run.StateCheckpoints {
			out.state = &stateBatch{topic: r.cfg.ChangelogTopic(), partition: p}
		}
		req := taskRequest{finish: finish, out: out, done: make(chan struct{})}
		t.requests <- req
		reqs = append(reqs, req)
		snap.tasks = append(snap.tasks, snapshotTask{partition: p, taskCheckpoint: out, writer: t.writer, alive: t.alive})
	}
	var rows int
	var stateBytes int64
	for i, req := range reqs {
		<-req.done
		part := snap.tasks[i]
		if part.finished {
			snap.finished[part.partition] = true
		}
		rows += part.rows.Len()
		if part.state != nil {
			for _, rec := range part.state.recs {
				stateBytes += int64(len(rec.Key) + len(rec.Value))
			}
		}
	}
	snap.offsets = r.addRestoredOffsets(r.client.UncommittedOffsets())
	if finish {
		r.addPositions(snap.offsets)
	}
	r.keepTaskOffsets(snap.offsets)
	r.stats.pendingRows.Store(int64(rows))
	r.stats.pendingStateBytes.Store(stateBytes)
	return snap
}

// keepTaskOffsets drops the offsets of partitions without a task: no state
// of theirs is in this snapshot (a task stopped when its partition was
// lost, or at exit before the client's last revoke), so committing them
// would claim what was not saved, and would take a finished mark back.
func (r *Runner) keepTaskOffsets(offsets map[string]map[int32]kgo.EpochOffset) {
	for topic, ps := range offsets {
		for p := range ps {
			if _, ok := r.tasks[p]; !ok {
				delete(ps, p)
			}
		}
		if len(ps) == 0 {
			delete(offsets, topic)
		}
	}
}

// addPositions adds the position of every assigned partition that has
// one, so that a finishing checkpoint marks them all finished (see
// finishedMetadata), not only those with new records.
func (r *Runner) addPositions(offsets map[string]map[int32]kgo.EpochOffset) {
	for key, at := range r.position {
		if r.assigned[key] {
			addOffset(offsets, key, kgo.EpochOffset{Epoch: -1, Offset: at})
		}
	}
}

// addRestoredOffsets adds the offsets restored from the changelog that no
// poll has moved since, so that the group's commits catch up with the state.
func (r *Runner) addRestoredOffsets(offsets map[string]map[int32]kgo.EpochOffset) map[string]map[int32]kgo.EpochOffset {
	if offsets == nil {
		offsets = map[string]map[int32]kgo.EpochOffset{}
	}
	for key, at := range r.restoredAt {
		if r.assigned[key] {
			addOffset(offsets, key, at)
		}
	}
	clear(r.restoredAt)
	return offsets
}

// addOffset sets key's offset in offsets unless a poll already set one.
func addOffset(offsets map[string]map[int32]kgo.EpochOffset, key lagKey, at kgo.EpochOffset) {
	if _, set := offsets[key.topic][key.partition]; set {
		return
	}
	if offsets[key.topic] == nil {
		offsets[key.topic] = map[int32]kgo.EpochOffset{}
	}
	offsets[key.topic][key.partition] = at
}

// persist writes a snapshot ahead of acting on it:
//
//  1. each task's dead letters, alerts, changed state, rows and task entry (input
//     offsets, row version) in one Kafka transaction: the checkpoint is in
//     the changelog whole or not at all;
//  2. the rows into ClickHouse;
//  3. the group's offsets (for lag, and for bounded runs' finished marks;
//     a restore seeks to the offsets of the state, not to these).
//
// A crash before 1 commits leaves nothing of the checkpoint; a crash after
// it leaves a checkpoint whose rows a restore inserts again (same key and
// version: harmless if they were inserted already). A task stopped while
// its transaction is being written (its partition was lost) is abandoned:
// its rows are not inserted and its offsets not committed.
func (r *Runner) persist(ctx context.Context, snap *checkpointSnapshot) error {
	failpoint.Hit(failpoint.CheckpointBeforeState)
	r.stats.setStage("kafka transaction (state, rows, dead letters, alerts)")
	abandoned, err := r.writeState(ctx, snap)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	failpoint.Hit(failpoint.CheckpointAfterState)
	rows := sinks.NewBuffer(r.writer)
	for _, part := range snap.tasks {
		if !abandoned[part.partition] {
			rows.Append(part.rows)
		}
	}
	n := rows.Len()
	r.stats.setStage("clickhouse insert")
	if err := rows.Flush(ctx); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	r.stats.rowsWritten.Add(int64(n))
	failpoint.Hit(failpoint.CheckpointBeforeOffsets)
	dropPartitions(snap.offsets, abandoned)
	if len(snap.finished) > 0 {
		ctx = kgo.PreCommitFnContext(ctx, markFinished(snap.finished))
	}
	r.stats.setStage("group offset commit")
	if err := r.commitOffsets(ctx, snap.offsets); err != nil {
		if !r.cfg.Run.StateCheckpoints {
			return fmt.Errorf("checkpoint: commit offsets: %w", err)
		}
		// The changelog holds the offsets that count; the group's are for
		// lag and finished marks, and the next checkpoint commits again.
		// (A member dropped from the group lands here: its next state
		// write is fenced.)
		r.log.Warn("checkpoint: commit offsets to the group failed; the state's offsets are safe in the changelog", zap.Error(err))
	}
	r.stats.flushes.Add(1)
	r.stats.pendingRows.Store(0)
	r.stats.lastCheckpointNanos.Store(int64(time.Since(snap.taken)))
	r.stats.setCheckpointed(plainOffsets(snap.offsets))
	r.stats.inflightSince.Store(0)
	r.stats.setStage("")
	r.stats.lastCheckpointAt.Store(time.Now().UnixNano())
	return nil
}

// writeState writes every task's part of snap to Kafka, the tasks in
// parallel (each has its own transactional producer). It returns the
// partitions whose task stopped meanwhile; any other failure is an error.
func (r *Runner) writeState(ctx context.Context, snap *checkpointSnapshot) (abandoned map[int32]bool, err error) {
	errs := make([]error, len(snap.tasks))
	var wg sync.WaitGroup
	var records atomic.Int64
	for i, part := range snap.tasks {
		if part.empty {
			continue
		}
		recs := append(part.dead, part.alerts...)
		if part.state != nil {
			recs = append(recs, part.state.recs...)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			wctx, cancel := context.WithCancel(ctx)
			defer context.AfterFunc(part.alive, cancel)()
			defer cancel()
			errs[i] = part.writer.write(wctx, recs)
			records.Add(int64(len(recs)))
		}()
	}
	wg.Wait()
	r.stats.stateRecords.Add(records.Load())
	abandoned = map[int32]bool{}
	for i, part := range snap.tasks {
		switch {
		case errs[i] == nil:
		case part.alive.Err() != nil:
			abandoned[part.partition] = true
			r.log.Warn("checkpoint abandoned for a partition this member no longer owns",
				zap.Int32("partition", part.partition), zap.Error(errs[i]))
		default:
			err = errors.Join(err, errs[i])
		}
	}
	return abandoned, err
}

// plainOffsets drops the epochs.
func plainOffsets(offsets map[string]map[int32]kgo.EpochOffset) map[string]map[int32]int64 {
	out := make(map[string]map[int32]int64, len(offsets))
	for topic, ps := range offsets {
		out[topic] = make(map[int32]int64, len(ps))
		for p, at := range ps {
			out[topic][p] = at.Offset
		}
	}
	return out
}

// dropPartitions removes the given partitions' offsets.
func dropPartitions(offsets map[string]map[int32]kgo.EpochOffset, drop map[int32]bool) {
	for topic, ps := range offsets {
		for p := range drop {
			delete(ps, p)
		}
		if len(ps) == 0 {
			delete(offsets, topic)
		}
	}
}

// commitOffsets commits exactly the given offsets and reports the request's
// error or the first partition's.
func (r *Runner) commitOffsets(ctx context.Context, offsets map[string]map[int32]kgo.EpochOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	var err error
	r.client.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, reqErr error) {
		if err = reqErr; err != nil {
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil && err == nil {
					err = fmt.Errorf("%s[%d]: %w", t.Topic, p.Partition, perr)
				}
			}
		}
	})
	return err
}

// shutdown flushes and commits what was processed, within the grace period.
func (r *Runner) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Run.ShutdownGrace)
	defer cancel()
	r.log.Info("stopping: final checkpoint", zap.Duration("grace", r.cfg.Run.ShutdownGrace))
	return r.checkpoint(ctx, false, true)
}
