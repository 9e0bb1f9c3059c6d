package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/decoder"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// reader is the goroutine that owns the replication stream. It decodes,
// encodes and hands records to the sink, and sends a status update at least
// every statusEvery, even while the in-flight caps hold it back.
type reader struct {
	s           *session
	statusEvery time.Duration
	excluded    map[string]bool

	nextStatus time.Time
	nextReport time.Time
	txn        *checkpoint.Txn
	skipTx     bool
	walEnd     event.LSN // newest ServerWALEnd seen
	events     uint64    // records handed to the sink

	heartbeatLag time.Duration // commit-to-read lag of the newest heartbeat
	heartbeatAt  time.Time     // when that heartbeat was emitted

	sctx       context.Context // ends at sctxAt; reused until nextStatus moves
	scancel    context.CancelFunc
	sctxAt     time.Time
	sctxParent context.Context
}

// statusCtx returns a context that ends at r.nextStatus, for waits under the
// in-flight caps. It is created once per status period, not per wait.
func (r *reader) statusCtx(ctx context.Context) context.Context {
	if r.sctx == nil || r.sctxParent != ctx || !r.sctxAt.Equal(r.nextStatus) {
		if r.scancel != nil {
			r.scancel()
		}
		r.sctx, r.scancel = context.WithDeadline(ctx, r.nextStatus)
		r.sctxAt, r.sctxParent = r.nextStatus, ctx
	}
	return r.sctx
}

const reportEvery = 10 * time.Second

// finishTxnTimeout bounds how long a graceful stop reads on to reach the
// commit of the transaction it stopped in.
const finishTxnTimeout = 2 * time.Second

// loop runs until ctx is done (returns nil) or something fails (returns the
// error; the session then restarts from the checkpoint). Stopped inside a
// transaction, it reads on (at most finishTxnTimeout) to that transaction's
// commit, so the final checkpoint covers what was already sent.
func (r *reader) loop(ctx context.Context, committerErr <-chan error) error {
	defer r.s.stream.Unwatch()
	defer func() {
		if r.scancel != nil {
			r.scancel()
		}
	}()
	r.nextStatus = time.Now()
	r.nextReport = time.Now().Add(reportEvery)
	if err := r.run(ctx, committerErr, func() bool { return false }); err != nil || r.txn == nil {
		return err
	}
	dctx, cancel := context.WithTimeout(context.Background(), finishTxnTimeout)
	defer cancel()
	return r.run(dctx, committerErr, func() bool { return r.txn == nil })
}

// run processes messages until ctx is done or stop reports true (nil), or a
// failure (the error).
func (r *reader) run(ctx context.Context, committerErr <-chan error, stop func() bool) error {
	for !stop() {
		if err := r.step(ctx, committerErr); err != nil {
			if ctx.Err() != nil {
				return nil // stopping: whatever failed, failed because of it
			}
			return err
		}
	}
	return nil
}

// step does one round: stage checks, due status update, pending reload, and
// at most one message.
func (r *reader) step(ctx context.Context, committerErr <-chan error) error {
	if err := r.checkStages(committerErr); err != nil {
		return err
	}
	if err := r.tick(ctx); err != nil {
		return err
	}
	if err := r.maybeReload(ctx); err != nil {
		return err
	}
	m, ok, err := r.receive(ctx)
	if err != nil || !ok {
		return err
	}
	return r.handle(ctx, m)
}

// checkStages returns the error of a stage that stopped on its own.
func (r *reader) checkStages(committerErr <-chan error) error {
	select {
	case err := <-r.s.sink.Err():
		return err
	case err := <-committerErr:
		if err == nil {
			err = errors.New("checkpoint committer stopped")
		}
		return err
	default:
		return nil
	}
}

// tick sends the periodic status update and progress report when due.
func (r *reader) tick(ctx context.Context) error {
	now := time.Now()
	if !now.Before(r.nextStatus) {
		if err := r.sendStatus(ctx); err != nil {
			return err
		}
	}
	if !now.Before(r.nextReport) {
		r.report()
		r.nextReport = now.Add(reportEvery)
	}
	return nil
}

func (r *reader) sendStatus(ctx context.Context) error {
	r.nextStatus = time.Now().Add(r.statusEvery)
	return r.s.stream.SendStatus(ctx, r.s.retain.confirm(time.Now(), r.s.committer.Persisted()))
}

func (r *reader) report() {
	events, bytes, open := r.s.tracker.Stats()
	persisted := r.s.committer.Persisted()
	lag := int64(0)
	if r.walEnd > persisted {
		lag = int64(r.walEnd - persisted)
	}
	ev := r.s.log.Info().Uint64("events", r.events).Stringer("checkpoint", persisted).
		Stringer("server_wal_end", r.walEnd).Int64("lag_bytes", lag).
		Int("inflight_events", events).Int64("inflight_bytes", bytes).Int("open_txns", open)
	st := Status{PID: os.Getpid(), Slot: r.s.cfg.Postgres.Slot, UpdatedAt: time.Now().UTC(),
		Checkpoint: persisted.String(), ServerWALEnd: r.walEnd.String(), LagBytes: lag,
		Events: r.events, InflightEvents: events, Snapshot: r.s.snapStatus}
	if !r.heartbeatAt.IsZero() {
		ms := r.heartbeatLag.Milliseconds()
		st.HeartbeatLagMS, st.HeartbeatAt = &ms, r.heartbeatAt
		ev = ev.Dur("heartbeat_lag", r.heartbeatLag)
	}
	ev.Msg("progress")
	if err := WriteStatus(r.s.cfg.DataDir, st); err != nil {
		r.s.log.Debug().Err(err).Msg("status file not written")
	}
}

// receive waits for one message until the next status update is due.
func (r *reader) receive(ctx context.Context) (replication.Message, bool, error) {
	return r.s.stream.ReceiveBy(ctx, r.nextStatus)
}

// handle processes one replication message.
func (r *reader) handle(ctx context.Context, m replication.Message) error {
	if m.ServerWALEnd > r.walEnd {
		r.walEnd = m.ServerWALEnd
	}
	if m.Keepalive {
		// Idle advance: only when nothing is in flight and no transaction is open.
		if r.txn == nil {
			r.s.tracker.AdvanceIdle(m.ServerWALEnd)
		}
		if m.ReplyRequested {
			return r.sendStatus(ctx)
		}
		return nil
	}
	res, err := r.s.dec.Decode(ctx, m.WALStart, m.Data)
	if err != nil {
		return fmt.Errorf("decoding WAL at %s: %w", m.WALStart, err)
	}
	return r.apply(ctx, res)
}

// apply feeds a decoded message to the tracker and the sink.
func (r *reader) apply(ctx context.Context, res decoder.Result) error {
	switch res.Kind {
	case decoder.KindBegin:
		r.txn = r.s.tracker.Begin(res.Tx.CommitLSN)
		// Postgres may resend a transaction that ends at or before the start
		// position; those events are already in Kafka.
		r.skipTx = res.Tx.CommitLSN < r.s.start
	case decoder.KindCommit:
		if r.txn == nil {
			return fmt.Errorf("commit at %s without a begin", res.EndLSN)
		}
		r.txn.Commit(res.EndLSN)
		r.txn, r.skipTx = nil, false
	case decoder.KindChanges:
		if r.txn == nil {
			return errors.New("change outside a transaction")
		}
		for _, ch := range res.Changes {
			if err := r.publish(ctx, r.txn, ch); err != nil {
				return err
			}
		}
	case decoder.KindStandalone:
		txn := r.s.tracker.Begin(res.EndLSN)
		for _, ch := range res.Changes {
			if err := r.publish(ctx, txn, ch); err != nil {
				return err
			}
		}
		txn.Commit(res.EndLSN)
	}
	return nil
}

// publish encodes one change and hands its records to the sink, each tracked
// in txn so that the checkpoint cannot pass it before Kafka acknowledged it.
func (r *reader) publish(ctx context.Context, txn *checkpoint.Txn, ch *event.Change) error {
	if r.skipTx || (ch.Relation != nil && r.excluded[ch.Relation.QualifiedName()]) {
		return nil
	}
	var recs []event.Record
	var err error
	if isHeartbeat(ch) {
		if !r.heartbeat(ch) {
			return nil
		}
		ch.Topic = r.s.cfg.Heartbeat.Topic
		recs, err = r.s.enc.Encode(ch)
	} else {
		recs, err = r.s.route(ch)
	}
	if err != nil {
		return fmt.Errorf("encoding change %s: %w", ch.ID(), err)
	}
	n, err := r.s.send(ctx, txn, recs, r.acquire)
	r.events += uint64(n)
	return err
}

// acquire waits for room under the in-flight caps, sending status updates
// while it waits so wal_sender_timeout never fires (invariant 5).
func (r *reader) acquire(ctx context.Context, size int) error {
	for {
		err := r.s.tracker.Acquire(r.statusCtx(ctx), size)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case err := <-r.s.sink.Err():
			return err
		default:
		}
		if err := r.tick(ctx); err != nil {
			return err
		}
	}
}

// maybeReload applies a pending SIGHUP between two messages, so each change
// is routed exactly once, under either the old or the new rules.
func (r *reader) maybeReload(ctx context.Context) error {
	select {
	case <-r.s.opts.Reload:
		return r.s.reloadRules(ctx)
	default:
		return nil
	}
}
