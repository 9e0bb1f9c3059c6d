package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

// LatencyResult is commit -> Kafka append time at a fixed offered rate.
type LatencyResult struct {
	Consumer     string  `json:"consumer"`
	OfferedRate  int     `json:"offered_rows_per_s"`
	AchievedRate float64 `json:"written_rows_per_s"`
	DurationS    float64 `json:"duration_s"`
	Written      int64   `json:"written"`
	Received     int64   `json:"received"`
	Samples      int     `json:"samples"` // received rows committed after the warm-up
	P50ms        int64   `json:"p50_ms"`
	P95ms        int64   `json:"p95_ms"`
	P99ms        int64   `json:"p99_ms"`
	MaxMs        int64   `json:"max_ms"`
	MeanMs       float64 `json:"mean_ms"`
	// P50 of the rows committed in the first and the last third of the
	// measured window: a rising p50 means the consumer fell behind (not
	// a steady state).
	P50FirstMs int64      `json:"p50_first_third_ms"`
	P50LastMs  int64      `json:"p50_last_third_ms"`
	PeakRSSMB  float64    `json:"peak_rss_mb,omitempty"`     // of the consumer process, since its start
	CPUSeconds float64    `json:"cpu_s,omitempty"`           // of the consumer process, since its start
	CPU        *CPUBudget `json:"cpu_budget,omitempty"`      // the machine's CPU in the measured window
	Stages     []StageLag `json:"walrelay_stages,omitempty"` // walrelay's own per-stage histograms, same window
	Sweep      bool       `json:"sweep,omitempty"`           // a --sweep run: no target verdict
	Error      string     `json:"error,omitempty"`
}

// writerTick is how often the latency writer commits: each tick inserts the
// rows the offered rate owes by then, in one transaction.
const writerTick = 10 * time.Millisecond

// latencyIDs hands out primary keys across latency phases.
var latencyIDs int64

// writeAtRate inserts into the latency table at rate rows/s for dur, one
// transaction per writerTick, and returns the rows written. It runs on its
// own connection, whose backend pid it passes to connected before the
// first insert; it calls done after the last insert, while that backend
// still runs.
func writeAtRate(ctx context.Context, dsn string, rate int, dur time.Duration, connected func(pid uint32), done func()) (int64, time.Duration, error) {
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, 0, fmt.Errorf("latency writer: connect: %w", err)
	}
	defer db.Close(context.Background())
	connected(db.PgConn().PID())
	defer done() // before Close ends the backend
	sql := fmt.Sprintf(insertRows, benchSchema+"."+latencyTable)
	t0 := time.Now()
	tick := time.NewTicker(writerTick)
	defer tick.Stop()
	var written int64
	for {
		elapsed := time.Since(t0)
		if elapsed >= dur {
			return written, elapsed, nil
		}
		owed := int64(elapsed.Seconds()*float64(rate)) - written
		if burst := int64(rate/10 + 1); owed > burst { // never more than 100 ms of rows at once
			owed = burst
		}
		if owed > 0 {
			first := latencyIDs + 1
			if _, err := db.Exec(ctx, sql, first, first+owed-1); err != nil {
				return written, time.Since(t0), fmt.Errorf("latency writer: insert: %w", err)
			}
			latencyIDs += owed
			written += owed
		}
		select {
		case <-ctx.Done():
			return written, time.Since(t0), ctx.Err()
		case <-tick.C:
		}
	}
}

// latencySamples collects commit -> append latencies from a topic.
type latencySamples struct {
	mu       sync.Mutex
	from     time.Time // rows committed before are warm-up
	lat      []sample
	received int64
	badValue int64
}

// consume reads topic from its start until ctx ends; commitTimes.of says
// where each record's commit time comes from.
func (s *latencySamples) consume(ctx context.Context, brokers []string, topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Large, infrequent fetches: the latency is the broker's append time,
		// which the consumer's pace does not change, and every fetch costs the
		// broker CPU that walrelay and PostgreSQL share on a small machine.
		kgo.FetchMinBytes(1<<20), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return fmt.Errorf("latency consumer for %s: %w", topic, err)
	}
	defer cl.Close()
	var times commitTimes
	for ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		s.mu.Lock()
		fetches.EachRecord(func(rec *kgo.Record) { s.add(rec, &times) })
		s.mu.Unlock()
	}
	return nil
}

// add records one record's latency; s.mu is held. The bench shares the
// machine with what it measures, so it parses each distinct commit time
// once (times) and locks once per fetch.
func (s *latencySamples) add(rec *kgo.Record, times *commitTimes) {
	commit, ok := times.of(rec)
	s.received++
	if !ok {
		s.badValue++
		return
	}
	if commit.Before(s.from) {
		return
	}
	s.lat = append(s.lat, sample{commit.UnixMilli(), rec.Timestamp.UnixMilli() - commit.UnixMilli()})
}

// sample is one row's commit time and commit -> append latency, in ms.
type sample struct{ commit, lat int64 }

// commitTimes remembers the last ce_time header parsed: every row of a
// transaction carries the same one.
type commitTimes struct {
	raw []byte
	t   time.Time
}

// of returns rec's commit time: its ce_time header (walrelay) or, without
// one, source.ts_ms of its JSON value (Debezium); both are truncated to ms
// by the caller, the resolution of Kafka's append time.
func (c *commitTimes) of(rec *kgo.Record) (time.Time, bool) {
	for _, h := range rec.Headers {
		if h.Key != "ce_time" {
			continue
		}
		if c.raw == nil || string(h.Value) != string(c.raw) {
			t, err := time.Parse(time.RFC3339Nano, string(h.Value))
			if err != nil {
				return time.Time{}, false
			}
			c.raw, c.t = append(c.raw[:0], h.Value...), t
		}
		return c.t, true
	}
	return sourceTsMs(rec.Value)
}

// sourceTsMs returns source.ts_ms of a Debezium JSON change event.
func sourceTsMs(value []byte) (time.Time, bool) {
	var v struct {
		Source struct {
			TsMs int64 `json:"ts_ms"`
		} `json:"source"`
	}
	if len(value) == 0 || json.Unmarshal(value, &v) != nil || v.Source.TsMs == 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(v.Source.TsMs), true
}

// addCommit records rows committed at commit and received at recv, both
// truncated to ms like Kafka's append time.
func (s *latencySamples) addCommit(commit, recv time.Time, rows int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received += int64(rows)
	if commit.Before(s.from) {
		return
	}
	c := commit.UnixMilli()
	for range rows {
		s.lat = append(s.lat, sample{c, recv.UnixMilli() - c})
	}
}

func (s *latencySamples) count() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}

// measureLatency runs the writer at rate for dur while a Kafka consumer
// reads topic; see measureWith. pid is the process under test, streaming
// from slot; stages reads its stage histograms (nil: it has none).
func (b *bench) measureLatency(ctx context.Context, consumer, topic string, rate, pid int, slot string, stages *stageProbe) LatencyResult {
	return b.measureWith(ctx, consumer, rate, b.parties(ctx, consumer, pid, slot), stages, func(cctx context.Context, s *latencySamples) error {
		return s.consume(cctx, b.svc.brokers, topic)
	})
}

// collector fills s until ctx ends, on its own goroutine; it returns nil
// when ctx ended and an error when it could not go on.
type collector func(ctx context.Context, s *latencySamples) error

// measureWith runs the writer at rate for dur while collect gathers samples,
// waits (up to 60 s, or until collect gave up) until every written row
// arrived, and computes the percentiles over the rows committed after
// warmup. The CPU budget covers parties (name -> pid) and the writer's
// backend from the warm-up's end to the writer's; stages are read from the
// warm-up's end until every row arrived.
func (b *bench) measureWith(ctx context.Context, consumer string, rate int, parties map[string]int, stages *stageProbe, collect collector) LatencyResult {
	r := LatencyResult{Consumer: consumer, OfferedRate: rate}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &latencySamples{from: time.Now().Add(b.o.warmup)}
	consumed := make(chan error, 1)
	go func() { consumed <- collect(cctx, s) }()
	probes := make(chan *cpuProbe, 1)
	var probeAt *time.Timer
	connected := func(pid uint32) {
		if b.svc.localPG && isPostgresProcess(int(pid)) {
			parties[writerParty] = int(pid)
		}
		probeAt = time.AfterFunc(b.o.warmup, func() {
			stages.start()
			probes <- startCPUProbe(parties)
		})
	}
	done := func() {
		if probeAt != nil && !probeAt.Stop() {
			r.CPU = (<-probes).end()
		}
	}
	written, elapsed, err := writeAtRate(ctx, b.svc.dsn, rate, b.o.latencyDur, connected, done)
	r.Written, r.DurationS = written, elapsed.Seconds()
	if elapsed > 0 {
		r.AchievedRate = float64(written) / elapsed.Seconds()
	}
	if err != nil {
		r.Error = err.Error()
	}
	ended, cerr := waitReceived(ctx, s, written, consumed)
	var serr error
	if r.Stages, serr = stages.end(); serr != nil {
		progress("%s: no stage breakdown: %v", consumer, serr)
	}
	cancel()
	if !ended {
		cerr = <-consumed
	}
	if cerr != nil && r.Error == "" {
		r.Error = cerr.Error()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Received, r.Samples = s.received, len(s.lat)
	if r.Received < r.Written && r.Error == "" {
		r.Error = fmt.Sprintf("%d of %d rows arrived within 60 s of the writer's end", r.Received, r.Written)
	}
	if s.badValue > 0 && r.Error == "" {
		r.Error = fmt.Sprintf("%d records without a readable commit time", s.badValue)
	}
	r.setPercentiles(s.lat)
	if b.o.latSeries != "" {
		if err := writeSeries(b.o.latSeries+"-"+fileSafe(consumer)+".tsv", s.lat); err != nil {
			progress("latency series: %v", err)
		}
	}
	progress("latency %s at %d rows/s offered (%.0f written/s): %s", consumer, rate, r.AchievedRate, r.brief())
	return r
}

// waitReceived waits until s holds written rows, 60 s pass, ctx ends or the
// collector returns; in the last case ended is true and err the collector's.
func waitReceived(ctx context.Context, s *latencySamples, written int64, consumed <-chan error) (ended bool, err error) {
	deadline := time.Now().Add(60 * time.Second)
	for s.count() < written && time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case err := <-consumed:
			return true, err
		case <-time.After(100 * time.Millisecond):
		}
	}
	return false, nil
}

// fileSafe turns a consumer name into a file name part: "walrelay json
// (half max)" -> "walrelay_json_half_max".
func fileSafe(name string) string {
	f := strings.FieldsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-')
	})
	return strings.Join(f, "_")
}

// setPercentiles fills p50/p95/p99/max/mean (nearest rank) and the p50 of
// the first and last third (by commit time) from samples.
func (r *LatencyResult) setPercentiles(samples []sample) {
	if len(samples) == 0 {
		if r.Error == "" {
			r.Error = "no samples"
		}
		return
	}
	byCommit := append([]sample(nil), samples...)
	sort.Slice(byCommit, func(i, j int) bool { return byCommit[i].commit < byCommit[j].commit })
	third := max(1, len(byCommit)/3)
	r.P50FirstMs = percentile(latencies(byCommit[:third]), 0.5)
	r.P50LastMs = percentile(latencies(byCommit[len(byCommit)-third:]), 0.5)
	sorted := latencies(samples)
	r.P50ms, r.P95ms, r.P99ms = percentile(sorted, 0.50), percentile(sorted, 0.95), percentile(sorted, 0.99)
	r.MaxMs = sorted[len(sorted)-1]
	var sum int64
	for _, v := range sorted {
		sum += v
	}
	r.MeanMs = float64(sum) / float64(len(sorted))
}

// latencies returns the samples' latencies, sorted.
func latencies(samples []sample) []int64 {
	out := make([]int64, len(samples))
	for i, s := range samples {
		out[i] = s.lat
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// percentile returns the nearest-rank p-th percentile of sorted (non-empty).
func percentile(sorted []int64, p float64) int64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func (r LatencyResult) brief() string {
	s := fmt.Sprintf("p50 %d ms, p95 %d ms, p99 %d ms, max %d ms over %d samples (p50 first third %d ms, last third %d ms)",
		r.P50ms, r.P95ms, r.P99ms, r.MaxMs, r.Samples, r.P50FirstMs, r.P50LastMs)
	if r.Error != "" {
		s += " (" + r.Error + ")"
	}
	return s
}

// writeSeries writes samples bucketed by 100 ms of commit time: the bucket's
// start (ms since the first commit), its rows, p50 and max latency. A spike
// that repeats at a fixed period points at its cause (a timer, a GC, a flush).
func writeSeries(path string, samples []sample) error {
	if len(samples) == 0 {
		return nil
	}
	byCommit := append([]sample(nil), samples...)
	sort.Slice(byCommit, func(i, j int) bool { return byCommit[i].commit < byCommit[j].commit })
	var b strings.Builder
	b.WriteString("t_ms\trows\tp50_ms\tmax_ms\n")
	t0 := byCommit[0].commit
	for i := 0; i < len(byCommit); {
		bucket := (byCommit[i].commit - t0) / 100
		j := i
		for j < len(byCommit) && (byCommit[j].commit-t0)/100 == bucket {
			j++
		}
		lat := latencies(byCommit[i:j])
		fmt.Fprintf(&b, "%d\t%d\t%d\t%d\n", bucket*100, j-i, percentile(lat, 0.5), lat[len(lat)-1])
		i = j
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
