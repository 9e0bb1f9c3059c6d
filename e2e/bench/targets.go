package main

import (
	"fmt"
	"strings"
)

// computeTargets fills r.Summary and r.Targets from the runs. The walrelay
// figures are those of the first format (the latency phase's format).
func computeTargets(r *Report) {
	r.Targets = nil
	r.Summary = summarize(r.Limit, r.LimitBinary, r.Walrelay, r.Debezium)
	sameFormatRatios(r)
	relay := summaryFor(r, "walrelay "+r.Settings.Formats[0])
	limit := summaryFor(r, "pg_recvlogical")
	var dbz *Summary
	if len(r.Debezium) > 0 {
		dbz = summaryFor(r, r.Debezium[0].Consumer)
	}
	dbzLat := latencyOf(r, "debezium")
	relayLat, targetLat := relayLatencies(r, dbzLat)

	t := Target{Name: "backlog throughput vs pg_recvlogical", Want: ">= 0.80x"}
	if relay != nil && limit != nil && relay.Median > 0 && limit.Median > 0 {
		ratio := relay.Median / limit.Median
		t.Got, t.Met = fmt.Sprintf("%.2fx (%.0f vs %.0f rows/s)", ratio, relay.Median, limit.Median), verdict(ratio >= 0.8)
	}
	r.Targets = append(r.Targets, t)

	t = Target{Name: "backlog throughput vs Debezium Server", Want: ">= 3x"}
	if relay != nil && dbz != nil && relay.Median > 0 && dbz.Median > 0 {
		ratio := relay.Median / dbz.Median
		t.Got, t.Met = fmt.Sprintf("%.2fx (%.0f vs %.0f rows/s)", ratio, relay.Median, dbz.Median), verdict(ratio >= 3)
		if dbz.Partial {
			t.Got += ", Debezium partial"
		}
	}
	r.Targets = append(r.Targets, t)

	t = Target{Name: "peak RSS vs Debezium Server", Want: "< 0.25x"}
	if relay != nil && dbz != nil && relay.PeakRSSMB > 0 && dbz.PeakRSSMB > 0 {
		ratio := relay.PeakRSSMB / dbz.PeakRSSMB
		t.Got, t.Met = fmt.Sprintf("%.2fx (%.0f vs %.0f MB)", ratio, relay.PeakRSSMB, dbz.PeakRSSMB), verdict(ratio < 0.25)
	}
	r.Targets = append(r.Targets, t)

	t = Target{Name: "p99 commit->Kafka at half the max rate", Want: "<= 50 ms"}
	if targetLat != nil && targetLat.Samples > 0 {
		t.Got = fmt.Sprintf("%d ms at %d rows/s offered", targetLat.P99ms, targetLat.OfferedRate)
		if ref := latencyAt(r, clientName, targetLat.OfferedRate); ref != nil && ref.Samples > 0 {
			t.Got += fmt.Sprintf(" (pgoutput client, no Kafka: %d ms)", ref.P99ms)
		}
		half := 0.0
		if relay != nil {
			half = relay.Median / 2
		}
		if half > 0 && float64(targetLat.OfferedRate) < 0.95*half {
			// Measured below the target's load (--rate, or --rate-cap with
			// --skip-target-latency): say so, no verdict.
			t.Got += fmt.Sprintf(", below half the max (%.0f/s): rerun with --rate %.0f", half, half)
		} else {
			t.Met = verdict(targetLat.P99ms <= 50 && targetLat.Error == "")
		}
		if targetLat.CPU.saturated() {
			t.Got += fmt.Sprintf("; the machine was saturated, %s", targetLat.CPU)
		}
		t.Got += stagesNote(targetLat.Stages)
	}
	r.Targets = append(r.Targets, t)

	t = Target{Name: "p99 latency vs Debezium Server", Want: "lower"}
	if relayLat != nil && dbzLat != nil && relayLat.Samples > 0 && dbzLat.Samples > 0 {
		t.Got = fmt.Sprintf("%d vs %d ms", relayLat.P99ms, dbzLat.P99ms)
		t.Met = verdict(relayLat.P99ms < dbzLat.P99ms)
	}
	r.Targets = append(r.Targets, t)
}

func verdict(b bool) *bool { return &b }

// sameFormatRatios sets VsDebezium on each walrelay summary ("walrelay
// avro", "walrelay-B json") that has a "debezium-server <format>" summary
// with a rate.
func sameFormatRatios(r *Report) {
	for i := range r.Summary {
		s := &r.Summary[i]
		if !strings.HasPrefix(s.Consumer, "walrelay") || s.Median <= 0 {
			continue
		}
		f := s.Consumer[strings.LastIndexByte(s.Consumer, ' ')+1:]
		if d := summaryFor(r, "debezium-server "+f); d != nil && d.Median > 0 {
			s.VsDebezium = s.Median / d.Median
		}
	}
}

// relayLatencies returns walrelay's latency run compared with Debezium (the
// one at Debezium's rate, else the first) and the one for the half-max
// target (the highest offered rate, the first among equals); --sweep runs
// are neither.
func relayLatencies(r *Report, dbz *LatencyResult) (vsDbz, target *LatencyResult) {
	for i := range r.Latency {
		l := &r.Latency[i]
		if !strings.HasPrefix(l.Consumer, "walrelay ") || l.Sweep {
			continue
		}
		if vsDbz == nil || dbz != nil && l.OfferedRate == dbz.OfferedRate && vsDbz.OfferedRate != dbz.OfferedRate {
			vsDbz = l
		}
		if target == nil || l.OfferedRate > target.OfferedRate {
			target = l
		}
	}
	return vsDbz, target
}

// latencyAt returns the first latency result whose consumer starts with
// prefix, measured at rate.
func latencyAt(r *Report, prefix string, rate int) *LatencyResult {
	for i := range r.Latency {
		if strings.HasPrefix(r.Latency[i].Consumer, prefix) && r.Latency[i].OfferedRate == rate {
			return &r.Latency[i]
		}
	}
	return nil
}

// latencyOf returns the first latency result whose consumer starts with prefix.
func latencyOf(r *Report, prefix string) *LatencyResult {
	for i := range r.Latency {
		if len(r.Latency[i].Consumer) >= len(prefix) && r.Latency[i].Consumer[:len(prefix)] == prefix {
			return &r.Latency[i]
		}
	}
	return nil
}
