package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// slotNames are the slots created before the backlog, one per pass, so
// every consumer reads the same backlog.
type slotNames struct {
	recv, recvBin []string
	relay         map[string][]string // by binary tag and format: "wr_json"
	debezium      string
}

// planSlots names the slots the backlog phases need.
func (b *bench) planSlots() slotNames {
	s := slotNames{relay: map[string][]string{}}
	for i := 1; i <= b.o.repeat; i++ {
		if !b.o.skipLimit {
			s.recv = append(s.recv, fmt.Sprintf("%srecv_%d", slotPrefix, i))
			s.recvBin = append(s.recvBin, fmt.Sprintf("%srecvbin_%d", slotPrefix, i))
		}
		for _, bin := range b.relays {
			for _, f := range b.formats {
				k := bin.tag + "_" + f
				s.relay[k] = append(s.relay[k], fmt.Sprintf("%s%s_%d", slotPrefix, k, i))
			}
		}
	}
	if b.o.debezium {
		s.debezium = slotPrefix + "dbz"
	}
	return s
}

// all lists every planned slot.
func (s slotNames) all() []string {
	out := append(append([]string(nil), s.recv...), s.recvBin...)
	for _, v := range s.relay {
		out = append(out, v...)
	}
	if s.debezium != "" {
		out = append(out, s.debezium)
	}
	return out
}

// backlogPhases runs the passes over the backlog, interleaved (pg_recvlogical,
// pg_recvlogical binary, walrelay per format, then the next round) so that
// noise from other work on the machine spreads over all consumers. Each
// consumed slot is dropped right after its pass.
func (b *bench) backlogPhases(ctx context.Context, slots slotNames) {
	for i := 0; i < b.o.repeat && ctx.Err() == nil; i++ {
		if !b.o.skipLimit {
			b.rep.Limit = append(b.rep.Limit, b.runRecvlogical(ctx, slots.recv[i], false))
			dropSlot(ctx, b.db, slots.recv[i])
			b.rep.LimitBinary = append(b.rep.LimitBinary, b.runRecvlogical(ctx, slots.recvBin[i], true))
			dropSlot(ctx, b.db, slots.recvBin[i])
		}
		for j, bin := range b.relays {
			for _, f := range b.formats {
				profile := ""
				if i == 0 && j == 0 && f == b.formats[0] && b.o.cpuProfile != "" {
					profile = b.profilePath()
				}
				slot := slots.relay[bin.tag+"_"+f][i]
				b.rep.Walrelay = append(b.rep.Walrelay, b.runRelayBacklog(ctx, bin, slot, f, profile))
				dropSlot(ctx, b.db, slot)
			}
		}
	}
}

// debeziumAndLatency runs Debezium Server's backlog pass and, on the warm
// JVM, its latency phase, then walrelay's latency phase on a fresh slot
// (after Debezium has stopped, so the two never share the machine).
func (b *bench) debeziumAndLatency(ctx context.Context, slots slotNames) {
	rate := 0
	if !b.o.skipLat {
		var why string
		rate, why = b.latencyRate()
		b.rep.note(fmt.Sprintf("latency phase: %d rows/s offered (%s), %s, one transaction every %s, first %s of commits not counted",
			rate, why, b.o.latencyDur, writerTick, b.o.warmup))
	}
	var dbzLat *LatencyResult
	if slots.debezium != "" && ctx.Err() == nil {
		var r RunResult
		r, dbzLat = b.debeziumPhases(ctx, slots.debezium, rate)
		b.rep.Debezium = append(b.rep.Debezium, r)
		dropSlot(ctx, b.db, slots.debezium)
	}
	if rate > 0 && ctx.Err() == nil {
		b.rep.Latency = append(b.rep.Latency, b.relayLatency(ctx, b.formats[0], rate))
		msg := "walrelay's latency phase runs a fresh process on a fresh slot"
		if dbzLat != nil {
			msg += "; Debezium's runs on its JVM right after its backlog pass (warm)"
		}
		b.rep.note(msg)
	}
	if dbzLat != nil {
		b.rep.Latency = append(b.rep.Latency, *dbzLat)
	}
}

// profilePath returns the absolute --cpuprofile path, or "" with a note when
// the binary cannot write one.
func (b *bench) profilePath() string {
	if !b.relays[0].cpuProfile {
		b.rep.note("--cpuprofile ignored: this walrelay build has no `run --cpuprofile` flag")
		return ""
	}
	p, err := filepath.Abs(b.o.cpuProfile)
	if err != nil {
		return b.o.cpuProfile
	}
	b.rep.note("CPU profile of walrelay's first backlog run: " + p)
	return p
}

// latencyRate is --rate, or half of walrelay's median backlog rate capped
// by --rate-cap.
func (b *bench) latencyRate() (int, string) {
	if b.o.rate > 0 {
		return b.o.rate, "--rate"
	}
	med := median(rates(filterConsumer(b.rep.Walrelay, b.relays[0].label+" "+b.formats[0])))
	if med <= 0 {
		return min(1000, b.o.rateCap), "fallback: no walrelay backlog rate was measured"
	}
	rate := int(med / 2)
	if rate > b.o.rateCap {
		return b.o.rateCap, fmt.Sprintf("half of walrelay's median backlog rate (%.0f/s) capped by --rate-cap", med/2)
	}
	return max(rate, 1), "half of walrelay's median backlog rate"
}

// relayLatency runs walrelay on a fresh slot of the latency table and
// measures while it streams.
func (b *bench) relayLatency(ctx context.Context, format string, rate int) LatencyResult {
	name := "walrelay " + format
	slot := slotPrefix + "lat_wr"
	dir := filepath.Join(b.work, slot)
	prefix := strings.ReplaceAll(slot, "_", "-")
	topic := prefix + "." + benchSchema + "." + latencyTable
	fail := func(err error) LatencyResult {
		return LatencyResult{Consumer: name, OfferedRate: rate, Error: err.Error()}
	}
	if err := b.prepareLatencyRun(ctx, slot, topic); err != nil {
		return fail(err)
	}
	defer dropSlot(ctx, b.db, slot)
	cfg, err := b.writeRelayConfig(dir, slot, latencyPub, prefix, format, []string{benchSchema + "." + latencyTable})
	if err != nil {
		return fail(err)
	}
	p, err := b.startRelay(ctx, b.relays[0], name, dir, cfg)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = p.stop(20 * time.Second) }()
	return b.latencyWith(ctx, name, slot, topic, rate, p)
}

// prepareLatencyRun creates the slot (at the current end of WAL) and topic.
func (b *bench) prepareLatencyRun(ctx context.Context, slot, topic string) error {
	if err := createSlot(ctx, b.db, slot); err != nil {
		return err
	}
	return b.adm.createTopics(ctx, topic)
}

// latencyWith waits until p streams from slot (active for 2 s: a JVM is
// still settling when its slot turns active), measures, and reads p's RSS
// and CPU.
func (b *bench) latencyWith(ctx context.Context, name, slot, topic string, rate int, p *proc) LatencyResult {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if p.done() {
			return LatencyResult{Consumer: name, OfferedRate: rate, Error: p.failure().Error()}
		}
		if st, err := readSlot(ctx, b.db, slot); err == nil && st.active {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return LatencyResult{Consumer: name, OfferedRate: rate, Error: "slot " + slot + " never became active"}
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	r := b.measureLatency(ctx, name, topic, rate)
	if st, err := readProcStat(p.pid()); err == nil {
		r.PeakRSSMB, r.CPUSeconds = st.PeakRSSMB, st.CPUSeconds
	}
	return r
}

// filterConsumer returns the runs of one consumer.
func filterConsumer(runs []RunResult, consumer string) []RunResult {
	var out []RunResult
	for _, r := range runs {
		if r.Consumer == consumer {
			out = append(out, r)
		}
	}
	return out
}
