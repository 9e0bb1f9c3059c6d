package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// StageLag is one stage of walrelay's own walrelay_transaction_lag_seconds
// histogram over a latency run's measured window: how long after their
// commit the window's transactions reached that stage ("sent" by the
// walsender, "received" by walrelay's reader, "acked" by Kafka). The
// percentiles are per transaction (the bench's are per row) and are
// interpolated inside the histogram's buckets, so they are estimates.
type StageLag struct {
	Stage        string  `json:"stage"`
	Transactions uint64  `json:"transactions"`
	P50ms        float64 `json:"p50_ms"`
	P99ms        float64 `json:"p99_ms"`
}

// lagMetric is the histogram the stages are read from.
const lagMetric = "walrelay_transaction_lag_seconds"

// stageOrder is the order stages are reported in: the way of a transaction.
var stageOrder = []string{"sent", "received", "acked"}

// histogram is one stage's cumulative bucket counts by upper bound
// (+Inf included).
type histogram map[float64]float64

// stageProbe reads walrelay's stage histograms from its /metrics at the
// warm-up's end and once every row arrived; nil reads nothing (a consumer
// without them).
type stageProbe struct {
	url    string
	before map[string]histogram
	err    error
}

// start takes the window's first reading. Called once, on any goroutine
// (a timer's), before end.
func (p *stageProbe) start() {
	if p != nil {
		p.before, p.err = scrapeStages(p.url)
	}
}

// end takes the second reading and returns the stages between the two; a
// build without the histogram (e.g. an older --compare-bin) gives none.
func (p *stageProbe) end() ([]StageLag, error) {
	if p == nil {
		return nil, nil
	}
	if p.err != nil {
		return nil, p.err
	}
	if p.before == nil {
		return nil, fmt.Errorf("%s: the window's first reading was never taken", p.url)
	}
	after, err := scrapeStages(p.url)
	if err != nil {
		return nil, err
	}
	var out []StageLag
	for _, stage := range stageOrder {
		h := after[stage].minus(p.before[stage])
		if n := h.count(); n > 0 {
			out = append(out, StageLag{Stage: stage, Transactions: uint64(n),
				P50ms: h.quantile(0.5) * 1000, P99ms: h.quantile(0.99) * 1000})
		}
	}
	return out, nil
}

// scrapeStages GETs url (Prometheus text format) and returns the buckets of
// lagMetric by stage; none if the metric is not there.
func scrapeStages(url string) (map[string]histogram, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("walrelay's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("walrelay's metrics: GET %s: %s", url, resp.Status)
	}
	return parseStages(resp.Body)
}

// parseStages reads lagMetric's bucket lines, e.g.
// `walrelay_transaction_lag_seconds_bucket{stage="acked",le="0.05"} 1234`.
func parseStages(r io.Reader) (map[string]histogram, error) {
	out := map[string]histogram{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	prefix := lagMetric + "_bucket{"
	for sc.Scan() {
		line := sc.Text()
		rest, found := strings.CutPrefix(line, prefix)
		labels, value, ok := strings.Cut(rest, "} ")
		if !found || !ok {
			continue
		}
		stage, le := label(labels, "stage"), label(labels, "le")
		bound, err := strconv.ParseFloat(le, 64)
		if err != nil {
			return nil, fmt.Errorf("walrelay's metrics: bucket bound in %q: %w", line, err)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("walrelay's metrics: count in %q: %w", line, err)
		}
		if out[stage] == nil {
			out[stage] = histogram{}
		}
		out[stage][bound] = v
	}
	return out, sc.Err()
}

// label returns the value of name in `a="x",b="y"`, "" if absent.
func label(labels, name string) string {
	for _, kv := range strings.Split(labels, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// minus is h's counts less before's (a nil before counts nothing).
func (h histogram) minus(before histogram) histogram {
	out := histogram{}
	for bound, v := range h {
		out[bound] = v - before[bound]
	}
	return out
}

// count is the observations in all (the +Inf bucket).
func (h histogram) count() float64 {
	return h[posInf]
}

var posInf = math.Inf(1)

// quantile estimates the q-quantile in seconds by linear interpolation
// inside the bucket that holds it, as Prometheus's histogram_quantile does;
// in the +Inf bucket it returns the largest finite bound.
func (h histogram) quantile(q float64) float64 {
	bounds := make([]float64, 0, len(h))
	for b := range h {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	rank := q * h.count()
	lower, below := 0.0, 0.0
	for _, b := range bounds {
		c := h[b]
		if c >= rank && c > below {
			if b == posInf {
				return lower
			}
			return lower + (b-lower)*(rank-below)/(c-below)
		}
		lower, below = b, c
	}
	return lower
}

// stagesNote is the half-max target's note on where its tail starts, from
// walrelay's own histograms: "" without them.
func stagesNote(stages []StageLag) string {
	var sent, acked *StageLag
	for i := range stages {
		switch stages[i].Stage {
		case "sent":
			sent = &stages[i]
		case "acked":
			acked = &stages[i]
		}
	}
	if sent == nil || acked == nil {
		return ""
	}
	return fmt.Sprintf("; per walrelay's histograms, p99 %.0f ms until PostgreSQL's walsender sent a transaction, %.0f ms until Kafka acknowledged it",
		sent.P99ms, acked.P99ms)
}
