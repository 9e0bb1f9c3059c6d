package pipeline

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// HeartbeatPrefix is the pg_logical_emit_message prefix of walrelay's heartbeats.
const HeartbeatPrefix = "walrelay_heartbeat"

// heartbeat is the content of a heartbeat message: the slot of the
// walrelay that emitted it (every walrelay streaming from the database
// decodes it; only that one measures and publishes it, as snapshot signals
// are scoped by slot) and when, in RFC 3339 with nanoseconds.
type heartbeat struct {
	Slot string    `json:"slot"`
	Time time.Time `json:"time"`
}

// heartbeatContent is the content of a heartbeat emitted at now by the
// walrelay streaming from slot.
func heartbeatContent(slot string, now time.Time) string {
	b, _ := json.Marshal(heartbeat{Slot: slot, Time: now.UTC()}) // a string and a time always marshal
	return string(b)
}

// parseHeartbeat parses a heartbeat's content. ok is false for anything
// else: the bare timestamp of releases before heartbeats named their slot
// (whose emitter is unknown), or content that does not parse.
func parseHeartbeat(content []byte) (hb heartbeat, ok bool) {
	if json.Unmarshal(content, &hb) != nil || hb.Slot == "" || hb.Time.IsZero() {
		return heartbeat{}, false
	}
	return hb, true
}

// runHeartbeats emits a non-transactional logical decoding message carrying
// this walrelay's slot and the current time (heartbeatContent) at once and
// then every interval, on its own connection, until ctx ends.
// The reader measures end-to-end lag from them, and they keep the slot moving
// on a database that is otherwise silent. Failures are logged and retried on
// the next tick: a missed heartbeat must never stop the pipeline. The one
// emitted at once makes a session's lag measured from its start: a session
// that never delivers it (it halts, or is stuck) shows the lag growing from
// then (heartbeatLag.emitted).
func (s *session) runHeartbeats(ctx context.Context) {
	every := s.cfg.Heartbeat.Interval
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.emitHeartbeat(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("heartbeat not emitted")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// emitHeartbeat writes one heartbeat into the WAL and, once it is there,
// records it as waiting for its acknowledgement in the Run's lag: if the
// pipeline never delivers it (a halt before the reader reaches it, a
// restart loop, a reader stuck behind Kafka), the lag grows from its
// emission, as README promises, instead of keeping the last measurement.
func (s *session) emitHeartbeat(ctx context.Context) error {
	db, err := replication.ConnectSQL(ctx, s.cfg.Postgres.DSN)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	now := time.Now()
	if _, err = db.Exec(ctx, "SELECT pg_logical_emit_message(false, $1, $2)",
		HeartbeatPrefix, heartbeatContent(s.cfg.Postgres.Slot, now)); err != nil {
		return err
	}
	if s.rs != nil {
		s.rs.heartbeat.emitted(now.UTC())
	}
	return nil
}

// measureHeartbeat handles a heartbeat message on the publisher goroutine.
// A heartbeat this walrelay emitted (its slot's) measures the end-to-end
// lag, emit to acknowledged, and is published when heartbeat.topic is set;
// the result says whether to publish it. Published, its record's
// acknowledgement measures it (heartbeatAck, publish). Not published, it
// is measured now if nothing is in flight (all that came before it is in
// Kafka), else at the acknowledgement of the next record sent or at a
// keepalive that finds nothing in flight (resolveHeartbeat). Meanwhile it
// waits (heartbeatLag.get). Any other walrelay's heartbeat, and one without
// a slot (an older release's), is neither measured nor published: another
// walrelay's lag is not this one's, and its heartbeats are its own to
// publish.
func (p *publisher) measureHeartbeat(ch *event.Change) bool {
	hb, ok := parseHeartbeat(ch.Message.Content)
	if !ok || hb.Slot != p.s.cfg.Postgres.Slot {
		return false
	}
	p.heartbeat.emitted(hb.Time)
	if p.s.cfg.Heartbeat.Topic != "" {
		p.hbRecord = &heartbeatAck{h: p.heartbeat, at: hb.Time}
		return true
	}
	if p.hbWait == nil {
		p.hbWait = &heartbeatAck{h: p.heartbeat}
	}
	p.hbWait.at = hb.Time // the newest: the next acknowledgement measures it
	p.resolveHeartbeat()
	return false
}

// resolveHeartbeat measures the heartbeat waiting for the next record
// when nothing is in flight: everything before it is in Kafka.
func (p *publisher) resolveHeartbeat() {
	if p.hbWait == nil {
		return
	}
	if p.s.tracker != nil {
		if inflight, _, _ := p.s.tracker.Stats(); inflight > 0 {
			return
		}
	}
	p.hbWait.Acked()
	p.hbWait = nil
}

// heartbeatAcks makes acks[0], what the acknowledgement of the first of a
// change's records counts, also measure the heartbeat waiting for the next
// record (heartbeat.topic unset), or makes every ack of a published
// heartbeat's records measure it (a heartbeat is not an event). acks is
// as tableCounter.acks returned it; the result replaces it.
func (p *publisher) heartbeatAcks(ch *event.Change, acks []checkpoint.AckCounter) []checkpoint.AckCounter {
	if isHeartbeat(ch) {
		for i := range acks {
			acks[i] = p.hbRecord
		}
		p.hbRecord = nil
		return acks
	}
	if p.hbWait != nil && len(acks) > 0 {
		p.hbWait.next, acks[0] = acks[0], p.hbWait
		p.hbWait = nil
	}
	return acks
}

// heartbeatAck measures the end-to-end lag of the heartbeat emitted at at
// when Kafka acknowledged a record (checkpoint.AckCounter), and counts
// that record in next (nil: nothing).
type heartbeatAck struct {
	h    *heartbeatLag
	at   time.Time
	next checkpoint.AckCounter
}

// Acked implements checkpoint.AckCounter.
func (a *heartbeatAck) Acked() {
	a.h.acked(a.at)
	if a.next != nil {
		a.next.Acked()
	}
}

// heartbeatLag is the emit-to-acknowledged lag of the newest heartbeat
// acknowledged, and the emit time of the oldest one handled and not yet
// acknowledged. It belongs to the Run (runState.heartbeat), so that it
// keeps growing while the pipeline is down and a heartbeat is not
// delivered; acknowledgements write it, the progress report, status.json
// and walrelay_heartbeat_lag_seconds read it.
type heartbeatLag struct {
	mu      sync.Mutex
	lag     time.Duration
	at      time.Time // when the newest acknowledged heartbeat was emitted; zero if none yet
	waiting time.Time // when the oldest heartbeat waiting for its acknowledgement was emitted; zero if none
}

// emitted records that the heartbeat emitted at waits for its
// acknowledgement: once it is in the WAL (emitHeartbeat), again when the
// reader hands it on, and, as a heartbeat would have been, at a halt
// (halted): from then nothing is delivered until a session streams again
// and Kafka acknowledges a heartbeat emitted since. The oldest waiting one
// counts; an acknowledgement of it or of a newer one ends the wait.
func (h *heartbeatLag) emitted(at time.Time) {
	h.mu.Lock()
	if h.waiting.IsZero() || at.Before(h.waiting) {
		h.waiting = at
	}
	h.mu.Unlock()
}

// acked records that the heartbeat emitted at, and what waited before it,
// is acknowledged now.
func (h *heartbeatLag) acked(at time.Time) { h.set(max(time.Since(at), 0), at) }

// set records that the heartbeat emitted at was acknowledged lag after:
// the newest acknowledged unless a newer one was, and no longer waiting,
// nor are older ones.
func (h *heartbeatLag) set(lag time.Duration, at time.Time) {
	h.mu.Lock()
	if !at.Before(h.at) {
		h.lag, h.at = lag, at
	}
	if !h.waiting.IsZero() && !at.Before(h.waiting) {
		h.waiting = time.Time{}
	}
	h.mu.Unlock()
}

// get returns the end-to-end lag and the emit time of the heartbeat it is
// of (zero if none was measured yet): the newest acknowledged heartbeat's,
// or, when a heartbeat has waited longer than that for its
// acknowledgement, the time since the oldest waiting one was emitted, so
// that the lag grows while heartbeats are not delivered. A nil h has
// measured nothing.
func (h *heartbeatLag) get() (time.Duration, time.Time) {
	lag, at, _ := h.read()
	return lag, at
}

// read is get, and whether the lag is the wait of a heartbeat not yet
// acknowledged (it grows until one is).
func (h *heartbeatLag) read() (lag time.Duration, at time.Time, waiting bool) {
	if h == nil {
		return 0, time.Time{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.waiting.IsZero() {
		if wait := time.Since(h.waiting); wait > h.lag || h.at.IsZero() {
			return max(wait, 0), h.waiting, true
		}
	}
	return h.lag, h.at, false
}

// isHeartbeat reports whether ch is a heartbeat of a walrelay (this one,
// another, or an older release): it is never routed as a message.
func isHeartbeat(ch *event.Change) bool {
	return ch.Op == event.OpMessage && ch.Message != nil && ch.Message.Prefix == HeartbeatPrefix
}
