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
	"time"
)

// Report is everything one bench run measured; the table and the JSON
// output hold the same numbers.
type Report struct {
	StartedAt   time.Time       `json:"started_at"`
	Machine     Machine         `json:"machine"`
	Settings    Settings        `json:"settings"`
	Backlog     Backlog         `json:"backlog"`
	Limit       []RunResult     `json:"pg_recvlogical"`
	LimitBinary []RunResult     `json:"pg_recvlogical_binary"`
	Walrelay    []RunResult     `json:"walrelay"`
	Debezium    []RunResult     `json:"debezium,omitempty"`
	Latency     []LatencyResult `json:"latency"`
	Summary     []Summary       `json:"summary"`
	Targets     []Target        `json:"targets"`
	Notes       []string        `json:"notes"`
	Error       string          `json:"error,omitempty"`
}

// Settings are the flags that shaped the run.
type Settings struct {
	Rows     int      `json:"rows"`
	TxSize   int      `json:"tx_size"`
	Tables   int      `json:"tables"`
	Formats  []string `json:"formats"`
	Repeat   int      `json:"repeat"`
	Debezium string   `json:"debezium_version,omitempty"`
}

// Summary is one consumer's backlog rate over its runs.
type Summary struct {
	Consumer  string  `json:"consumer"`
	Runs      int     `json:"runs"` // runs that finished
	Median    float64 `json:"median_rows_per_s"`
	Min       float64 `json:"min_rows_per_s"`
	Max       float64 `json:"max_rows_per_s"`
	PeakRSSMB float64 `json:"peak_rss_mb"` // largest over the runs
	CPUPerRow float64 `json:"cpu_us_per_row"`
	Partial   bool    `json:"partial,omitempty"`
	// VsDebezium is a walrelay consumer's median over Debezium Server's in
	// the same format ("walrelay avro" / "debezium-server avro"); 0 = none.
	VsDebezium float64 `json:"vs_debezium_same_format,omitempty"`
}

// Target is one of issue 7's targets with what this run reached.
type Target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  *bool  `json:"met"` // nil: not measured in this run
}

func (r *Report) note(s string) { r.Notes = append(r.Notes, s) }

// rates returns the rates of runs that finished (or were cut short).
func rates(runs []RunResult) []float64 {
	var out []float64
	for _, r := range runs {
		if (r.Error == "" || r.Partial) && r.EventsPerS > 0 {
			out = append(out, r.EventsPerS)
		}
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summarize computes one Summary per consumer, in table order.
func summarize(groups ...[]RunResult) []Summary {
	var out []Summary
	for _, runs := range groups {
		byName := map[string][]RunResult{}
		var order []string
		for _, r := range runs {
			if _, ok := byName[r.Consumer]; !ok {
				order = append(order, r.Consumer)
			}
			byName[r.Consumer] = append(byName[r.Consumer], r)
		}
		for _, name := range order {
			out = append(out, summaryOf(name, byName[name]))
		}
	}
	return out
}

func summaryOf(name string, runs []RunResult) Summary {
	s := Summary{Consumer: name}
	v := rates(runs)
	s.Runs = len(v)
	if len(v) > 0 {
		s.Median = median(v)
		sorted := append([]float64(nil), v...)
		sort.Float64s(sorted)
		s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	}
	var cpu float64
	var rows int
	for _, r := range runs {
		s.PeakRSSMB = max(s.PeakRSSMB, r.PeakRSSMB)
		s.Partial = s.Partial || r.Partial
		if r.Error == "" && r.CPUSeconds > 0 {
			cpu += r.CPUSeconds
			rows += r.Rows
		}
	}
	if rows > 0 {
		s.CPUPerRow = cpu / float64(rows) * 1e6
	}
	return s
}

// printReport writes the human-readable tables.
func printReport(w io.Writer, r *Report) {
	m := r.Machine
	fmt.Fprintf(w, "\nwalrelay bench, %s\n", r.StartedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "machine:  %d CPUs (%s), %d MB RAM, load average %.1f at start, %.1f at end, Linux %s (%s), %s\n",
		m.NProc, m.CPUModel, m.MemTotalMB, m.LoadStart, m.LoadEnd, m.Kernel, m.autogroupText(), m.GoVersion)
	fmt.Fprintf(w, "postgres: %s, %s\nbroker:   %s\n", m.PGVersion, m.PostgresSrc, m.Broker)
	b := r.Backlog
	fmt.Fprintf(w, "backlog:  %d rows in %d transactions of up to %d rows over %d table(s), %.1f MB of WAL (%s..%s), written in %.1fs\n\n",
		b.Rows, b.Transactions, r.Settings.TxSize, b.Tables, float64(b.WALBytes)/1e6, b.StartLSN, b.EndLSN, b.WriteSeconds)
	printRuns(w, r)
	printSummary(w, r)
	printLatency(w, r)
	printTargets(w, r)
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "Notes:")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
	if r.Error != "" {
		fmt.Fprintf(w, "\nRUN FAILED: %s\n", r.Error)
	}
}

func printRuns(w io.Writer, r *Report) {
	fmt.Fprintln(w, "Backlog passes (each on its own slot; rate = rows / time the slot was streaming)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "consumer\tslot\trows/s\tstream s\tstart-up s\tin Kafka s\tCPU s\trunq wait s\twalsender CPU s\twalsender runq s\tbroker CPU s\tpeak RSS MB\tstatus\t")
	for _, group := range [][]RunResult{r.Limit, r.LimitBinary, r.Walrelay, r.Debezium} {
		for _, x := range group {
			status := "ok"
			if x.Error != "" {
				status = firstLine(x.Error)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.2f\t%s\t%.2f\t%s\t%.2f\t%s\t%s\t%.0f\t%s\t\n", x.Consumer, strings.TrimPrefix(x.Slot, slotPrefix),
				x.EventsPerS, x.StreamS, x.StartupS, optSec(x.KafkaS), x.CPUSeconds, optSec(x.RunqWaitS), x.WalsenderCPUS,
				optSec(x.WalsenderRunqWaitS), optSec(x.BrokerCPUS), x.PeakRSSMB, status)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func printSummary(w io.Writer, r *Report) {
	limit := summaryFor(r, "pg_recvlogical")
	fmt.Fprintln(w, "Backlog throughput (median over runs, spread = min..max)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "consumer\truns\trows/s\tmin..max\tspread %\tvs pg_recvlogical\tvs debezium same format\tCPU us/row\tpeak RSS MB\t")
	for _, s := range r.Summary {
		ratio := "-"
		if limit != nil && limit.Median > 0 {
			ratio = fmt.Sprintf("%.2fx", s.Median/limit.Median)
		}
		spread := 0.0
		if s.Median > 0 {
			spread = (s.Max - s.Min) / s.Median * 100
		}
		name := s.Consumer
		if s.Partial {
			name += " (partial)"
		}
		vsDbz := "-"
		if s.VsDebezium > 0 {
			vsDbz = fmt.Sprintf("%.2fx", s.VsDebezium)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f..%.0f\t%.0f\t%s\t%s\t%.1f\t%.0f\t\n", name, s.Runs, s.Median, s.Min, s.Max, spread, ratio, vsDbz, s.CPUPerRow, s.PeakRSSMB)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func printLatency(w io.Writer, r *Report) {
	if len(r.Latency) == 0 {
		return
	}
	fmt.Fprintln(w, "Latency: commit time -> Kafka LogAppendTime, ms")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "consumer\toffered/s\twritten/s\tsamples\tp50\tp95\tp99\tmax\tmean\tp50 1st/3rd third\tCPU s\tpeak RSS MB\tstatus\t")
	for _, x := range r.Latency {
		status := "ok"
		if x.Error != "" {
			status = firstLine(x.Error)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%d\t%d\t%d\t%d\t%d\t%.1f\t%d/%d\t%.2f\t%.0f\t%s\t\n", x.Consumer, x.OfferedRate, x.AchievedRate,
			x.Samples, x.P50ms, x.P95ms, x.P99ms, x.MaxMs, x.MeanMs, x.P50FirstMs, x.P50LastMs, x.CPUSeconds, x.PeakRSSMB, status)
	}
	tw.Flush()
	fmt.Fprintln(w)
	printBudgets(w, r.Latency)
	printStages(w, r.Latency)
	printSweep(w, r.Latency)
}

// printSweep prints the --sweep runs' p99 as one row per consumer and one
// column per offered rate.
func printSweep(w io.Writer, runs []LatencyResult) {
	var rates []int
	p99 := map[string]map[int]string{} // consumer (without the sweep suffix) -> rate -> p99
	var names []string
	for _, x := range runs {
		if !x.Sweep {
			continue
		}
		name, _, _ := strings.Cut(x.Consumer, " (sweep ")
		if p99[name] == nil {
			p99[name] = map[int]string{}
			names = append(names, name)
		}
		if !slices.Contains(rates, x.OfferedRate) {
			rates = append(rates, x.OfferedRate)
		}
		p99[name][x.OfferedRate] = fmt.Sprintf("%d", x.P99ms)
		if x.Error != "" {
			p99[name][x.OfferedRate] += "!"
		}
	}
	if len(rates) == 0 {
		return
	}
	fmt.Fprintln(w, "Sweep: p99 commit -> Kafka (ms) by offered rows/s (! = the run reported an error)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "consumer\t")
	for _, rate := range rates {
		fmt.Fprintf(tw, "%d\t", rate)
	}
	fmt.Fprintln(tw)
	for _, name := range names {
		fmt.Fprintf(tw, "%s\t", name)
		for _, rate := range rates {
			v := p99[name][rate]
			if v == "" {
				v = "-"
			}
			fmt.Fprintf(tw, "%s\t", v)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// printBudgets prints each latency run's CPU budget, if any was read.
func printBudgets(w io.Writer, runs []LatencyResult) {
	head := "CPU while each run's writer ran (after the warm-up), in cores:"
	for _, x := range runs {
		if x.CPU == nil {
			continue
		}
		if head != "" {
			fmt.Fprintln(w, head)
			head = ""
		}
		fmt.Fprintf(w, "  %s at %d/s: %s\n", x.Consumer, x.OfferedRate, x.CPU)
	}
	if head == "" {
		fmt.Fprintln(w)
	}
}

// printStages prints walrelay's own stage breakdown of each latency run
// that has one.
func printStages(w io.Writer, runs []LatencyResult) {
	head := "walrelay's own view (" + lagMetric + ", per transaction, from its commit; p50 / p99 in ms):"
	for _, x := range runs {
		if len(x.Stages) == 0 {
			continue
		}
		if head != "" {
			fmt.Fprintln(w, head)
			head = ""
		}
		parts := make([]string, len(x.Stages))
		for i, s := range x.Stages {
			parts[i] = fmt.Sprintf("%s %.1f / %.1f", s.Stage, s.P50ms, s.P99ms)
		}
		fmt.Fprintf(w, "  %s at %d/s, %d transactions: %s\n", x.Consumer, x.OfferedRate, x.Stages[0].Transactions,
			strings.Join(parts, "; "))
	}
	if head == "" {
		fmt.Fprintln(w)
	}
}

func printTargets(w io.Writer, r *Report) {
	fmt.Fprintln(w, "Targets (issue 7)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range r.Targets {
		verdict := "not measured"
		if t.Met != nil {
			verdict = map[bool]string{true: "MET", false: "MISSED"}[*t.Met]
		}
		// The verdict before what was reached: a long "got" (the latency
		// target's explains itself) is last and pads no other column.
		fmt.Fprintf(tw, "  %s\twant %s\t%s\tgot %s\n", t.Name, t.Want, verdict, t.Got)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func summaryFor(r *Report, consumer string) *Summary {
	for i := range r.Summary {
		if r.Summary[i].Consumer == consumer {
			return &r.Summary[i]
		}
	}
	return nil
}

func optSec(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// writeJSON writes the report to path.
func writeJSON(path string, r *Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("--json-out: %w", err)
	}
	return nil
}
