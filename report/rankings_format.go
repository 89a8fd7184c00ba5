package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// WriteRanking prints rk as an aligned table (per metric its value, rank
// and rank change, then a line of the means), or as CSV or JSON whose
// columns are those of the documented query: agent_id, then per metric
// <m>, <m>_rank, <m>_rank_change, <m>_mean; empty (CSV) or null (JSON)
// for NULL.
func WriteRanking(w io.Writer, rk *Ranking, format string) error {
	switch format {
	case "table", "":
		return writeRankingTable(w, rk)
	case "csv":
		return writeRankingCSV(w, rk)
	case "json":
		return writeRankingJSON(w, rk)
	}
	return fmt.Errorf("--format %q: want table, csv or json", format)
}

// RankChange shows a rank change as the page does: ▲2, ▼1, = or – (no
// rank the previous day).
func RankChange(v Value) string {
	switch {
	case v.Null:
		return "–"
	case v.Num > 0:
		return "▲" + strconv.FormatFloat(v.Num, 'f', 0, 64)
	case v.Num < 0:
		return "▼" + strconv.FormatFloat(-v.Num, 'f', 0, 64)
	}
	return "="
}

// RankingMean shows a mean: a rate in percent, a count to two places (a
// mean of counts is rarely whole).
func RankingMean(m RankingMetric, v Value) string {
	if m.Kind == Count && !v.Null {
		return strconv.FormatFloat(v.Num, 'f', 2, 64)
	}
	return display(Metric{Kind: m.Kind}, v)
}

func writeRankingTable(w io.Writer, rk *Ranking) error {
	scope := "shop " + rk.Shop
	if rk.Group != "" {
		scope += ", group " + rk.Group
	}
	fmt.Fprintf(w, "ranking of %s on %s (%d agents)\n", scope, rk.Day, len(rk.Rows))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "agent\t")
	for _, m := range RankingMetrics {
		fmt.Fprintf(tw, "%s\trank\t±\t", m.Title)
	}
	fmt.Fprintln(tw)
	for _, row := range rk.Rows {
		fmt.Fprintf(tw, "%s\t", row.Agent)
		for i, c := range row.Cells {
			m := RankingMetrics[i]
			fmt.Fprintf(tw, "%s\t%s\t%s\t", display(Metric{Kind: m.Kind}, c.Value), display(Metric{Kind: Count}, c.Rank), RankChange(c.Change))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "mean\t")
	for i, m := range RankingMetrics {
		fmt.Fprintf(tw, "%s\t\t\t", RankingMean(m, rk.Means[i]))
	}
	fmt.Fprintln(tw)
	return tw.Flush()
}

// rankingRecord is a row's values in RankingColumns order.
func rankingRecord(rk *Ranking, row RankingRow) []Value {
	var out []Value
	for i, c := range row.Cells {
		out = append(out, c.Value, c.Rank, c.Change, rk.Means[i])
	}
	return out
}

func writeRankingCSV(w io.Writer, rk *Ranking) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"agent_id"}, RankingColumns()...)); err != nil {
		return err
	}
	for _, row := range rk.Rows {
		rec := []string{row.Agent}
		for _, v := range rankingRecord(rk, row) {
			rec = append(rec, v.csvCell())
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeRankingJSON(w io.Writer, rk *Ranking) error {
	cols := RankingColumns()
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	for i, row := range rk.Rows {
		sep := ","
		if i == 0 {
			sep = ""
		}
		agent, _ := json.Marshal(row.Agent)
		fmt.Fprintf(w, "%s\n  {\"agent_id\": %s", sep, agent)
		for j, v := range rankingRecord(rk, row) {
			val := "null"
			if !v.Null {
				val = v.String()
			}
			fmt.Fprintf(w, ", %q: %s", cols[j], val)
		}
		io.WriteString(w, "}")
	}
	_, err := io.WriteString(w, "\n]\n")
	return err
}
