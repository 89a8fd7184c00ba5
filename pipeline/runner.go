// Package pipeline consumes the input topics, routes each partition's
// records to the task that owns that partition, and checkpoints write
// ahead: each task's state, the rows it produced and its dead letters in
// one Kafka transaction first, then the rows to ClickHouse, then the
// group's offsets.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/plugin/kprom"
	"go.uber.org/zap"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/internal/failpoint"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
)

// EngineFactory makes the engine of a newly assigned partition.
type EngineFactory func(partition int32) Engine

// Runner is one cspulse process's consumer: a franz-go group member whose
// partitions each get a task.
type Runner struct {
	cfg       *config.Config
	log       *zap.Logger
	writer    sinks.RowWriter
	commits   inflight // the checkpoint being written, if any
	clock     *activityClock
	newEngine EngineFactory
	stats     *taskStats

	client *kgo.Client
	conn   []kgo.Opt      // connection options, for restore readers and checkpoint writers
	inputs map[string]int // topic name → input index (schemas.Topics order)

	mu       sync.Mutex // tasks and checkpoints, shared with rebalance callbacks
	tasks    map[int32]*task
	position map[lagKey]int64 // next offset to consume, per input partition
	assigned map[lagKey]bool
	// restoredAt holds input offsets restored from the changelog until a
	// checkpoint commits them.
	restoredAt map[lagKey]kgo.EpochOffset
	wg         sync.WaitGroup

	assignedAt atomic.Int64          // unix nanos of the last assignment; 0 = none yet
	fatal      atomic.Pointer[error] // set by a rebalance callback that cannot go on
	stuck      atomic.Bool           // a checkpoint outlived run.checkpoint_timeout: the run is ending
	failed     atomic.Bool           // the run is ending with an error

	kafkaMetrics *kprom.Metrics // the consumer's client metrics, when registered
	startMillis  int64          // when the run connected: where kafka.start_offset latest starts
}

// NewRunner prepares a runner; Run connects and consumes.
func NewRunner(cfg *config.Config, log *zap.Logger, writer sinks.RowWriter, newEngine EngineFactory) *Runner {
	r := &Runner{
		cfg: cfg, log: log, writer: writer, newEngine: newEngine, clock: &activityClock{},
		stats:      newTaskStats(),
		inputs:     map[string]int{},
		tasks:      map[int32]*task{},
		position:   map[lagKey]int64{},
		assigned:   map[lagKey]bool{},
		restoredAt: map[lagKey]kgo.EpochOffset{},
	}
	for i, name := range cfg.Topics.Inputs() {
		r.inputs[name] = i
	}
	return r
}

// Summary is what a finished run did, for the caller's last log line and
// for benchmarks.
type Summary struct {
	Events      int64
	DeadLetters int64
	RowsWritten int64
	Elapsed     time.Duration // the whole run, idle waits included
	// Busy is from the first record polled to the last one processed, plus
	// the final checkpoint: the run's time without the idle wait of
	// --until-idle, which is what a throughput figure should divide by.
	Busy time.Duration
	// PeakState is the largest operator state, summed over this process's
	// tasks, seen at a checkpoint: a sample every run.flush_interval.
	PeakState StateSize
}

func (r *Runner) summary(start time.Time) Summary {
	s := Summary{
		Events:      r.stats.totalEvents(),
		DeadLetters: r.stats.totalDeadLetters(),
		RowsWritten: r.stats.rowsWritten.Load(),
		Elapsed:     time.Since(start),
		PeakState:   r.stats.peak(),
	}
	if first, last := r.stats.firstPolled.Load(), r.stats.lastProcessed.Load(); first > 0 && last >= first {
		s.Busy = time.Duration(last-first) + time.Duration(r.stats.lastCheckpointNanos.Load())
	}
	return s
}

// Run consumes from brokers until ctx ends (then it flushes and commits
// within the shutdown grace) or, with run.until_idle, until the input has
// been idle that long (then it closes all state first).
func (r *Runner) Run(ctx context.Context, brokers []string) (Summary, error) {
	start := time.Now()
	r.stats.lastCheckpointAt.Store(start.UnixNano())
	if err := r.connect(ctx, brokers); err != nil {
		return Summary{}, err
	}
	mon, stopMonitor := context.WithCancel(ctx)
	go r.monitor(mon)
	err := r.loop(ctx)
	stopMonitor()
	if err != nil {
		// The run is failing: closing the client revokes the partitions,
		// and a checkpoint then would only delay the exit (ClickHouse may
		// be what failed); the next owner replays from the last one.
		r.failed.Store(true)
	}
	if r.stuck.Load() {
		// A call that ignored its deadline may hold a client: close in
		// the background and exit anyway, rather than hang.
		closed := make(chan struct{})
		go func() { r.close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(checkpointGrace):
			r.log.Error("clients did not close after a stuck checkpoint; exiting anyway")
		}
	} else {
		r.close()
	}
	return r.summary(start), err
}

func (r *Runner) connect(ctx context.Context, brokers []string) error {
	opts, err := ClientOptions(r.cfg.Kafka, brokers)
	if err != nil {
		return err
	}
	opts = append(opts, kgo.WithLogger(KafkaLogger(r.log)))
	r.conn = opts
	reset := kgo.NewOffset().AtStart()
	r.startMillis = time.Now().UnixMilli()
	if r.latest() {
		// "latest" is the end of each partition when this process
		// started, not when the group first reaches it: records appended
		// meanwhile are input, and a bounded run knows where its input
		// starts (inputState).
		reset = kgo.NewOffset().AfterMilli(r.startMillis)
	}
	opts = append(opts,
		kgo.ConsumerGroup(r.cfg.Kafka.Group),
		kgo.SessionTimeout(r.cfg.Kafka.SessionTimeout),
		kgo.RebalanceTimeout(r.cfg.Kafka.RebalanceTimeout),
		kgo.ConsumeTopics(r.cfg.Topics.Inputs()...),
		kgo.ConsumeResetOffset(reset),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		// Range assignment gives one member partition p of every input
		// topic (equal partition counts), which a task needs.
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.OnPartitionsAssigned(r.onAssigned),
		kgo.OnPartitionsRevoked(r.onRevoked),
		kgo.OnPartitionsLost(r.onLost),
		kgo.FetchMaxPartitionBytes(int32(r.cfg.Kafka.FetchMaxPartitionBytes)),
	)
	opts = append(opts, MembershipOptions(r.cfg.Kafka)...)
	if r.kafkaMetrics != nil {
		opts = append(opts, kgo.WithHooks(r.kafkaMetrics))
	}
	if r.client, err = kgo.NewClient(opts...); err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	// PrepareKafka has waited for the brokers already; these calls only
	// check again, bounded like the start.
	ctx, cancel := context.WithTimeout(ctx, max(r.cfg.Run.StartupTimeout, 30*time.Second))
	defer cancel()
	partitions, err := EnsureTopics(ctx, r.client, r.cfg.Topics, r.cfg.Kafka.Partitions)
	if err != nil {
		r.client.Close()
		return err
	}
	if r.cfg.Run.StateCheckpoints {
		if err := r.connectState(ctx, partitions); err != nil {
			r.client.Close()
			return err
		}
	}
	return nil
}

// connectState prepares the changelog. Each task writes its own partition
// of it through a checkpoint writer of its own (checkpointwriter.go).
func (r *Runner) connectState(ctx context.Context, partitions int32) error {
	if _, ok := r.newEngine(0).(checkpointable); !ok {
		return errors.New("run.state_checkpoints is on but the engine cannot save its state")
	}
	return ensureChangelog(ctx, r.client, r.cfg.ChangelogTopic(), partitions)
}

// latest: partitions the group has not committed start at the end.
func (r *Runner) latest() bool { return r.cfg.Kafka.StartOffset == "latest" }

// transactional: checkpoints go out in Kafka transactions.
func (r *Runner) transactional() bool { return r.cfg.Run.StateCheckpoints && r.cfg.Kafka.Transactions }

func (r *Runner) close() {
	r.mu.Lock()
	r.stopTasks(nil)
	r.mu.Unlock()
	r.wg.Wait()
	r.client.Close()
}

func (r *Runner) loop(ctx context.Context) error {
	lastRecord := time.Now()
	nextFlush := lastRecord.Add(r.cfg.Run.FlushInterval)
	progress := newProgress(r.stats, r.log)
	nextProgress := lastRecord.Add(r.cfg.Run.ProgressInterval)
	for {
		n, err := r.pollOnce(ctx)
		if err != nil {
			return err
		}
		if fatal := r.fatal.Load(); fatal != nil {
			return *fatal
		}
		now := time.Now()
		if n > 0 {
			lastRecord = now
		}
		if ctx.Err() != nil {
			return r.shutdown()
		}
		if r.idle(now, lastRecord) {
			done, err := r.finishIdle(ctx)
			if err != nil {
				return err
			}
			if done {
				progress.report(now)
				return nil
			}
			lastRecord = now // look again after another idle period
		}
		if !now.Before(nextFlush) {
			if err := r.checkpoint(ctx, false, false); err != nil {
				if ctx.Err() != nil {
					return r.shutdown() // stopped while waiting for a slow checkpoint
				}
				return err
			}
			nextFlush = now.Add(r.cfg.Run.FlushInterval)
		}
		if !now.Before(nextProgress) {
			progress.report(now)
			nextProgress = now.Add(r.cfg.Run.ProgressInterval)
		}
	}
}

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

// pollOnce polls for at most a short while and hands records to tasks.
func (r *Runner) pollOnce(ctx context.Context) (int, error) {
	wait := min(r.cfg.Run.FlushInterval, 250*time.Millisecond)
	pollCtx, cancel := context.WithTimeout(ctx, wait)
	fetches := r.client.PollRecords(pollCtx, 0)
	cancel()
	defer r.client.AllowRebalance()
	if fetches.IsClientClosed() {
		return 0, errors.New("kafka client closed")
	}
	fetches.EachError(func(topic string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			r.log.Warn("fetch error", zap.String("topic", topic), zap.Int32("partition", p), zap.Error(err))
		}
	})
	n := 0
	r.mu.Lock()
	defer r.mu.Unlock()
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		n += len(p.Records)
		r.stats.firstPolled.CompareAndSwap(0, time.Now().UnixNano())
		r.dispatch(p)
	})
	return n, nil
}

func (r *Runner) dispatch(p kgo.FetchTopicPartition) {
	input, ok := r.inputs[p.Topic]
	if !ok {
		return // not subscribed; cannot happen with ConsumeTopics
	}
	key := lagKey{p.Topic, p.Partition}
	recs := skipApplied(p.Records, r.position, key)
	if len(recs) == 0 {
		return
	}
	t, err := r.taskFor(p.Partition)
	if err != nil {
		r.fatal.Store(&err)
		return
	}
	t.inputs <- taskInput{topic: schemas.Topics[input], input: input, records: recs}
	last := recs[len(recs)-1].Offset
	r.position[key] = last + 1
	r.stats.setConsumed(key, last+1)
}

// skipApplied drops the records before the partition's position: they are
// in the task's state already. A restore seeks the inputs to the offsets of
// its state, but a fetch from the group's committed offset (behind the
// state when a crash came between the two writes) may already be under
// way and is delivered first; applying it again would dead-letter old
// events as late and move the task's offsets back.
func skipApplied(recs []*kgo.Record, position map[lagKey]int64, key lagKey) []*kgo.Record {
	pos, ok := position[key]
	if !ok {
		return recs
	}
	for len(recs) > 0 && recs[0].Offset < pos {
		recs = recs[1:]
	}
	return recs
}

// taskFor returns partition p's task, starting it on first use. Callers
// hold r.mu.
func (r *Runner) taskFor(p int32) (*task, error) {
	if t, ok := r.tasks[p]; ok {
		return t, nil
	}
	t, err := r.newTask(p, r.newEngine(p))
	if err != nil {
		return nil, err
	}
	r.tasks[p] = t
	r.startTask(t)
	return t, nil
}

func (r *Runner) newTask(p int32, engine Engine) (*task, error) {
	w, err := newCheckpointWriter(r.conn, r.cfg.ChangelogTopic(), p, r.transactional(), r.cfg.Kafka.TransactionTimeout)
	if err != nil {
		return nil, err
	}
	t := newTask(p, engine, newMarks(r.cfg), &deadLetterBuffer{topic: r.cfg.Topics.DeadLetter}, r.stats)
	t.now = r.clock.Now
	t.writer = w
	t.evalHorizon = r.cfg.Time.RatingWindow.Milliseconds()
	t.alive, t.stop = context.WithCancel(context.Background())
	return t, nil
}

// newMarks tracks the watermark of a task's inputs: the five, and
// cs.outreach when configured (an input never read would hold it back).
func newMarks(cfg *config.Config) *eventtime.Watermarks {
	return eventtime.NewWatermarks(len(cfg.Topics.Inputs()), cfg.Time.MaxOutOfOrder, cfg.Time.IdleInput)
}

func (r *Runner) startTask(t *task) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t.run()
	}()
}

// stopTasks ends the tasks of the given partitions (all when nil). Callers
// hold r.mu.
func (r *Runner) stopTasks(partitions map[int32]bool) {
	for p, t := range r.tasks {
		if partitions == nil || partitions[p] {
			close(t.inputs)
			// A checkpoint still writing for this task gives up: the
			// partition may have a new owner already.
			t.stop()
			t.writer.close()
			delete(r.tasks, p)
			r.stats.forgetEngine(p)
		}
	}
}

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
//  1. each task's dead letters, changed state, rows and task entry (input
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
	r.stats.setStage("kafka transaction (state, rows, dead letters)")
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
		recs := part.dead
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
	engine := r.newEngine(p)
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

// Stats returns the live counters (for /metrics).
func (r *Runner) Stats() *taskStats { return r.stats }
