package pipeline

import (
	"context"
	"time"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// HeartbeatPrefix is the pg_logical_emit_message prefix of walrelay's heartbeats.
const HeartbeatPrefix = "walrelay_heartbeat"

// runHeartbeats emits a non-transactional logical decoding message carrying
// the current time every interval, on its own connection, until ctx ends.
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
		HeartbeatPrefix, time.Now().UTC().Format(time.RFC3339Nano))
	return err
}

// measureHeartbeat handles a heartbeat message on the publisher goroutine:
// it records the lag and reports whether the message should still be
// published (only when heartbeat.topic is set).
func (p *publisher) measureHeartbeat(ch *event.Change) bool {
	if sent, err := time.Parse(time.RFC3339Nano, string(ch.Message.Content)); err == nil {
		p.heartbeat.set(time.Since(sent), sent)
	}
	return p.s.cfg.Heartbeat.Topic != ""
}

// isHeartbeat reports whether ch is one of walrelay's heartbeats.
func isHeartbeat(ch *event.Change) bool {
	return ch.Op == event.OpMessage && ch.Message != nil && ch.Message.Prefix == HeartbeatPrefix
}
