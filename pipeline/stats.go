package pipeline

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cspulse/cspulse/pipeline/operators"
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

	lagMu     sync.Mutex
	lag       map[lagKey]int64
	engine    map[int32]operators.Stats // per task, as of its last checkpoint
	peakState StateSize                 // the largest sum over the tasks seen at a checkpoint
}

// StateSize is the operator state of a process: its approximate bytes
// and the sessions it holds (open, closed and compacted).
type StateSize struct {
	Bytes          int64
	Sessions, Open int
}

func (s *taskStats) setEngine(p int32, st operators.Stats) {
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
	s.lagMu.Unlock()
}

type lagKey struct {
	topic     string
	partition int32
}

func newTaskStats() *taskStats {
	s := &taskStats{deadLetters: map[schemas.Reason]*atomic.Int64{}, lag: map[lagKey]int64{}, engine: map[int32]operators.Stats{}}
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

func (s *taskStats) setLag(topic string, partition int32, lag int64) {
	s.lagMu.Lock()
	s.lag[lagKey{topic, partition}] = lag
	s.lagMu.Unlock()
}

func (s *taskStats) forgetLag(topic string, partition int32) {
	s.lagMu.Lock()
	delete(s.lag, lagKey{topic, partition})
	s.lagMu.Unlock()
}

func (s *taskStats) totalLag() int64 {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	var n int64
	for _, l := range s.lag {
		n += l
	}
	return n
}

var lagDesc = prometheus.NewDesc("cspulse_consumer_lag",
	"Records behind the high watermark, per assigned input partition.", []string{"topic", "partition"}, nil)

// lagCollector reports the lag of the partitions assigned right now.
type lagCollector struct{ s *taskStats }

func (c lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- lagDesc }

func (c lagCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.lagMu.Lock()
	defer c.s.lagMu.Unlock()
	for k, lag := range c.s.lag {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(lag), k.topic, strconv.Itoa(int(k.partition)))
	}
}

var (
	stateEntriesDesc = prometheus.NewDesc("cspulse_state_entries",
		"Operator state held, by kind, per task (as of its last checkpoint).", []string{"partition", "kind"}, nil)
	stateBytesDesc = prometheus.NewDesc("cspulse_state_bytes",
		"Approximate bytes of operator state per task (as of its last checkpoint).", []string{"partition"}, nil)
	invariantDesc = prometheus.NewDesc("cspulse_invariant_breaches",
		"Writes to final hours and negative counts; must stay 0.", []string{"partition", "kind"}, nil)
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
		ch <- prometheus.MustNewConstMetric(invariantDesc, prometheus.GaugeValue, float64(st.FinalCellWrites), part, "final_cell_writes")
		ch <- prometheus.MustNewConstMetric(invariantDesc, prometheus.GaugeValue, float64(st.NegativeValues), part, "negative_values")
	}
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
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cspulse_state_records_total",
			Help: "State entries written to the changelog."}, func() float64 { return float64(s.stateRecords.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cspulse_checkpoints_total",
			Help: "Checkpoints made durable (rows, dead letters, state, offsets)."}, func() float64 { return float64(s.flushes.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cspulse_checkpoint_last_seconds",
			Help: "Duration of the last checkpoint, from snapshot to committed offsets."},
			func() float64 { return float64(s.lastCheckpointNanos.Load()) / 1e9 }),
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
