package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/pipeline"
	"github.com/cspulse/cspulse/sinks"
)

// preamble is how the commands that work on the configured ClickHouse
// (run, retention, serve, report, export) start: the configuration
// loaded and validated, the logger it describes, the connection.
type preamble struct {
	cfg *config.Config
	// warnings are the configuration's (unknown CSPULSE_* variables).
	warnings []string
	// log follows log.level and log.format; zap.NewNop() for the
	// commands that print their result rather than log (report, export).
	log *zap.Logger
}

// begin loads the configuration with load (configFlags, or
// withReportKeys of it) and, when logs, builds the logger. done syncs it.
func begin(load func() (*config.Loaded, error), logs bool) (*preamble, error) {
	l, err := load()
	if err != nil {
		return nil, err
	}
	p := &preamble{cfg: &l.Config, warnings: l.Warnings, log: zap.NewNop()}
	if logs {
		if p.log, err = newLogger(l.Config.Log); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *preamble) done() { _ = p.log.Sync() }

// clickHouse opens the configured ClickHouse once, with neither retries
// nor migrations (run's openClickHouse does both): for the commands that
// read it or drop its partitions. Errors name its addresses.
func (p *preamble) clickHouse(ctx context.Context) (*sinks.ClickHouse, error) {
	c := p.cfg.ClickHouse
	chc, err := pipeline.ClickHouseConfig(c)
	if err != nil {
		return nil, err
	}
	ch, err := sinks.OpenClickHouse(ctx, chc, p.log)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %v: %w", c.Addr, err)
	}
	return ch, nil
}
