package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/cspulse/cspulse/sinks"
)

func newReportCmd() *cobra.Command {
	var top int
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Print a summary of the metrics in ClickHouse: per shop, and the top agents",
	}
	cmd.Flags().IntVar(&top, "top", 10, "how many agents to list")
	load := configFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		l, err := load()
		if err != nil {
			return err
		}
		cfg := l.Config.ClickHouse
		chc, err := clickHouseConfig(cfg)
		if err != nil {
			return err
		}
		ch, err := sinks.OpenClickHouse(cmd.Context(), chc, zap.NewNop())
		if err != nil {
			return fmt.Errorf("clickhouse %v: %w", cfg.Addr, err)
		}
		defer ch.Close()
		return report(cmd.Context(), ch.Conn(), cfg.Database, top, os.Stdout)
	}
	return cmd
}

// The report's queries are the ones docs/queries.md explains: FINAL reads the
// latest version of each row, and every rate is a sum divided by a sum.
const shopReportSQL = `
SELECT s.shop_id, consult, transferred, received, abandoned, buyer_msgs,
       reply3, avg_resp_s, pickup, avg_wait_s, satisfaction, sales_yuan, silent
FROM (
  SELECT shop_id,
         sum(consult_sessions) AS consult,
         sum(transferred_sessions) AS transferred,
         sum(received_sessions) AS received,
         sum(abandoned_sessions) AS abandoned,
         sum(transferred_picked_sessions) / sum(transferred_sessions) AS pickup,
         sum(paid_amount_total) / 100 AS sales_yuan,
         sum(paid_amount_silent) / sum(paid_amount_total) AS silent
  FROM %[1]s.cs_shop_hourly FINAL GROUP BY shop_id
) AS s
ANY LEFT JOIN (
  SELECT shop_id,
         sum(buyer_msgs) AS buyer_msgs,
         sum(replied_3min_window) / sum(buyer_msgs_window) AS reply3,
         sum(response_ms_sum) / sum(replied_msgs) / 1000 AS avg_resp_s,
         sum(wait_ms_sum) / sum(wait_count) / 1000 AS avg_wait_s,
         sum(satisfied_window) / sum(ratings_window) AS satisfaction
  FROM %[1]s.cs_agent_hourly FINAL GROUP BY shop_id
) AS a USING shop_id
ORDER BY s.shop_id`

const agentReportSQL = `
SELECT shop_id, agent_id,
       sum(buyer_msgs) AS buyer_msgs,
       sum(replied_3min_window) / sum(buyer_msgs_window) AS reply3,
       sum(session_pairs_3min_ok) / sum(session_pairs_window) AS reply3_sessions,
       sum(response_ms_sum) / sum(replied_msgs) / 1000 AS avg_resp_s,
       sum(picked_assignments) / sum(assignments) AS pickup,
       sum(satisfied_window) / sum(ratings_window) AS satisfaction
FROM %[1]s.cs_agent_hourly FINAL
WHERE agent_id != ''
GROUP BY shop_id, agent_id
ORDER BY buyer_msgs DESC, shop_id, agent_id
LIMIT %[2]d`

func report(ctx context.Context, conn driver.Conn, db string, top int, out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "shop\tconsult\ttransferred\treceived\tabandoned\tbuyer msgs\t3-min reply\tavg response\tpickup\tavg wait\tsatisfied\tsales ¥\tsilent\t")
	err := queryRows(ctx, conn, fmt.Sprintf(shopReportSQL, db), func(scan func(...any) error) error {
		var shop string
		var consult, transferred, received, abandoned, msgs uint64
		var reply3, resp, pickup, wait, sat, sales, silent float64
		if err := scan(&shop, &consult, &transferred, &received, &abandoned, &msgs, &reply3, &resp, &pickup, &wait, &sat, &sales, &silent); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t\n", shop, consult, transferred, received, abandoned, msgs,
			pct(reply3), secs(resp), pct(pickup), secs(wait), pct(sat), sales, pct(silent))
		return nil
	})
	if err != nil {
		return fmt.Errorf("shop report: %w", err)
	}
	fmt.Fprintf(w, "\n")
	fmt.Fprintln(w, "top agents\t\tbuyer msgs\t3-min reply\t3-min (sessions)\tavg response\tpickup\tsatisfied\t")
	err = queryRows(ctx, conn, fmt.Sprintf(agentReportSQL, db, top), func(scan func(...any) error) error {
		var shop, agent string
		var msgs uint64
		var reply3, reply3s, resp, pickup, sat float64
		if err := scan(&shop, &agent, &msgs, &reply3, &reply3s, &resp, &pickup, &sat); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", shop, agent, msgs, pct(reply3), pct(reply3s), secs(resp), pct(pickup), pct(sat))
		return nil
	})
	if err != nil {
		return fmt.Errorf("agent report: %w", err)
	}
	return w.Flush()
}

func queryRows(ctx context.Context, conn driver.Conn, sql string, each func(scan func(...any) error) error) error {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// pct and secs print a ratio; 0/0 (no sample) is NaN in ClickHouse and "–" here.
func pct(f float64) string {
	if f != f {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

func secs(f float64) string {
	if f != f {
		return "–"
	}
	return fmt.Sprintf("%.1fs", f)
}
