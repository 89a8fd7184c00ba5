package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// Formats are the --format values of `cspulse report`.
var Formats = []string{"table", "csv", "json"}

// Write prints res as an aligned table (rates as percentages, titles as
// headers), CSV or JSON (one array of objects; metric names as keys, rates
// as fractions, null for no sample: the values of the documented SQL).
func Write(w io.Writer, res *Result, format string) error {
	switch format {
	case "table", "":
		return writeTable(w, res)
	case "csv":
		return writeCSV(w, res)
	case "json":
		return writeJSON(w, res)
	}
	return fmt.Errorf("--format %q: want table, csv or json", format)
}

func writeTable(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, k := range res.KeyNames {
		fmt.Fprintf(tw, "%s\t", k)
	}
	for _, m := range res.Metrics {
		fmt.Fprintf(tw, "%s\t", m.Title)
	}
	fmt.Fprintln(tw)
	for _, row := range res.Rows {
		for _, k := range row.Keys {
			if k == "" {
				k = "''"
			}
			fmt.Fprintf(tw, "%s\t", k)
		}
		for i, v := range row.Values {
			fmt.Fprintf(tw, "%s\t", display(res.Metrics[i], v))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// Display is v as the table shows it: "–" for no sample, rates in
// percent (the supervisors' page formats the same way).
func Display(m Metric, v Value) string { return display(m, v) }

// display is a value for people: "–" for no sample, rates in percent.
func display(m Metric, v Value) string {
	if v.Null {
		return "–"
	}
	switch m.Kind {
	case Rate:
		return strconv.FormatFloat(100*v.Num, 'f', 2, 64) + "%"
	case Seconds:
		return strconv.FormatFloat(v.Num, 'f', 1, 64)
	case Yuan:
		return strconv.FormatFloat(v.Num, 'f', 2, 64)
	case Count:
		return strconv.FormatFloat(v.Num, 'f', 0, 64)
	}
	return v.String()
}

func writeCSV(w io.Writer, res *Result) error {
	cw := csv.NewWriter(w)
	head := append([]string{}, res.KeyNames...)
	for _, m := range res.Metrics {
		head = append(head, m.Name)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, row := range res.Rows {
		rec := append([]string{}, row.Keys...)
		for _, v := range row.Values {
			rec = append(rec, v.csvCell())
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeJSON(w io.Writer, res *Result) error {
	out := make([]map[string]any, 0, len(res.Rows))
	for _, row := range res.Rows {
		o := map[string]any{}
		for i, k := range row.Keys {
			o[res.KeyNames[i]] = k
		}
		for i, v := range row.Values {
			if v.Null {
				o[res.Metrics[i].Name] = nil
			} else {
				o[res.Metrics[i].Name] = json.Number(v.String())
			}
		}
		out = append(out, o)
	}
	// Keys in a fixed order: dimension, then metrics as listed.
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	for i, o := range out {
		if i > 0 {
			io.WriteString(w, ",")
		}
		io.WriteString(w, "\n  {")
		n := 0
		put := func(k string) {
			if n > 0 {
				io.WriteString(w, ", ")
			}
			n++
			kb, _ := json.Marshal(k)
			vb, _ := json.Marshal(o[k])
			w.Write(kb)
			io.WriteString(w, ": ")
			w.Write(vb)
		}
		for _, k := range res.KeyNames {
			put(k)
		}
		for _, m := range res.Metrics {
			put(m.Name)
		}
		io.WriteString(w, "}")
	}
	_, err := io.WriteString(w, "\n]\n")
	return err
}
