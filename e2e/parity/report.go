package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// report is what --json-out writes: every difference, counts, and notes
// (what was not compared, passes that failed).
type report struct {
	Passes  []passSummary  `json:"passes"`
	Rows    []diffRow      `json:"differences"`
	ByField map[string]int `json:"count_by_field"`
	Notes   []string       `json:"notes"`
}

// passSummary counts one pass's records and differences.
type passSummary struct {
	Pass             string `json:"pass"`
	WalrelayRecords  int    `json:"walrelay_records"`
	DebeziumRecords  int    `json:"debezium_records"`
	Differences      int    `json:"differences"`
	Error            string `json:"error,omitempty"`
	WalrelayPrefix   string `json:"walrelay_topic_prefix"`
	DebeziumPrefix   string `json:"debezium_topic_prefix"`
	Database         string `json:"database"`
	ConnectorLogsDir string `json:"logs_dir"`
}

// cellMax is the widest value the text table prints (the JSON has all).
const cellMax = 160

// printTable writes the difference table and the summary to w.
func printTable(w io.Writer, rep *report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PASS\tTABLE\tKEY\tOP\tFIELD\tWALRELAY\tDEBEZIUM")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Pass, r.Table, cell(r.Key, 40), r.Op, r.Field,
			cell(r.Walrelay, cellMax), cell(r.Debezium, cellMax))
	}
	tw.Flush()
	fmt.Fprintln(w)
	printDistinct(w, rep.Rows)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Summary")
	for _, p := range rep.Passes {
		line := fmt.Sprintf("  pass %-8s walrelay %d records, debezium %d records, %d differences",
			p.Pass, p.WalrelayRecords, p.DebeziumRecords, p.Differences)
		if p.Error != "" {
			line += " (ERROR: " + p.Error + ")"
		}
		fmt.Fprintln(w, line)
	}
	fields := make([]string, 0, len(rep.ByField))
	for f := range rep.ByField {
		fields = append(fields, f)
	}
	sort.Slice(fields, func(i, j int) bool {
		if rep.ByField[fields[i]] != rep.ByField[fields[j]] {
			return rep.ByField[fields[i]] > rep.ByField[fields[j]]
		}
		return fields[i] < fields[j]
	})
	fmt.Fprintln(w, "  differences by field (before./after. folded into column):")
	for _, f := range fields {
		fmt.Fprintf(w, "    %5d  %s\n", rep.ByField[f], f)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "  note: "+n)
	}
}

// printDistinct writes the differences once per pass, table, column (before.
// and after. folded) and value pair, with how many records and which ops
// showed it: the checklist to fix from.
func printDistinct(w io.Writer, rows []diffRow) {
	type agg struct {
		n   int
		ops []string
	}
	groups := map[[5]string]*agg{}
	var order [][5]string
	for _, r := range rows {
		k := [5]string{r.Pass, r.Table, foldField(r.Field), r.Walrelay, r.Debezium}
		g := groups[k]
		if g == nil {
			g = &agg{}
			groups[k] = g
			order = append(order, k)
		}
		g.n++
		if !slices.Contains(g.ops, r.Op) {
			g.ops = append(g.ops, r.Op)
		}
	}
	fmt.Fprintln(w, "Distinct differences (before./after. folded into the column)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PASS\tTABLE\tFIELD\tRECORDS\tOPS\tWALRELAY\tDEBEZIUM")
	for _, k := range order {
		g := groups[k]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", k[0], k[1], k[2], g.n, strings.Join(g.ops, ","),
			cell(k[3], cellMax), cell(k[4], cellMax))
	}
	tw.Flush()
}

// foldField turns before.X and after.X into "column X".
func foldField(f string) string {
	for _, p := range []string{"before.", "after."} {
		if strings.HasPrefix(f, p) {
			return "column " + strings.TrimPrefix(f, p)
		}
	}
	return f
}

// countByField folds before.X and after.X into "column X" and counts rows.
func countByField(rows []diffRow) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		out[r.Pass+" "+r.Table+" "+foldField(r.Field)]++
	}
	return out
}

// cell makes a value printable on one table line: newlines and tabs
// escaped, clipped to n bytes with the full length noted.
func cell(s string, n int) string {
	s = strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(s)
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return fmt.Sprintf("%s…(%d bytes)", s[:n], len(s))
	}
	return s
}

// writeJSON writes rep to path.
func writeJSON(path string, rep *report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
