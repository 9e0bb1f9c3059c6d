package main

import "fmt"

// latencyRun is one rate walrelay's latency is measured at (and, unless
// --skip-latency-limit, the pgoutput client's right after it).
type latencyRun struct {
	rate   int
	why    string // how the rate was chosen, for the notes
	suffix string // appended to the consumer names: "", " (half max)" or " (sweep N/s)"
	slot   string // appended to the slot names: "", "_half" or "_swN"
	sweep  bool   // a --sweep run: no target verdict
}

// halfMaxSuffix marks the latency run at half walrelay's measured rate.
const halfMaxSuffix = " (half max)"

// planLatency returns the latency runs for o, given walrelay's median
// backlog rate med (0 = none measured). The first run is --rate, or half of
// med capped by --rate-cap; it is the one compared with Debezium. When the
// cap cut the default rate, a second run at exactly half of med follows for
// the target, unless --skip-target-latency. The --sweep runs come last.
func planLatency(o options, med float64) []latencyRun {
	runs := plannedLatency(o, med)
	for i, rate := range o.sweep {
		runs = append(runs, latencyRun{rate: rate, why: "--sweep", sweep: true,
			suffix: fmt.Sprintf(" (sweep %d/s)", rate), slot: fmt.Sprintf("_sw%d", i)})
	}
	return runs
}

// plannedLatency is planLatency without the --sweep runs.
func plannedLatency(o options, med float64) []latencyRun {
	if o.rate > 0 {
		return []latencyRun{{rate: o.rate, why: "--rate"}}
	}
	if int(med/2) < 1 {
		return []latencyRun{{rate: min(1000, o.rateCap), why: "fallback: no walrelay backlog rate was measured"}}
	}
	half := int(med / 2)
	if half <= o.rateCap {
		return []latencyRun{{rate: half, why: fmt.Sprintf("half of walrelay's median backlog rate %.0f/s", med)}}
	}
	runs := []latencyRun{{rate: o.rateCap, why: fmt.Sprintf(
		"half of walrelay's median backlog rate %.0f/s is %d/s, capped by --rate-cap %d; the rate Debezium is measured at", med, half, o.rateCap)}}
	if o.skipTarget {
		runs[0].why += "; --skip-target-latency: no run at half"
	} else {
		runs = append(runs, latencyRun{rate: half, suffix: halfMaxSuffix, slot: "_half", why: fmt.Sprintf(
			"exactly half of walrelay's median backlog rate %.0f/s, uncapped: the target's load (--skip-target-latency skips it)", med)})
	}
	return runs
}

// noteLatencyPlan says in the notes which rate each latency run uses and
// why, and what the pgoutput client's figures mean.
func (b *bench) noteLatencyPlan(runs []latencyRun) {
	for i, run := range runs {
		consumers := b.relays[0].label + " " + b.formats[0] + run.suffix
		if !b.o.skipLatRef {
			consumers += " and " + clientName + run.suffix
		}
		b.rep.note(fmt.Sprintf("latency run %d of %d (%s): %d rows/s offered (%s)", i+1, len(runs), consumers, run.rate, run.why))
	}
	b.rep.note(fmt.Sprintf("each latency run: the writer commits for %s, one transaction every %s; rows committed in the first %s are not counted; walrelay's runs start a fresh process on a fresh slot",
		b.o.latencyDur, writerTick, b.o.warmup))
	if !b.o.skipLatRef {
		b.rep.note(clientName + ": the delivery-latency reference, a minimal pglogrepl client (pgoutput proto_version 1, publication " + latencyPub +
			", its own fresh slot) run alone (walrelay stopped) with the writer at the same rate; latency = receipt of each transaction's Commit message - the commit time it carries, counted once per row, both truncated to ms as for Kafka: what PostgreSQL delivers at that rate on this machine; its CPU s and peak RSS MB are 0 (it runs inside the bench)")
	}
}
