// Package pipetest runs the whole pipeline inside tests: an embedded
// Kafka-protocol broker, a bounded-run configuration, and the real runner
// writing into the real ClickHouse (internal/testenv).
package pipetest

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/internal/broker"
	"github.com/cspulse/cspulse/internal/testenv"
	"github.com/cspulse/cspulse/pipeline"
	"github.com/cspulse/cspulse/sinks"
)

// Start starts an embedded broker with cfg's topics and points cfg at it
// and at a fresh ClickHouse database, for a bounded run that ends once the
// input is idle. Both go away when the test ends.
func Start(t *testing.T, cfg *config.Config) *broker.Broker {
	t.Helper()
	chAddr := testenv.ClickHouseAddr(t)
	b, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Topics: cfg.Topics.All(), Partitions: cfg.Kafka.Partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	cfg.Kafka.Brokers = []string{b.Addr()}
	cfg.ClickHouse.Addr = []string{chAddr}
	cfg.ClickHouse.Database = testenv.Database(t, chAddr)
	cfg.Run.UntilIdle = 1500 * time.Millisecond
	cfg.Run.FlushInterval = 200 * time.Millisecond
	// A tiny input may leave a topic's fetch seconds behind the others on
	// a loaded machine; an input must not count as idle meanwhile, or the
	// watermark runs ahead and its events turn late. The end of input
	// (--until-idle) advances event time anyway.
	cfg.Time.IdleInput = time.Minute
	cfg.Run.HTTPListen = ""
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return b
}

// Run runs the pipeline on cfg until its input is idle, as
// `cspulse run --until-idle` does: Kafka start, migrations, engines
// (co-partitioning checked), runner.
func Run(t *testing.T, cfg *config.Config) pipeline.Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := zaptest.NewLogger(t)
	ch := openMigrated(t, ctx, cfg.ClickHouse, log)
	defer ch.Close()
	partitions, err := pipeline.PrepareKafka(ctx, cfg, cfg.Kafka.Brokers, log)
	if err != nil {
		t.Fatal(err)
	}
	engines, err := pipeline.NewEnginesFor(cfg, partitions)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := pipeline.NewRunner(cfg, log, ch, engines).Run(ctx, cfg.Kafka.Brokers)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return sum
}

// ClickHouseConfig is the writer config of the clickhouse.* defaults for
// database db at addr.
func ClickHouseConfig(t testing.TB, addr, db string) sinks.ClickHouseConfig {
	t.Helper()
	c := config.Defaults().ClickHouse
	c.Addr, c.Database = []string{addr}, db
	chc, err := pipeline.ClickHouseConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return chc
}

// MigratedDatabase creates a fresh database with cspulse's tables, as
// `cspulse run` migrates it, and returns the server's address and the
// database's name; the database is dropped when the test ends.
func MigratedDatabase(t testing.TB) (addr, db string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse")
	}
	c := config.Defaults().ClickHouse
	addr = testenv.ClickHouseAddr(t)
	c.Addr, c.Database = []string{addr}, testenv.Database(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	openMigrated(t, ctx, c, zaptest.NewLogger(t)).Close()
	return addr, c.Database
}

// openMigrated opens the writer c describes and applies the migrations.
func openMigrated(t testing.TB, ctx context.Context, c config.ClickHouse, log *zap.Logger) *sinks.ClickHouse {
	t.Helper()
	chc, err := pipeline.ClickHouseConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sinks.OpenClickHouse(ctx, chc, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sinks.Migrate(ctx, ch.Conn(), c.Database, log); err != nil {
		ch.Close()
		t.Fatal(err)
	}
	return ch
}
