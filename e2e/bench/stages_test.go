package main

import (
	"math"
	"strings"
	"testing"
)

// TestStagesFromMetrics: the bucket lines of walrelay_transaction_lag_seconds
// are read per stage (other metrics and comments ignored), the window is
// the difference of two readings, and the quantiles interpolate inside the
// bucket that holds them.
func TestStagesFromMetrics(t *testing.T) {
	before, err := parseStages(strings.NewReader(`# HELP walrelay_transaction_lag_seconds x
walrelay_transaction_lag_seconds_bucket{stage="acked",le="0.01"} 10
walrelay_transaction_lag_seconds_bucket{stage="acked",le="0.1"} 10
walrelay_transaction_lag_seconds_bucket{stage="acked",le="+Inf"} 10
walrelay_transaction_lag_seconds_count{stage="acked"} 10
walrelay_events_total 5
`))
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseStages(strings.NewReader(`walrelay_transaction_lag_seconds_bucket{stage="acked",le="0.01"} 60
walrelay_transaction_lag_seconds_bucket{stage="acked",le="0.1"} 108
walrelay_transaction_lag_seconds_bucket{stage="acked",le="+Inf"} 110
walrelay_transaction_lag_seconds_bucket{stage="sent",le="0.01"} 4
walrelay_transaction_lag_seconds_bucket{stage="sent",le="+Inf"} 4
`))
	if err != nil {
		t.Fatal(err)
	}
	acked := after["acked"].minus(before["acked"])
	if n := acked.count(); n != 100 {
		t.Fatalf("window: %v transactions, want 100", n)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	if q := acked.quantile(0.25); !near(q, 0.005) { // 25 of 50 in (0, 10 ms]
		t.Errorf("p25 = %v s, want 0.005", q)
	}
	if q := acked.quantile(0.9); !near(q, 0.01+0.09*40/48) { // 40 of 48 in (10, 100 ms]
		t.Errorf("p90 = %v s, want %v", q, 0.01+0.09*40/48)
	}
	if q := acked.quantile(0.99); !near(q, 0.1) { // in +Inf: the largest finite bound
		t.Errorf("p99 = %v s, want 0.1", q)
	}
	if sent := after["sent"].minus(before["sent"]); sent.count() != 4 || !near(sent.quantile(0.5), 0.005) {
		t.Errorf("sent, new since the first reading: %v transactions, p50 %v", sent.count(), sent.quantile(0.5))
	}
	if _, err := parseStages(strings.NewReader(`walrelay_transaction_lag_seconds_bucket{stage="x",le="y"} 1`)); err == nil {
		t.Error("a bucket bound that is not a number was accepted")
	}
}

// TestStagesNote: the half-max verdict says where the tail starts when
// walrelay's stages were read, and nothing without them.
func TestStagesNote(t *testing.T) {
	got := stagesNote([]StageLag{{Stage: "sent", P99ms: 141.5}, {Stage: "received", P99ms: 142.9}, {Stage: "acked", P99ms: 185}})
	if !strings.Contains(got, "p99 142 ms until PostgreSQL's walsender sent") || !strings.Contains(got, "185 ms until Kafka") {
		t.Errorf("stagesNote = %q", got)
	}
	if got := stagesNote(nil); got != "" {
		t.Errorf("without stages: %q, want nothing", got)
	}
}
