package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/walrelay/walrelay/devenv"
)

// slotNames are the slots created before the backlog, one per pass, so
// every consumer reads the same backlog.
type slotNames struct {
	recv, recvBin []string
	relay         map[string][]string // by binary tag and format: "wr_json"
	debezium      string
	debeziumAvro  string // "" = no Debezium Avro pass
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
		if b.dbzAvro != nil {
			s.debeziumAvro = slotPrefix + "dbz_avro"
		}
	}
	return s
}

// all lists every planned slot.
func (s slotNames) all() []string {
	out := append(append([]string(nil), s.recv...), s.recvBin...)
	for _, v := range s.relay {
		out = append(out, v...)
	}
	for _, d := range []string{s.debezium, s.debeziumAvro} {
		if d != "" {
			out = append(out, d)
		}
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

// debeziumAndLatency runs Debezium Server's JSON backlog pass and, on the
// warm JVM, its latency phase at the first planned rate, then its Avro
// backlog pass (when set up; a registry failure skips it with a note), then
// walrelay's latency
// runs, each on a fresh slot and each followed by the pgoutput client's at
// the same rate (after Debezium has stopped, so no two consumers share the
// machine).
func (b *bench) debeziumAndLatency(ctx context.Context, slots slotNames) {
	var runs []latencyRun
	if !b.o.skipLat {
		runs = planLatency(b.o, median(rates(filterConsumer(b.rep.Walrelay, b.relays[0].label+" "+b.formats[0]))))
		b.noteLatencyPlan(runs)
	}
	var dbzLat *LatencyResult
	if slots.debezium != "" && ctx.Err() == nil {
		rate := 0
		if len(runs) > 0 {
			rate = runs[0].rate
		}
		var r RunResult
		r, dbzLat = b.debeziumPhases(ctx, slots.debezium, rate)
		b.rep.Debezium = append(b.rep.Debezium, r)
		dropSlot(ctx, b.db, slots.debezium)
	}
	if slots.debeziumAvro != "" && ctx.Err() == nil {
		r, skipped := b.debeziumAvroPass(ctx, slots.debeziumAvro)
		if skipped != nil {
			b.rep.note("Debezium Server avro skipped: " + skipped.Error())
		} else {
			b.rep.Debezium = append(b.rep.Debezium, r)
		}
		dropSlot(ctx, b.db, slots.debeziumAvro)
	}
	for _, run := range runs {
		if ctx.Err() != nil {
			break
		}
		name := b.relays[0].label + " " + b.formats[0] + run.suffix
		r := b.relayLatency(ctx, name, slotPrefix+"lat_wr"+run.slot, b.formats[0], run.rate)
		r.Sweep = run.sweep
		b.rep.Latency = append(b.rep.Latency, r)
		if !b.o.skipLatRef && ctx.Err() == nil {
			r := b.clientLatency(ctx, clientName+run.suffix, slotPrefix+"lat_pg"+run.slot, run.rate)
			r.Sweep = run.sweep
			b.rep.Latency = append(b.rep.Latency, r)
		}
	}
	if dbzLat != nil {
		b.rep.Latency = append(b.rep.Latency, *dbzLat)
		b.rep.note("Debezium's latency phase runs on its JVM right after its backlog pass (warm), at the first latency run's rate")
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

// relayLatency runs walrelay on slot, a fresh slot of the latency table,
// and measures while it streams; name is the consumer in the report.
func (b *bench) relayLatency(ctx context.Context, name, slot, format string, rate int) LatencyResult {
	dir := filepath.Join(b.work, slot)
	prefix := b.topicPrefix(slot)
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
	port, err := devenv.FreePort()
	if err != nil {
		return fail(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := b.startRelay(ctx, b.relays[0], name, dir, cfg, []string{"WALRELAY_METRICS_LISTEN=" + listen})
	if err != nil {
		return fail(err)
	}
	defer func() { _ = p.stop(20 * time.Second) }()
	return b.latencyWith(ctx, name, slot, topic, rate, p, &stageProbe{url: "http://" + listen + "/metrics"})
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
func (b *bench) latencyWith(ctx context.Context, name, slot, topic string, rate int, p *proc, stages *stageProbe) LatencyResult {
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
	r := b.measureLatency(ctx, name, topic, rate, p.pid(), slot, stages)
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
