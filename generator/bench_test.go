//go:build unix

package generator

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time. The benchmarks report
// records per CPU second besides records per wall second, because a shared
// 2-core machine makes wall time say more about the neighbours than about
// the generator.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchmarkGenerate(b *testing.B, cfg Config) {
	b.ReportAllocs()
	var records, bytes int64
	wall, cpu := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		cfg.Seed = int64(i)
		st, err := Generate(context.Background(), cfg, func(r *Record) error {
			bytes += int64(len(r.Value))
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		records += st.Records
	}
	b.ReportMetric(float64(records)/time.Since(wall).Seconds(), "records/s")
	b.ReportMetric(float64(records)/(cpuTime()-cpu).Seconds(), "records/cpu-s")
	b.ReportMetric(float64(records)/float64(b.N), "records/op")
	b.SetBytes(bytes / int64(b.N))
}

// BenchmarkGenerate measures the generator alone (emit does nothing) on one
// big shop-day. Run with -cpu 1 -benchtime=20x for stable figures.
func BenchmarkGenerate(b *testing.B) {
	cfg := testConfig(1, 5000, 1)
	cfg.DuplicateRate, cfg.PoisonRate = 0.001, 0.001
	benchmarkGenerate(b, cfg)
}

// BenchmarkGenerateManyShops is the shape of the whole-path benchmark: many
// shops interleaved, hence a bigger pending queue.
func BenchmarkGenerateManyShops(b *testing.B) {
	benchmarkGenerate(b, testConfig(100, 500, 1))
}
