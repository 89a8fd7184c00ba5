package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/cspulse/cspulse/web"
)

// newServeCmd is `cspulse serve`: the supervisors' page (package web).
//
// It is its own command, not a listener of `run`: the page only reads
// ClickHouse, so it needs neither Kafka nor the pipeline's state, runs
// with read-only ClickHouse credentials, can be restarted, scaled or
// exposed to supervisors without touching the exactly-once pipeline (whose
// run.http_listen is an operators' port for /metrics and probes), and one
// page serves every shop whichever `run` process owns its partitions.
func newServeCmd() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the supervisors' web page: today's monitor per shop, hourly chart, rankings, alerts, robot intents",
		Long: `Serve the supervisors' page: one HTML page embedded in the binary and the
JSON endpoints it polls every 5 s (/api/monitor, /api/hourly, /api/robots,
/api/rankings, /api/alerts). Every figure is a metric of cspulse report, or
a ranking or alert of cs_agent_rankings and cs_alerts (the SQL of
docs/queries.md), read from ClickHouse; hover a heading for its definition. "Today" is each shop's
local day (time.default_zone, time.shop_zones).

  cspulse serve --listen 127.0.0.1:8080 --database cspulse_demo`,
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address of the page (host:port)")
	load := configFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		p, err := begin(load, true)
		if err != nil {
			return err
		}
		defer p.done()
		log := p.log
		cfg := p.cfg.ClickHouse // --clickhouse and --database: clickhouse.addr, clickhouse.database
		ch, err := p.clickHouse(cmd.Context())
		if err != nil {
			return err
		}
		defer ch.Close()
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return fmt.Errorf("--listen: %w", err)
		}
		s := &web.Server{Conn: ch.Conn(), Database: cfg.Database,
			DefaultZone: p.cfg.Time.DefaultZone, ShopZones: p.cfg.Time.ShopZones}
		srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		log.Info("serving the supervisors' page", zap.String("url", "http://"+ln.Addr().String()+"/"),
			zap.String("database", cfg.Database))
		fmt.Fprintf(cmd.OutOrStdout(), "cspulse serve: http://%s/\n", ln.Addr())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		select {
		case err := <-done:
			return err
		case <-cmd.Context().Done():
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	return cmd
}
