package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cspulse/cspulse/sinks"
)

func newRetentionCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Drop ClickHouse partitions older than retention.<table> months",
		Long: "Drops the monthly partitions (PARTITION BY toYYYYMM(day)) of each table\n" +
			"older than its retention.<table> months: N keeps the current month and the\n" +
			"N months before it; 0 keeps everything. With clickhouse.cluster, on every\n" +
			"server of the cluster. Run it from cron (or a Kubernetes CronJob), e.g. daily.",
		Example: "  cspulse retention --retention.cs_sessions 3 --dry-run\n" +
			"  CSPULSE_RETENTION_CS_SESSIONS=3 CSPULSE_RETENTION_CS_AGENT_HOURLY=24 cspulse retention",
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list the partitions it would drop; drop nothing")
	load := configFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		p, err := begin(load, true)
		if err != nil {
			return err
		}
		defer p.done()
		ch, err := p.clickHouse(cmd.Context())
		if err != nil {
			return err
		}
		defer ch.Close()
		dropped, err := ch.DropOldPartitions(cmd.Context(), p.cfg.Retention.Months(), time.Now(), dryRun)
		if err == nil || len(dropped) > 0 {
			printDropped(os.Stdout, dropped, dryRun)
		}
		return err
	}
	return cmd
}

func printDropped(w io.Writer, dropped []sinks.DroppedPartition, dryRun bool) {
	verb := "dropped"
	if dryRun {
		verb = "would drop"
	}
	if len(dropped) == 0 {
		fmt.Fprintf(w, "retention: nothing to drop\n")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "server\ttable\tpartition\trows\t")
	for _, p := range dropped {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", p.Node, p.Table, p.Partition, p.Rows, verb)
	}
	_ = tw.Flush()
}
