package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// These tests cover the bench's pure logic (statistics, parsing, verdicts);
// TestBenchSmoke (smoke_test.go) runs the program itself on a small backlog.

func TestPercentilesAndThirds(t *testing.T) {
	t.Parallel()
	var samples []sample
	for i := int64(1); i <= 300; i++ {
		lat := int64(1) // first third fast, last third slow: a consumer falling behind
		switch {
		case i > 200:
			lat = 100 + i
		case i > 100:
			lat = 10
		}
		samples = append(samples, sample{commit: 1000 + i, lat: lat})
	}
	var r LatencyResult
	r.setPercentiles(samples)
	if r.P50ms != 10 || r.P50FirstMs != 1 || r.P50LastMs != 350 {
		t.Fatalf("p50 %d (want 10), first third %d (want 1), last third %d (want 350)", r.P50ms, r.P50FirstMs, r.P50LastMs)
	}
	if r.P99ms != 397 || r.MaxMs != 400 {
		t.Fatalf("p99 %d (want 397), max %d (want 400)", r.P99ms, r.MaxMs)
	}
	var empty LatencyResult
	empty.setPercentiles(nil)
	if empty.Error == "" {
		t.Fatal("no samples must be reported as an error")
	}
}

func TestPercentileNearestRank(t *testing.T) {
	t.Parallel()
	sorted := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		p    float64
		want int64
	}{{0.5, 5}, {0.95, 10}, {0.99, 10}, {0.1, 1}, {0.11, 2}} {
		if got := percentile(sorted, c.p); got != c.want {
			t.Errorf("percentile(%v) = %d, want %d", c.p, got, c.want)
		}
	}
}

func TestSummaryIgnoresFailedRuns(t *testing.T) {
	t.Parallel()
	runs := []RunResult{
		{Consumer: "walrelay json", Rows: 100, EventsPerS: 100, CPUSeconds: 1, PeakRSSMB: 50},
		{Consumer: "walrelay json", Rows: 100, EventsPerS: 300, CPUSeconds: 3, PeakRSSMB: 70},
		{Consumer: "walrelay json", Rows: 100, EventsPerS: 200, CPUSeconds: 2, PeakRSSMB: 60},
		{Consumer: "walrelay json", Rows: 100, EventsPerS: 9999, Error: "exited early"},
	}
	s := summarize(runs)
	if len(s) != 1 {
		t.Fatalf("want one summary, got %+v", s)
	}
	got := s[0]
	if got.Runs != 3 || got.Median != 200 || got.Min != 100 || got.Max != 300 || got.PeakRSSMB != 70 {
		t.Fatalf("summary %+v", got)
	}
	if got.CPUPerRow != 20000 { // 6 s over 300 rows
		t.Fatalf("CPU per row %v us, want 20000", got.CPUPerRow)
	}
}

func TestTargets(t *testing.T) {
	t.Parallel()
	r := &Report{Settings: Settings{Formats: []string{"json"}},
		Limit:    []RunResult{{Consumer: "pg_recvlogical", Rows: 1, EventsPerS: 100}},
		Walrelay: []RunResult{{Consumer: "walrelay json", Rows: 1, EventsPerS: 90, PeakRSSMB: 50}},
		Debezium: []RunResult{{Consumer: "debezium-server x", Rows: 1, EventsPerS: 20, PeakRSSMB: 1000}},
		Latency: []LatencyResult{
			{Consumer: "walrelay json", OfferedRate: 45, Samples: 10, P99ms: 40},
			{Consumer: "debezium-server x", OfferedRate: 45, Samples: 10, P99ms: 400},
		}}
	computeTargets(r)
	want := []bool{true, true, true, true, true}
	for i, tg := range r.Targets {
		if tg.Met == nil || *tg.Met != want[i] {
			t.Errorf("target %q: met %v, want %v (got %s)", tg.Name, tg.Met, want[i], tg.Got)
		}
	}
	// The verdict comes before what was reached, which may be long.
	var out strings.Builder
	printTargets(&out, r)
	if line := strings.Split(out.String(), "\n")[4]; !strings.Contains(line, "want <= 50 ms  MET  got 40 ms") {
		t.Errorf("latency target printed as %q", line)
	}
	// Below half the max rate the latency target gets no verdict.
	r.Latency[0].OfferedRate = 10
	computeTargets(r)
	lat := r.Targets[3]
	if lat.Met != nil || !strings.Contains(lat.Got, "--rate 45") {
		t.Fatalf("latency target at a capped rate: %+v", lat)
	}
}

func TestTargetsUseHalfMaxRun(t *testing.T) {
	t.Parallel()
	r := &Report{Settings: Settings{Formats: []string{"json"}},
		Walrelay: []RunResult{{Consumer: "walrelay json", Rows: 1, EventsPerS: 90000}},
		Debezium: []RunResult{{Consumer: "debezium-server x", Rows: 1, EventsPerS: 20}},
		Latency: []LatencyResult{
			{Consumer: "walrelay json", OfferedRate: 10000, Samples: 10, P99ms: 20},
			{Consumer: clientName, OfferedRate: 10000, Samples: 10, P99ms: 3},
			{Consumer: "walrelay json" + halfMaxSuffix, OfferedRate: 45000, Samples: 10, P99ms: 80},
			{Consumer: clientName + halfMaxSuffix, OfferedRate: 45000, Samples: 10, P99ms: 7},
			{Consumer: "debezium-server x", OfferedRate: 10000, Samples: 10, P99ms: 30},
		}}
	computeTargets(r)
	lat, vs := r.Targets[3], r.Targets[4]
	if lat.Met == nil || *lat.Met || !strings.Contains(lat.Got, "80 ms at 45000") || !strings.Contains(lat.Got, "no Kafka: 7 ms") {
		t.Fatalf("half-max target must use the 45000/s run and name the client's p99: %+v", lat)
	}
	if vs.Met == nil || !*vs.Met || vs.Got != "20 vs 30 ms" {
		t.Fatalf("the Debezium comparison must use the run at Debezium's rate: %+v", vs)
	}
}

func TestPlanLatency(t *testing.T) {
	t.Parallel()
	base := options{rateCap: 10000}
	withRate, skip := base, base
	withRate.rate, skip.skipTarget = 30000, true
	for _, c := range []struct {
		name  string
		o     options
		med   float64
		rates []int
	}{
		{"--rate wins, one run", withRate, 90000, []int{30000}},
		{"below the cap, one run", base, 15000, []int{7500}},
		{"capped, then half the max", base, 90001, []int{10000, 45000}},
		{"capped, --skip-target-latency", skip, 90000, []int{10000}},
		{"nothing measured", base, 0, []int{1000}},
	} {
		runs := planLatency(c.o, c.med)
		var got []int
		for _, r := range runs {
			got = append(got, r.rate)
			if r.why == "" {
				t.Errorf("%s: run at %d has no reason", c.name, r.rate)
			}
		}
		if !slices.Equal(got, c.rates) {
			t.Errorf("%s: rates %v, want %v", c.name, got, c.rates)
		}
		if len(runs) == 2 && (runs[0].suffix != "" || runs[1].suffix != halfMaxSuffix || runs[1].slot == "") {
			t.Errorf("%s: the half-max run needs its own name and slot: %+v", c.name, runs)
		}
	}
}

// TestSweep: --sweep runs follow the planned ones with their own names and
// slots, get no target verdict (the half-max target stays on its run even
// when a sweep rate is higher), and print as one p99 row per consumer.
func TestSweep(t *testing.T) {
	t.Parallel()
	o, err := parseOptions([]string{"--sweep", "60000, 120000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.rateCap = 10000
	runs := planLatency(o, 90000)
	if len(runs) != 4 || runs[2].rate != 60000 || runs[3].rate != 120000 || !runs[2].sweep || runs[1].sweep ||
		runs[2].slot == runs[3].slot || runs[2].suffix != " (sweep 60000/s)" {
		t.Fatalf("runs %+v, want the two planned then the two sweep runs", runs)
	}
	if _, err := parseOptions([]string{"--sweep", "60000,fast"}, io.Discard); err == nil {
		t.Error("--sweep 60000,fast accepted")
	}

	r := &Report{Settings: Settings{Formats: []string{"json"}}, Latency: []LatencyResult{
		{Consumer: "walrelay json", OfferedRate: 10000, Samples: 10, P99ms: 8},
		{Consumer: "walrelay json" + halfMaxSuffix, OfferedRate: 45000, Samples: 10, P99ms: 40},
		{Consumer: "walrelay json (sweep 60000/s)", OfferedRate: 60000, Samples: 10, P99ms: 90, Sweep: true},
		{Consumer: clientName + " (sweep 60000/s)", OfferedRate: 60000, Samples: 10, P99ms: 5, Sweep: true},
		{Consumer: "walrelay json (sweep 120000/s)", OfferedRate: 120000, Samples: 10, P99ms: 900, Sweep: true},
	}}
	if _, target := relayLatencies(r, nil); target == nil || target.OfferedRate != 45000 {
		t.Errorf("half-max target on %+v, want the 45000/s run", target)
	}
	var b strings.Builder
	printSweep(&b, r.Latency)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "60000") || !strings.Contains(lines[1], "120000") ||
		strings.Join(strings.Fields(lines[2]), " ") != "walrelay json 90 900" ||
		strings.Join(strings.Fields(lines[3]), " ") != clientName+" 5 -" {
		t.Errorf("sweep table:\n%s", b.String())
	}
}

func TestCommitTime(t *testing.T) {
	t.Parallel()
	var times commitTimes
	header := func(v string) *kgo.Record {
		return &kgo.Record{Headers: []kgo.RecordHeader{{Key: "ce_time", Value: []byte(v)}}}
	}
	for _, c := range []struct {
		ce   string
		want time.Time
	}{ // the second is the cached value, the third a new one after it
		{"2026-01-02T03:04:05.123456789Z", time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)},
		{"2026-01-02T03:04:05.123456789Z", time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)},
		{"2026-01-02T03:04:06.5Z", time.Date(2026, 1, 2, 3, 4, 6, 500000000, time.UTC)},
	} {
		if got, ok := times.of(header(c.ce)); !ok || !got.Equal(c.want) {
			t.Fatalf("ce_time %s: %v %v, want %v", c.ce, got, ok, c.want)
		}
	}
	if _, ok := times.of(header("yesterday")); ok {
		t.Error("a ce_time that is not RFC 3339 gave a commit time")
	}
	dbz := &kgo.Record{Value: []byte(`{"before":null,"after":{"id":1},"source":{"ts_ms":1767323045123},"op":"c"}`)}
	if got, ok := times.of(dbz); !ok || got.UnixMilli() != 1767323045123 {
		t.Fatalf("source.ts_ms: %v %v", got, ok)
	}
	for _, v := range []string{"", "{}", "not json", `{"source":{}}`} {
		if _, ok := times.of(&kgo.Record{Value: []byte(v)}); ok {
			t.Errorf("value %q: want no commit time", v)
		}
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	o, err := parseOptions([]string{"--rows", "100000", "--format", "json,avro,json", "--debezium-prop", "a.b=c=d"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if f := o.formats(); len(f) != 2 || f[0] != "json" || f[1] != "avro" {
		t.Fatalf("formats %v", f)
	}
	if o.latencyDur != 15*time.Second || o.rateCap < 5000 || o.phaseLimit != 2*time.Minute+100*time.Second {
		t.Fatalf("defaults: latency %s, rate cap %d, phase limit %s", o.latencyDur, o.rateCap, o.phaseLimit)
	}
	if len(o.dbzProps) != 1 || o.dbzProps[0] != "a.b=c=d" {
		t.Fatalf("debezium props %v", o.dbzProps)
	}
	if o.skipTarget || o.skipLatRef {
		t.Fatalf("the target latency run and the pgoutput client must run by default: %+v", o)
	}
	o, err = parseOptions([]string{"--skip-target-latency", "--skip-latency-limit"}, io.Discard)
	if err != nil || !o.skipTarget || !o.skipLatRef {
		t.Fatalf("--skip-target-latency --skip-latency-limit: %v %+v", err, o)
	}
	for _, bad := range [][]string{
		{"--skip-target-latency=maybe"}, {"--rows", "0"}, {"--format", "xml"}, {"--tables", "0"}, {"--repeat", "9"},
		{"--warmup", "20s", "--latency-duration", "10s"}, {"--debezium-prop", "novalue"}, {"extra"},
	} {
		if _, err := parseOptions(bad, io.Discard); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}

func TestParseJavaVersion(t *testing.T) {
	t.Parallel()
	for out, want := range map[string]int{
		`openjdk version "17.0.15" 2025-04-15`:    17,
		`openjdk version "25.0.3" 2026-04-21 LTS`: 25,
		`java version "1.8.0_402"`:                8,
		`openjdk version "21" 2023-09-19`:         21,
	} {
		if got, ok := parseJavaVersion([]byte(out)); !ok || got != want {
			t.Errorf("%q: got %d %v, want %d", out, got, ok, want)
		}
	}
	if _, ok := parseJavaVersion([]byte("no java here")); ok {
		t.Error("garbage parsed as a version")
	}
}

func TestReadCheckpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, ok := readCheckpoint(dir); ok {
		t.Fatal("missing file read as a checkpoint")
	}
	rec := `{"lsn":"0/16B3748","slot":"s","updated_at":"2024-05-01T10:00:00Z"}`
	if err := os.WriteFile(filepath.Join(dir, "checkpoint.json"), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	if lsn, ok := readCheckpoint(dir); !ok || lsn.String() != "0/16B3748" {
		t.Fatalf("got %v %v", lsn, ok)
	}
}

func TestProcStatOfSelf(t *testing.T) {
	t.Parallel()
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatalf("read /proc of self (the bench needs Linux's /proc): %v", err)
	}
	if st.PeakRSSMB <= 0 {
		t.Fatalf("peak RSS %v MB", st.PeakRSSMB)
	}
	if _, err := runqueueWait(os.Getpid()); err != nil {
		t.Fatalf("runqueue wait of self: %v", err)
	}
	if _, err := readProcStat(-1); err == nil {
		t.Fatal("pid -1 read without error")
	}
}
