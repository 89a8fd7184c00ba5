package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/internal/broker"
	"github.com/cspulse/cspulse/internal/httpserver"
	"github.com/cspulse/cspulse/pipeline"
	"github.com/cspulse/cspulse/sinks"
)

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Consume the input topics and write metrics to ClickHouse",
		Example: "  cspulse run --brokers kafka-1:9092,kafka-2:9092\n" +
			"  cspulse run --embedded-kafka 127.0.0.1:19092 --until-idle 5s",
	}
	load := configFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		p, err := begin(load, true)
		if err != nil {
			return err
		}
		defer p.done()
		p.log.Info("cspulse starting", zap.String("version", buildVersion()), zap.String("go_version", runtime.Version()))
		for _, w := range p.warnings {
			p.log.Warn(w)
		}
		return run(cmd.Context(), p.cfg, p.log)
	}
	return cmd
}

func run(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	if err := cfg.RequireKafka(); err != nil {
		return err
	}
	setGCPercent(cfg.Run.GCPercent, log)
	brokers := cfg.Kafka.Brokers
	if cfg.Kafka.Embedded != "" {
		b, err := broker.Start(broker.Options{
			Listen: cfg.Kafka.Embedded, Topics: cfg.Topics.All(), Partitions: cfg.Kafka.Partitions,
		})
		if err != nil {
			return err
		}
		defer b.Close()
		brokers = []string{b.Addr()}
		log.Info("embedded broker started", zap.String("addr", b.Addr()))
	}
	startCtx, cancel := startupContext(ctx, cfg.Run.StartupTimeout)
	defer cancel()
	partitions, err := pipeline.PrepareKafka(startCtx, cfg, brokers, log)
	if err != nil {
		return err
	}
	ch, err := openClickHouse(startCtx, cfg.ClickHouse, log)
	if err != nil {
		return err
	}
	defer ch.Close()
	engines, err := pipeline.NewEnginesFor(cfg, partitions)
	if err != nil {
		return err
	}
	runner := pipeline.NewRunner(cfg, log, ch, engines)
	if err := serveMetrics(ctx, cfg.Run, runner, log); err != nil {
		return err
	}
	sum, err := runner.Run(ctx, brokers)
	if err != nil {
		return err
	}
	log.Info("run finished",
		zap.Int64("events", sum.Events), zap.Int64("dead_letters", sum.DeadLetters),
		zap.Int64("rows_written", sum.RowsWritten), zap.Duration("elapsed", sum.Elapsed),
		zap.Duration("busy", sum.Busy),
		zap.Float64("records_per_busy_s", float64(sum.Events+sum.DeadLetters)/sum.Busy.Seconds()),
		zap.Int64("peak_rss_bytes", peakRSS()),
		zap.Int64("peak_state_bytes", sum.PeakState.Bytes), zap.Int("sessions_at_peak", sum.PeakState.Sessions),
		zap.Int("open_sessions_at_peak", sum.PeakState.Open))
	return nil
}

// peakRSS is the process's high-water resident set (VmHWM), 0 where /proc
// does not tell.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// startupContext bounds the start's retries by run.startup_timeout; 0
// means one attempt.
func startupContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		timeout = time.Nanosecond
	}
	return context.WithTimeout(ctx, timeout)
}

// openClickHouse connects (retrying while ctx lasts; an authentication
// failure ends it at once) and applies pending migrations.
func openClickHouse(ctx context.Context, c config.ClickHouse, log *zap.Logger) (*sinks.ClickHouse, error) {
	var ch *sinks.ClickHouse
	err := pipeline.Retry(ctx, fmt.Sprintf("clickhouse %v", c.Addr), log, func(ctx context.Context) error {
		var err error
		chc, err := pipeline.ClickHouseConfig(c)
		if err != nil {
			return backoff.Permanent(err)
		}
		ch, err = sinks.OpenClickHouse(ctx, chc, log)
		if sinks.IsAuthError(err) {
			return backoff.Permanent(fmt.Errorf("clickhouse %v: authentication failed (clickhouse.user=%q): %w", c.Addr, c.User, err))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	n, err := ch.Migrate(ctx, log)
	if err != nil {
		ch.Close()
		return nil, err
	}
	log.Info("clickhouse ready", zap.Strings("addr", c.Addr), zap.String("database", c.Database), zap.Int("migrations_applied", n))
	return ch, nil
}

func serveMetrics(ctx context.Context, rc config.Run, runner *pipeline.Runner, log *zap.Logger) error {
	if rc.HTTPListen == "" {
		return nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildInfo())
	if err := runner.Register(reg); err != nil {
		return err
	}
	bound, err := httpserver.Serve(ctx, rc.HTTPListen, reg, runner.Readiness, rc.Pprof, log)
	if err != nil {
		return err
	}
	log.Info("serving /metrics, /healthz, /readyz", zap.String("addr", bound), zap.Bool("pprof", rc.Pprof))
	return nil
}

// buildInfo is cspulse_build_info{version,go_version} 1.
func buildInfo() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "cspulse_build_info",
		Help:        "Always 1; its labels tell the cspulse version and the Go version it was built with.",
		ConstLabels: prometheus.Labels{"version": buildVersion(), "go_version": runtime.Version()},
	})
	g.Set(1)
	return g
}

// setGCPercent applies run.gc_percent unless GOGC is set: an operator's
// explicit runtime setting wins over the project's default.
func setGCPercent(percent int, log *zap.Logger) {
	if env, ok := os.LookupEnv("GOGC"); ok {
		log.Info("GOGC set: run.gc_percent ignored", zap.String("GOGC", env))
		return
	}
	debug.SetGCPercent(percent)
}
