package pipeline

import (
	"context"
	"encoding/json"
	"time"

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
// this walrelay's slot and the current time (heartbeatContent) every
// interval, on its own connection, until ctx ends.
// The reader measures end-to-end lag from them, and they keep the slot moving
// on a database that is otherwise silent. Failures are logged and retried on
// the next tick: a missed heartbeat must never stop the pipeline.
func (s *session) runHeartbeats(ctx context.Context) {
	every := s.cfg.Heartbeat.Interval
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.emitHeartbeat(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("heartbeat not emitted")
		}
	}
}

func (s *session) emitHeartbeat(ctx context.Context) error {
	db, err := replication.ConnectSQL(ctx, s.cfg.Postgres.DSN)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	_, err = db.Exec(ctx, "SELECT pg_logical_emit_message(false, $1, $2)",
		HeartbeatPrefix, heartbeatContent(s.cfg.Postgres.Slot, time.Now()))
	return err
}

// measureHeartbeat handles a heartbeat message on the publisher goroutine.
// A heartbeat this walrelay emitted (its slot's) measures the end-to-end
// lag, and is published when heartbeat.topic is set; the result says
// whether to publish it. Any other walrelay's heartbeat, and one without a
// slot (an older release's), is neither measured nor published: another
// walrelay's lag is not this one's, and its heartbeats are its own to
// publish.
func (p *publisher) measureHeartbeat(ch *event.Change) bool {
	hb, ok := parseHeartbeat(ch.Message.Content)
	if !ok || hb.Slot != p.s.cfg.Postgres.Slot {
		return false
	}
	p.heartbeat.set(max(time.Since(hb.Time), 0), hb.Time)
	return p.s.cfg.Heartbeat.Topic != ""
}

// isHeartbeat reports whether ch is a heartbeat of a walrelay (this one,
// another, or an older release): it is never routed as a message.
func isHeartbeat(ch *event.Change) bool {
	return ch.Op == event.OpMessage && ch.Message != nil && ch.Message.Prefix == HeartbeatPrefix
}
