package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cspulse/cspulse/report"
)

// newReportRankingsCmd is `cspulse report rankings`: one ranking of
// cs_agent_rankings. A subcommand rather than a --by dimension: the
// ranks are computed by the pipeline per shop or group and day, so
// neither a dimension nor --from/--to, --hours or a scheme applies.
func newReportRankingsCmd() *cobra.Command {
	var r report.RankingRequest
	var format string
	var previous, explain bool
	cmd := &cobra.Command{
		Use:   "rankings",
		Short: "Print the agents' ranking (绩效排名) of a shop or group on a day",
		Long: `Print one ranking of cs_agent_rankings: the agents of a shop (or of one
group, --group) with a reception that day, each with received buyers, the
3-minute reply rate (sessions), the satisfaction rate and received
sessions: the value, the rank (1 = best; ties share the smallest rank,
listed by agent id) and the change since the previous day's rank, then the
mean over the ranked agents. The query is ranking_shop_day (ranking_group_day
with --group) of docs/queries.md; --explain prints the definitions.

Without --day: the shop's latest day in the table, its day so far;
--previous: the day before (final).

  cspulse report rankings --shop shop-0001
  cspulse report rankings --shop shop-0001 --group pre-sales --previous
  cspulse report rankings --shop shop-0001 --day 2026-11-02 --sort satisfaction_rate --format csv`,
	}
	fl := cmd.Flags()
	fl.StringVar(&r.Shop, "shop", "", "the shop (required)")
	fl.StringVar(&r.Group, "group", "", "one group's ranking (default: the whole shop's)")
	fl.StringVar(&r.Day, "day", "", "the shop-local day, YYYY-MM-DD (default: the shop's latest day in the table)")
	fl.BoolVar(&previous, "previous", false, "the day before --day (or before the latest day)")
	fl.StringVar(&r.Sort, "sort", "", "order by this metric's rank: "+strings.Join(report.RankingNames(), ", ")+" (default the first)")
	fl.StringVar(&format, "format", "table", "table (with a line of means), csv or json (the query's columns)")
	fl.BoolVar(&explain, "explain", false, "print the definition of each metric, rank, rank change and mean, and exit")
	load := configFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		p, err := begin(load, false)
		if err != nil {
			return err
		}
		defer p.done()
		if explain {
			_, err := io.WriteString(cmd.OutOrStdout(), explainRankings())
			return err
		}
		if err := r.Check(); err != nil {
			return err // before connecting
		}
		if format != "table" && format != "csv" && format != "json" {
			return fmt.Errorf("--format %q: want table, csv or json", format)
		}
		cfg := p.cfg.ClickHouse
		ch, err := p.clickHouse(cmd.Context())
		if err != nil {
			return err
		}
		defer ch.Close()
		if r.Day == "" {
			if r.Day, err = report.LatestRankingDay(cmd.Context(), ch.Conn(), cfg.Database, r.Shop); err != nil {
				return err
			}
			if r.Day == "" {
				return fmt.Errorf("shop %s has no ranking in %s.cs_agent_rankings", r.Shop, cfg.Database)
			}
		}
		if previous {
			if r.Day, err = report.PreviousDay(r.Day); err != nil {
				return err
			}
		}
		rk, err := report.ReadRanking(cmd.Context(), ch.Conn(), cfg.Database, r)
		if err != nil {
			return err
		}
		return report.WriteRanking(cmd.OutOrStdout(), rk, format)
	}
	return cmd
}

func explainRankings() string {
	var b strings.Builder
	for _, m := range report.RankingMetrics {
		fmt.Fprintf(&b, "%s — %s\n  %s\n\n", m.Name, m.Title, m.Definition)
	}
	fmt.Fprintf(&b, "rank (<metric>_rank)\n  %s\n\nrank change (<metric>_rank_change)\n  %s\n\nmean (<metric>_mean)\n  %s\n\n",
		report.RankDefinition, report.RankChangeDefinition, report.MeanDefinition)
	fmt.Fprintf(&b, "%s\n", report.RankingSQL("", report.RankingRequest{Shop: "shop-0001", Day: "2026-11-02"}))
	return b.String()
}
