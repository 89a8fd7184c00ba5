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

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
	"go.uber.org/zap"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
)

// EngineFactory makes the engine of a newly assigned partition.
type EngineFactory func(partition int32) Engine

// Runner is one cspulse process's consumer: a franz-go group member whose
// partitions each get a task.
type Runner struct {
	cfg     *config.Config
	log     *zap.Logger
	writer  sinks.RowWriter
	commits inflight // the checkpoint being written, if any
	clock   *activityClock
	engines Engines
	stats   *taskStats

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
func NewRunner(cfg *config.Config, log *zap.Logger, writer sinks.RowWriter, engines Engines) *Runner {
	r := &Runner{
		cfg: cfg, log: log, writer: writer, engines: engines, clock: &activityClock{},
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
	t.inputs <- taskInput{topic: schemas.Topics[input], input: input, records: recs, highWatermark: p.HighWatermark}
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
	t, err := r.newTask(p, r.engines.New(p))
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
	t := newTask(p, engine, r.engines.Checks, newMarks(r.cfg), &deadLetterBuffer{topic: r.cfg.Topics.DeadLetter}, r.stats)
	t.now = r.clock.Now
	t.writer = w
	t.evalHorizon = r.cfg.Time.RatingWindow.Milliseconds()
	t.alertsTopic = r.cfg.Topics.Alerts
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

// Stats returns the live counters (for /metrics).
func (r *Runner) Stats() *taskStats { return r.stats }
