package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/generator"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
)

// BenchmarkTaskHotPath measures what one task does per record, on one
// core: decode, watermark, and the metric engine, over a realistic
// generated day (records in arrival order, as the consumer hands them
// over). Kafka and ClickHouse are left out; BenchmarkTaskHotPath's
// events/s is the ceiling the whole path can approach per core.
func BenchmarkTaskHotPath(b *testing.B) {
	batches, n := generatedBatches(b)
	cfg := config.Defaults()
	factory, err := NewEngineFactory(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		t := newBenchTask(&cfg, factory)
		b.StartTimer()
		start := time.Now()
		for _, in := range batches {
			t.process(in)
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n*b.N), "ns/event")
}

type discardDeadLetters struct{}

func (discardDeadLetters) Send(*kgo.Record, sinks.DeadLetter) {}

func newBenchTask(cfg *config.Config, factory EngineFactory) *task {
	marks := newMarks(cfg)
	return newTask(0, factory(0), marks, discardDeadLetters{}, newTaskStats())
}

// generatedBatches is a day of 10 shops cut into poll-sized batches per
// topic, in generation (arrival) order.
func generatedBatches(b *testing.B) ([]taskInput, int) {
	b.Helper()
	gcfg := generator.DefaultConfig()
	gcfg.Shops = 10
	var batches []taskInput
	var cur [len(schemas.Topics)][]*kgo.Record
	var offsets [len(schemas.Topics)]int64
	n := 0
	flush := func(i int) {
		if len(cur[i]) > 0 {
			batches = append(batches, taskInput{topic: schemas.Topics[i], input: i, records: cur[i]})
			cur[i] = nil
		}
	}
	_, err := generator.Generate(context.Background(), gcfg, func(r *generator.Record) error {
		i := int(r.Kind) - 1
		rec := &kgo.Record{Key: append([]byte(nil), r.Key...), Value: append([]byte(nil), r.Value...), Offset: offsets[i]}
		offsets[i]++
		cur[i] = append(cur[i], rec)
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
