package pipetest

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/generator"
)

// DemoDay is the generated day the report, page and command-line tests
// load (GeneratedDay) and compare with the documented queries: three
// shops of four agents, 300 sessions a shop, seed 11.
func DemoDay() generator.Config {
	gen := generator.DefaultConfig()
	gen.Seed = 11
	gen.Shops = 3
	gen.AgentsPerShop = 4
	gen.SessionsPerShopDay = 300
	return gen
}

// GeneratedDay loads a generated day of traffic (gen; generator.
// DefaultConfig's Monday 2026-11-02, with its orders paid over the
// following days and robot calls) through the whole pipeline into a fresh
// database, and returns the ClickHouse address and database.
func GeneratedDay(t *testing.T, gen generator.Config) (addr, db string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse and the embedded broker")
	}
	cfg := config.Defaults()
	cfg.Time.ShopZones = gen.ShopZones()
	b := Start(t, &cfg)
	stats := ProduceGenerated(t, b.Addr(), gen)
	sum := Run(t, &cfg)
	// Only the ratings made after the rating window are dead letters.
	if sum.DeadLetters != stats.LateRatings || sum.Events < stats.Events-stats.LateRatings {
		t.Fatalf("applied %d events with %d dead letters; the generator made %d events, %d ratings after the window",
			sum.Events, sum.DeadLetters, stats.Events, stats.LateRatings)
	}
	return cfg.ClickHouse.Addr[0], cfg.ClickHouse.Database
}

// ProduceGenerated produces the traffic gen describes to the broker at
// addr and returns what the generator made.
func ProduceGenerated(t *testing.T, addr string, gen generator.Config) generator.Stats {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var produceErr error
	stats, err := generator.Generate(ctx, gen, func(r *generator.Record) error {
		// The generator reuses its buffers: copy.
		rec := &kgo.Record{Topic: r.Topic, Key: append([]byte(nil), r.Key...), Value: append([]byte(nil), r.Value...)}
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil && produceErr == nil {
				produceErr = err
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Flush(ctx); err != nil || produceErr != nil {
		t.Fatalf("produce: %v %v", err, produceErr)
	}
	return stats
}
