package pipeline

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cspulse/cspulse/metrics"
	"github.com/cspulse/cspulse/schemas"
)

// taskStats are the pipeline's own counters. Tasks add to them with atomics
// (once per polled batch for events); the progress line and /metrics read
// the same numbers, so the two can never disagree.
type taskStats struct {
	events       [len(schemas.Topics)]atomic.Int64
	deadLetters  map[schemas.Reason]*atomic.Int64
	rowsWritten  atomic.Int64
	stateRecords atomic.Int64
	alerts       atomic.Int64 // alerts cut into checkpoints (written once the checkpoint commits)
	flushes      atomic.Int64

	// Wall-clock marks (unix nanos) for Summary.Busy.
	firstPolled         atomic.Int64
	lastProcessed       atomic.Int64
	lastCheckpointNanos atomic.Int64

	// wrongPartition is the detail of the last record dead-lettered as
	// wrong_partition, for the progress line's warning.
	wrongPartition atomic.Pointer[string]

	// Gauges of the checkpoint being written.
	pendingRows       atomic.Int64
	pendingStateBytes atomic.Int64

	// Checkpoint health (unix nanos): the end of the last successful
	// checkpoint (the run's start until there is one), and the start of
	// the one in flight (0: none) with the step it is at.
	lastCheckpointAt atomic.Int64
	inflightSince    atomic.Int64
	stage            atomic.Pointer[string]

	// insertCounts reads the ClickHouse writer's failed and retried INSERT
	// attempts, when it counts them.
	insertCounts func() (errors, retries int64)

	lagMu sync.Mutex
	// lag is computed off the hot path (lagMonitor): the brokers' end
	// offsets less the checkpointed position, per assigned input partition.
	lag          map[lagKey]int64
	assigned     map[lagKey]bool
	consumed     map[lagKey]int64        // next offset to process, as polled
	checkpointed map[lagKey]int64        // next offset to process, as of the last durable checkpoint
	watermarks   map[int32]int64         // per task, unix ms, as of its last checkpoint
	engine       map[int32]metrics.Stats // per task, as of its last checkpoint
	peakState    StateSize               // the largest sum over the tasks seen at a checkpoint
}

// StateSize is the operator state of a process: its approximate bytes
// and the sessions it holds (open, closed and compacted).
type StateSize struct {
	Bytes          int64
	Sessions, Open int
}

func (s *taskStats) setEngine(p int32, st metrics.Stats) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	s.engine[p] = st
	var now StateSize
	for _, task := range s.engine {
		now.Bytes += task.ApproxBytes
		now.Sessions += task.OpenSessions + task.ClosedSessions + task.Summaries
		now.Open += task.OpenSessions
	}
	if now.Bytes > s.peakState.Bytes {
		s.peakState = now
	}
}

// peak returns the largest state seen at a checkpoint.
func (s *taskStats) peak() StateSize {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	return s.peakState
}

func (s *taskStats) forgetEngine(p int32) {
	s.lagMu.Lock()
	delete(s.engine, p)
	delete(s.watermarks, p)
	s.lagMu.Unlock()
}

type lagKey struct {
	topic     string
	partition int32
}

func newTaskStats() *taskStats {
	s := &taskStats{deadLetters: map[schemas.Reason]*atomic.Int64{}, lag: map[lagKey]int64{}, engine: map[int32]metrics.Stats{},
		assigned: map[lagKey]bool{}, consumed: map[lagKey]int64{}, checkpointed: map[lagKey]int64{}, watermarks: map[int32]int64{}}
	s.lastCheckpointAt.Store(time.Now().UnixNano())
	for _, r := range schemas.Reasons {
		s.deadLetters[r] = new(atomic.Int64)
	}
	return s
}

func (s *taskStats) deadLetter(r schemas.Reason) {
	if c, ok := s.deadLetters[r]; ok {
		c.Add(1)
	}
}

func (s *taskStats) totalEvents() int64 {
	var n int64
	for i := range s.events {
		n += s.events[i].Load()
	}
	return n
}

func (s *taskStats) totalDeadLetters() int64 {
	var n int64
	for _, c := range s.deadLetters {
		n += c.Load()
	}
	return n
}

// assign records that this member holds (or no longer holds) an input
// partition.
func (s *taskStats) assign(key lagKey, on bool) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	if on {
		s.assigned[key] = true
		return
	}
	delete(s.assigned, key)
	delete(s.lag, key)
	delete(s.consumed, key)
	delete(s.checkpointed, key)
}

// assignedCount is how many input partitions this member holds.
func (s *taskStats) assignedCount() int {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	return len(s.assigned)
}

func (s *taskStats) setConsumed(key lagKey, next int64) {
	s.lagMu.Lock()
	s.consumed[key] = next
	s.lagMu.Unlock()
}

// setCheckpointed records the input offsets a durable checkpoint (or a
// restored one) reflects.
func (s *taskStats) setCheckpointed(offsets map[string]map[int32]int64) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	for topic, ps := range offsets {
		for p, at := range ps {
			if key := (lagKey{topic, p}); s.assigned[key] {
				s.checkpointed[key] = at
			}
		}
	}
}

func (s *taskStats) setWatermark(p int32, ms int64) {
	s.lagMu.Lock()
	s.watermarks[p] = ms
	s.lagMu.Unlock()
}

// updateLag sets the lag of every assigned partition whose end offset is
// known: the end less the last checkpoint's position (the group's
// committed offset, or the polled position, until this member has one).
func (s *taskStats) updateLag(ends, committed map[lagKey]int64) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	for key := range s.assigned {
		end, ok := ends[key]
		if !ok {
			continue
		}
		pos, ok := s.checkpointed[key]
		if !ok {
			pos, ok = committed[key]
		}
		if !ok {
			pos, ok = s.consumed[key]
		}
		if !ok {
			continue
		}
		s.lag[key] = max(0, end-pos)
	}
}

// checkpointAge is how long ago the last checkpoint succeeded (or the
// run started).
func (s *taskStats) checkpointAge(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, s.lastCheckpointAt.Load()))
}

// inflight reports the checkpoint being written: since when and at which
// step; ok false when none is.
func (s *taskStats) inflight() (since time.Time, stage string, ok bool) {
	at := s.inflightSince.Load()
	if at == 0 {
		return time.Time{}, "", false
	}
	if st := s.stage.Load(); st != nil {
		stage = *st
	}
	return time.Unix(0, at), stage, true
}

func (s *taskStats) setStage(stage string) { s.stage.Store(&stage) }

func (s *taskStats) totalLag() int64 {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	var n int64
	for _, l := range s.lag {
		n += l
	}
	return n
}

var (
	lagDesc = prometheus.NewDesc("cspulse_consumer_lag_records",
		"Records in the input partition not yet covered by a durable checkpoint: the broker's end offset less "+
			"the last checkpoint's position, per assigned input partition (refreshed every few seconds; grows "+
			"while checkpoints stop, e.g. in a ClickHouse outage).", []string{"topic", "partition"}, nil)
	watermarkDesc = prometheus.NewDesc("cspulse_watermark_delay_seconds",
		"Wall clock less the task's event-time watermark, per partition (as of its last checkpoint): how far the "+
			"results trail real time.", []string{"partition"}, nil)
)

// lagCollector reports the lag of the partitions assigned right now.
type lagCollector struct{ s *taskStats }

func (c lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagDesc
	ch <- watermarkDesc
}

func (c lagCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.lagMu.Lock()
	defer c.s.lagMu.Unlock()
	for k, lag := range c.s.lag {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(lag), k.topic, strconv.Itoa(int(k.partition)))
	}
	now := time.Now().UnixMilli()
	for p, wm := range c.s.watermarks {
		if wm == math.MinInt64 || wm == math.MaxInt64 {
			continue // no event yet, or finished
		}
		ch <- prometheus.MustNewConstMetric(watermarkDesc, prometheus.GaugeValue, float64(now-wm)/1000, strconv.Itoa(int(p)))
	}
}

var (
	stateEntriesDesc = prometheus.NewDesc("cspulse_state_entries",
		"Operator state held, by kind, per task (as of its last checkpoint).", []string{"partition", "kind"}, nil)
	stateBytesDesc = prometheus.NewDesc("cspulse_state_bytes",
		"Approximate bytes of operator state per task (as of its last checkpoint).", []string{"partition"}, nil)
	invariantDesc = prometheus.NewDesc("cspulse_invariant_breaches_total",
		"Writes to final hours and negative counts, per task since it started or was restored; must stay 0.", []string{"partition", "kind"}, nil)
)

// engineCollector reports each task's engine state.
type engineCollector struct{ s *taskStats }

func (c engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- stateEntriesDesc
	ch <- stateBytesDesc
	ch <- invariantDesc
}

func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.lagMu.Lock()
	defer c.s.lagMu.Unlock()
	for p, st := range c.s.engine {
		part := strconv.Itoa(int(p))
		for kind, n := range map[string]int{
			"open_sessions": st.OpenSessions, "closed_sessions": st.ClosedSessions, "summaries": st.Summaries,
			"pending_ratings": st.PendingRatings, "agent_cells": st.AgentCells, "shop_cells": st.ShopCells,
		} {
			ch <- prometheus.MustNewConstMetric(stateEntriesDesc, prometheus.GaugeValue, float64(n), part, kind)
		}
		ch <- prometheus.MustNewConstMetric(stateBytesDesc, prometheus.GaugeValue, float64(st.ApproxBytes), part)
		ch <- prometheus.MustNewConstMetric(invariantDesc, prometheus.CounterValue, float64(st.FinalCellWrites), part, "final_cell_writes")
		ch <- prometheus.MustNewConstMetric(invariantDesc, prometheus.CounterValue, float64(st.NegativeValues), part, "negative_values")
	}
}

func (s *taskStats) inserts() (errors, retries int64) {
	if s.insertCounts == nil {
		return 0, 0
	}
	return s.insertCounts()
}

// register exposes the counters on reg under the cspulse_ prefix.
func (s *taskStats) register(reg prometheus.Registerer, topicNames []string) error {
	var cs []prometheus.Collector
	for i, name := range topicNames {
		c := &s.events[i]
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cspulse_events_total", Help: "Valid input events applied, by topic.",
			ConstLabels: prometheus.Labels{"topic": name},
		}, func() float64 { return float64(c.Load()) }))
	}
	for _, r := range schemas.Reasons {
		c := s.deadLetters[r]
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cspulse_dead_letters_total", Help: "Records sent to the dead-letter topic, by reason.",
			ConstLabels: prometheus.Labels{"reason": string(r)},
		}, func() float64 { return float64(c.Load()) }))
	}
	cs = append(cs,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cspulse_rows_written_total",
			Help: "Rows written to ClickHouse."}, func() float64 { return float64(s.rowsWritten.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cspulse_alerts_total",
			Help: "Alerts (SPEC §4.2) emitted; a checkpoint that fails emits them again after its restore."},
			func() float64 { return float64(s.alerts.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cspulse_state_records_total",
			Help: "State entries written to the changelog."}, func() float64 { return float64(s.stateRecords.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cspulse_checkpoints_total",
			Help: "Checkpoints made durable (rows, dead letters, state, offsets)."}, func() float64 { return float64(s.flushes.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cspulse_checkpoint_duration_seconds",
			Help: "Duration of the last successful checkpoint, from snapshot to committed offsets."},
			func() float64 { return float64(s.lastCheckpointNanos.Load()) / 1e9 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cspulse_last_checkpoint_timestamp_seconds",
			Help: "Unix time of the end of the last successful checkpoint (the process's start until the first); " +
				"alert when time() minus it exceeds a few flush intervals."},
			func() float64 { return float64(s.lastCheckpointAt.Load()) / 1e9 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cspulse_checkpoint_in_progress_seconds",
			Help: "How long the checkpoint being written has taken so far; 0 when none is in flight."},
			func() float64 {
				if since, _, ok := s.inflight(); ok {
					return time.Since(since).Seconds()
				}
				return 0
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cspulse_clickhouse_insert_errors_total",
			Help: "ClickHouse INSERT attempts that failed (each retry that fails counts)."},
			func() float64 { e, _ := s.inserts(); return float64(e) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cspulse_clickhouse_insert_retries_total",
			Help: "ClickHouse INSERT attempts made again after a failure."},
			func() float64 { _, r := s.inserts(); return float64(r) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cspulse_checkpoint_pending_rows",
			Help: "Rows of the checkpoint being written (the output buffer's fill)."},
			func() float64 { return float64(s.pendingRows.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cspulse_checkpoint_state_bytes",
			Help: "Bytes of state entries in the checkpoint being written or last written."},
			func() float64 { return float64(s.pendingStateBytes.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cspulse_wrong_partition_records_total",
			Help: "Records on another partition than the one their key maps to under kafka.partitioner " +
				"(dead-lettered as wrong_partition): a producer uses another partitioner; alert when above 0."},
			func() float64 { return float64(s.deadLetters[schemas.ReasonWrongPartition].Load()) }),
		lagCollector{s},
		engineCollector{s},
	)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
