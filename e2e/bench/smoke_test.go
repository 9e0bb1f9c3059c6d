package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/walrelay/walrelay/devenv"
)

// TestBenchSmoke runs the bench program end to end on a small backlog: a
// throwaway PostgreSQL from the local binaries, and CI's real Kafka broker
// (WALRELAY_TEST_KAFKA_BROKERS; the in-process kfake broker without it). It
// checks that every phase ran and measured something: pg_recvlogical (text
// and binary), walrelay in JSON and Avro with every backlog row in Kafka,
// and the latency phase of walrelay and of the pgoutput reference client,
// and that the report names all five targets. The numbers themselves are
// not judged: a machine running the test suite measures nothing useful.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the bench smoke run takes about a minute")
	}
	if _, err := devenv.FindPostgresBinDir(); errors.Is(err, devenv.ErrNoPostgresBinaries) {
		t.Skipf("the bench needs local PostgreSQL binaries: %v", err)
	}
	brokers := os.Getenv("WALRELAY_TEST_KAFKA_BROKERS")
	if brokers == "" {
		brokers = "kfake"
	}
	const rows = 3000
	out := filepath.Join(t.TempDir(), "bench.json")
	args := []string{"--rows", strconv.Itoa(rows), "--tx-size", "100", "--repeat", "1",
		"--brokers", brokers, "--rate", "1000", "--latency-duration", "4s", "--warmup", "1s",
		"--json-out", out}
	if code := realMain(args); code != 0 {
		t.Fatalf("bench exited %d", code)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("bench JSON: %v", err)
	}
	if r.Error != "" {
		t.Fatalf("bench error: %s", r.Error)
	}
	checkRuns(t, "pg_recvlogical", r.Limit, 1, 0)
	checkRuns(t, "pg_recvlogical binary", r.LimitBinary, 1, 0)
	checkRuns(t, "walrelay", r.Walrelay, 2, rows)
	if len(r.Latency) != 2 {
		t.Fatalf("%d latency results, want walrelay's and the pgoutput client's: %+v", len(r.Latency), r.Latency)
	}
	for _, l := range r.Latency {
		if l.Error != "" || l.Samples == 0 || l.Received < l.Written {
			t.Errorf("latency %s: error %q, %d samples, %d of %d rows received", l.Consumer, l.Error, l.Samples, l.Received, l.Written)
		}
		checkBudget(t, l)
	}
	if len(r.Targets) != 5 {
		t.Errorf("%d targets in the report, want 5", len(r.Targets))
	}
}

// checkBudget requires l's CPU budget to show the machine busy and to name
// the processes of a run on a local server: the writer's backend, the
// walsender, the bench, and the walrelay process when it is the consumer.
func checkBudget(t *testing.T, l LatencyResult) {
	t.Helper()
	if l.CPU == nil || l.CPU.MachineBusyCores <= 0 || l.CPU.MachineCores <= 0 {
		t.Errorf("latency %s: no CPU budget: %+v", l.Consumer, l.CPU)
		return
	}
	want := []string{writerParty, "walsender", benchParty}
	if l.Consumer != clientName {
		want = append(want, l.Consumer)
	}
	for _, name := range want {
		found := false
		for _, p := range l.CPU.Parties {
			found = found || p.Name == name && p.Cores >= 0
		}
		if !found {
			t.Errorf("latency %s: CPU budget without %q: %s", l.Consumer, name, l.CPU)
		}
	}
}

// checkRuns requires n runs without error that measured a rate and, when
// rows > 0, put every backlog row in Kafka.
func checkRuns(t *testing.T, what string, runs []RunResult, n int, rows int64) {
	t.Helper()
	if len(runs) != n {
		t.Fatalf("%s: %d runs, want %d", what, len(runs), n)
	}
	for _, r := range runs {
		if r.Error != "" || r.EventsPerS <= 0 {
			t.Errorf("%s %s: error %q, %.0f rows/s", what, r.Consumer, r.Error, r.EventsPerS)
		}
		if rows > 0 && r.TopicRecords < rows {
			t.Errorf("%s %s: %d of %d rows in Kafka", what, r.Consumer, r.TopicRecords, rows)
		}
	}
}
