package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/spf13/cobra"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/report"
)

// reportFlags are the flags of `cspulse report`.
type reportFlags struct {
	by, scheme, metrics, from, to, hours, format, sort string
	shops, groups, agents                              []string
	explain                                            bool
	top                                                int
}

func newReportCmd() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Print metrics from ClickHouse by day, week, month, hour, agent, group, shop, task or robot",
		Long: `Print metrics from ClickHouse as a table, CSV or JSON.

Without --by: the overview scheme per shop, then the top agents (the agents
scheme). With --by: one table of the chosen scheme (report.overview, or
report.schemes.NAME with --scheme NAME) or of --metrics. Every figure is the
documented SQL of docs/queries.md; --explain prints each metric's definition
and SQL.

  cspulse report --by day --from 2026-11-01 --to 2026-11-30 --shop shop-0001
  cspulse report --by agent --scheme agents --hours 09:00-18:00 --format csv
  cspulse report --by robot --scheme robots --format json
  cspulse report --explain --scheme agents

The agents' ranking of cs_agent_rankings: cspulse report rankings --help.`,
	}
	cmd.AddCommand(newReportRankingsCmd())
	fl := cmd.Flags()
	fl.StringVar(&f.by, "by", "", "dimension: "+strings.Join(report.DimensionNames(), ", ")+" (empty: the per-shop summary and top agents)")
	fl.StringVar(&f.scheme, "scheme", "overview", "metric scheme: overview or a name under report.schemes")
	fl.StringVar(&f.metrics, "metrics", "", "comma-separated metric names instead of a scheme")
	fl.StringVar(&f.from, "from", "", "first local day, YYYY-MM-DD (empty: from the first)")
	fl.StringVar(&f.to, "to", "", "last local day, YYYY-MM-DD, included (empty: to the last)")
	fl.StringVar(&f.hours, "hours", "", "local hours of the day, half-open, e.g. 09:00-18:00 (hour_of_day 9..17)")
	fl.StringSliceVar(&f.shops, "shop", nil, "only these shops (comma-separated or repeated)")
	fl.StringSliceVar(&f.groups, "group", nil, "only these groups (agent figures only)")
	fl.StringSliceVar(&f.agents, "agent", nil, "only these agents (agent and inquiry figures only)")
	fl.StringVar(&f.format, "format", "table", "table, csv or json")
	fl.StringVar(&f.sort, "sort", "", "order rows by this metric, largest first (default: by the dimension)")
	fl.IntVar(&f.top, "top", 0, "at most this many rows (without --by: agents listed, default 10)")
	fl.BoolVar(&f.explain, "explain", false, "print the definition and SQL of each metric of the scheme, and exit")
	load := withReportKeys(configFlags(cmd))
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		p, err := begin(load, false)
		if err != nil {
			return err
		}
		names, err := schemeMetrics(*p.cfg, f.scheme, f.metrics, cmd.Flags().Changed("scheme"))
		if err != nil {
			return err
		}
		if f.explain {
			_, err := io.WriteString(cmd.OutOrStdout(), report.Explain(names))
			return err
		}
		hours, err := report.ParseHours(f.hours)
		if err != nil {
			return fmt.Errorf("--hours %w", err)
		}
		for flag, v := range map[string]string{"--from": f.from, "--to": f.to} {
			if err := report.ParseDay(v); err != nil {
				return fmt.Errorf("%s %w", flag, err)
			}
		}
		if f.format != "table" && f.format != "csv" && f.format != "json" {
			return fmt.Errorf("--format %q: want table, csv or json", f.format)
		}
		req := report.Request{By: f.by, Metrics: names, Lenient: f.metrics == "", From: f.from, To: f.to, Hours: hours,
			Shops: f.shops, Groups: f.groups, Agents: f.agents, Sort: f.sort, Top: f.top}
		if f.by == "" && f.format != "table" {
			return fmt.Errorf("--format %s needs --by (without it: the summary, an aligned table)", f.format)
		}
		if f.by != "" {
			if err := req.Check(); err != nil {
				return err // before connecting
			}
		}
		ch, err := p.clickHouse(cmd.Context())
		if err != nil {
			return err
		}
		defer ch.Close()
		cfg := p.cfg.ClickHouse
		out := cmd.OutOrStdout()
		if f.by == "" {
			return summary(cmd.Context(), ch.Conn(), cfg.Database, *p.cfg, req, f.format, out, cmd.ErrOrStderr())
		}
		return runReport(cmd.Context(), ch.Conn(), cfg.Database, req, f.format, out, cmd.ErrOrStderr())
	}
	return cmd
}

// schemeMetrics is the metric list of --metrics, else of the scheme.
func schemeMetrics(c config.Config, scheme, metrics string, schemeSet bool) ([]string, error) {
	if metrics != "" {
		if schemeSet {
			return nil, fmt.Errorf("--metrics and --scheme: give one")
		}
		var names []string
		for _, n := range strings.Split(metrics, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		if err := report.CheckNames(names); err != nil {
			return nil, fmt.Errorf("--metrics: %w", err)
		}
		return names, nil
	}
	if scheme == "overview" {
		return c.Report.Overview, nil
	}
	if names, ok := c.Report.Schemes[scheme]; ok {
		return names, nil
	}
	known := []string{"overview"}
	for n := range c.Report.Schemes {
		known = append(known, n)
	}
	sort.Strings(known[1:])
	return nil, fmt.Errorf("--scheme %q: no such scheme (report.schemes); schemes: %s", scheme, strings.Join(known, ", "))
}

func runReport(ctx context.Context, conn driver.Conn, db string, req report.Request, format string, out, errOut io.Writer) error {
	res, err := report.Run(ctx, conn, db, req)
	if err != nil {
		return err
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(errOut, "not shown: %s\n", s)
	}
	return report.Write(out, res, format)
}

// summary is `cspulse report` without --by: the scheme per shop, then the
// top agents by buyer messages (the agents scheme).
func summary(ctx context.Context, conn driver.Conn, db string, c config.Config, req report.Request, format string, out, errOut io.Writer) error {
	top := req.Top
	req.By, req.Top = "shop", 0
	if err := runReport(ctx, conn, db, req, format, out, errOut); err != nil {
		return fmt.Errorf("shop report: %w", err)
	}
	agents, ok := c.Report.Schemes["agents"]
	if !ok {
		return nil
	}
	if top == 0 {
		top = 10
	}
	req.By, req.Metrics, req.Lenient, req.Top = "agent", agents, true, top
	req.Sort = ""
	for _, n := range agents {
		if n == "buyer_msgs" {
			req.Sort = n
		}
	}
	fmt.Fprintf(out, "\ntop agents\n")
	if err := runReport(ctx, conn, db, req, format, out, errOut); err != nil {
		return fmt.Errorf("agent report: %w", err)
	}
	return nil
}
