package pipeline

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/generator"
	"github.com/cspulse/cspulse/schemas"
)

// BenchmarkTaskHotPath measures what one task does per record, on one
// core: decode, watermark, and the metric engine, over a realistic
// generated day (records in arrival order, as the consumer hands them
// over). Kafka and ClickHouse are left out; BenchmarkTaskHotPath's
// events/s is the ceiling the whole path can approach per core.
func BenchmarkTaskHotPath(b *testing.B) { benchmarkTaskHotPath(b, config.Defaults()) }

// BenchmarkTaskHotPathWithoutAlerts is BenchmarkTaskHotPath with alerts
// and rankings off: the two side by side are what they cost per event.
func BenchmarkTaskHotPathWithoutAlerts(b *testing.B) {
	cfg := config.Defaults()
	cfg.Alerts.Rules, cfg.Rankings.Enabled = nil, false
	benchmarkTaskHotPath(b, cfg)
}

func benchmarkTaskHotPath(b *testing.B, cfg config.Config) {
	batches, n := generatedBatches(b)
	// One partition: every record passes the co-partitioning check, which
	// still hashes each key, as on a real run.
	engines, err := NewEnginesFor(&cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		t := newBenchTask(&cfg, engines)
		runtime.GC() // the last iteration's garbage is not this one's cost
		b.StartTimer()
		start, cpu0 := time.Now(), processCPU()
		for _, in := range batches {
			t.process(in)
		}
		elapsed += time.Since(start)
		cpu += processCPU() - cpu0
	}
	events := float64(n * b.N)
	b.ReportMetric(events/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/events, "ns/event")
	// Per CPU-second of the whole process (the task's thread and the GC's
	// workers): the "per core" figure, unaffected by waiting for a core on
	// a shared machine.
	b.ReportMetric(events/cpu.Seconds(), "events/cpu-s")
}

// processCPU is the CPU time (user + system, all threads) of the process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type discardDeadLetters struct{}

func (discardDeadLetters) Send(*kgo.Record, DeadLetter) {}
func (discardDeadLetters) Take() []*kgo.Record          { return nil }

func newBenchTask(cfg *config.Config, engines Engines) *task {
	marks := newMarks(cfg)
	return newTask(0, engines.New(0), engines.Checks, marks, discardDeadLetters{}, newTaskStats())
}

// generatedBatches is a day of 10 shops cut into poll-sized batches per
// topic, in generation (arrival) order. Each batch is laid out as franz-go
// hands a fetched record batch over: the records in one slab, their keys
// and values slices of one buffer (kgo's readRawRecordsDirect), so that
// the benchmark meets the memory layout the task meets in a real run.
func generatedBatches(b *testing.B) ([]taskInput, int) {
	b.Helper()
	gcfg := generator.DefaultConfig()
	gcfg.Shops = 10
	type raw struct{ key, value []byte }
	var (
		batches []taskInput
		cur     [len(schemas.Topics)][]raw
		offsets [len(schemas.Topics)]int64
		n       int
	)
	flush := func(i int) {
		if len(cur[i]) == 0 {
			return
		}
		size := 0
		for _, r := range cur[i] {
			size += len(r.key) + len(r.value)
		}
		buf := make([]byte, 0, size)
		recs := make([]kgo.Record, len(cur[i]))
		ptrs := make([]*kgo.Record, len(cur[i]))
		for j, r := range cur[i] {
			buf = append(buf, r.key...)
			key := buf[len(buf)-len(r.key):]
			buf = append(buf, r.value...)
			recs[j] = kgo.Record{Key: key, Value: buf[len(buf)-len(r.value):], Offset: offsets[i]}
			offsets[i]++
			ptrs[j] = &recs[j]
		}
		batches = append(batches, taskInput{topic: schemas.Topics[i], input: i, records: ptrs})
		cur[i] = cur[i][:0]
	}
	_, err := generator.Generate(context.Background(), gcfg, func(r *generator.Record) error {
		i := int(r.Kind) - 1
		cur[i] = append(cur[i], raw{append([]byte(nil), r.Key...), append([]byte(nil), r.Value...)})
		if len(cur[i]) == 500 {
			flush(i)
		}
		n++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range cur {
		flush(i)
	}
	return batches, n
}
