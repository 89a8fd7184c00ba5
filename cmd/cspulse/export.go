package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cspulse/cspulse/report"
)

func newExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export detail rows from ClickHouse (export sessions)",
	}
	cmd.AddCommand(newExportSessionsCmd())
	return cmd
}

func newExportSessionsCmd() *cobra.Command {
	var r report.ExportRequest
	var out string
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "Stream the session detail (明细) of at most 31 days as CSV or JSON lines",
		Long: `Stream cs_sessions rows (one per closed session, by the local day it
started) as CSV or JSON lines, row by row as ClickHouse sends them: a month
of a large shop needs no more memory than a few blocks of rows.

At most 31 days per request; without --from, the last export.default_days
(30) days up to --to (default: today in time.default_zone). A session with
no agent answer has an empty first_response_ms (null in JSON), an unrated
one an empty rating.

  cspulse export sessions --shop shop-0001 --from 2026-11-01 --to 2026-11-30 > nov.csv
  cspulse export sessions --agent shop-0001-a01 --sort first_response --format jsonl`,
	}
	fl := cmd.Flags()
	fl.StringVar(&r.From, "from", "", "first local day, YYYY-MM-DD (default: --to minus export.default_days − 1)")
	fl.StringVar(&r.To, "to", "", "last local day, YYYY-MM-DD, included (default: today)")
	fl.StringSliceVar(&r.Shops, "shop", nil, "only these shops")
	fl.StringSliceVar(&r.Agents, "agent", nil, "only sessions these agents took part in")
	fl.StringSliceVar(&r.Groups, "group", nil, "only sessions of these groups")
	fl.StringSliceVar(&r.Buyers, "buyer", nil, "only these buyers")
	fl.StringVar(&r.Filtered, "filtered", "all", "yes: only sessions a reception filter removed; no: only the others; all")
	fl.StringVar(&r.Sort, "sort", "start", "start (oldest first), messages (most first) or first_response (slowest first, none last)")
	fl.StringVar(&r.Format, "format", "csv", "csv or jsonl")
	fl.StringVarP(&out, "out", "o", "-", "write to this file instead of standard output")
	load := withReportKeys(configFlags(cmd))
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		p, err := begin(load, false)
		if err != nil {
			return err
		}
		if r.To == "" {
			loc, err := time.LoadLocation(p.cfg.Time.DefaultZone)
			if err != nil {
				return err
			}
			r.To = time.Now().In(loc).Format("2006-01-02")
		}
		if r.From == "" {
			to, err := time.Parse("2006-01-02", r.To)
			if err != nil {
				return fmt.Errorf("--to %q is not a day: want YYYY-MM-DD", r.To)
			}
			r.From = to.AddDate(0, 0, -(p.cfg.Export.DefaultDays - 1)).Format("2006-01-02")
		}
		if r.Format != "csv" && r.Format != "jsonl" {
			return fmt.Errorf("--format %q: want csv or jsonl", r.Format)
		}
		if _, err := r.SQL(p.cfg.ClickHouse.Database); err != nil {
			return err // a bad range, sort or filter: before connecting
		}
		ch, err := p.clickHouse(cmd.Context())
		if err != nil {
			return err
		}
		defer ch.Close()
		var w io.Writer = cmd.OutOrStdout()
		if out != "-" {
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			defer f.Close()
			bw := bufio.NewWriter(f)
			defer bw.Flush()
			w = bw
		}
		n, err := report.Export(cmd.Context(), ch.Conn(), p.cfg.ClickHouse.Database, r, w, nil)
		if err != nil {
			return fmt.Errorf("export sessions: %w", err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "exported %d sessions, %s to %s\n", n, r.From, r.To)
		return nil
	}
	return cmd
}
