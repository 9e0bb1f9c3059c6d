package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrelay/walrelay/decoder"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// reader is the goroutine that owns the replication stream. It receives and
// decodes messages and hands them, in order and in batches, to the
// publisher goroutine, which encodes and sends them; so decoding the next
// messages overlaps with encoding the previous ones. It sends a status
// update at least every statusEvery, also while the publisher holds it back
// (the hand-off is bounded, and the publisher waits under the in-flight caps).
type reader struct {
	s           *session
	statusEvery time.Duration
	pub         *publisher

	nextStatus time.Time
	nextReport time.Time
	inTxn      bool                      // a Begin was decoded and its Commit not yet
	walEnd     event.LSN                 // newest ServerWALEnd seen
	walEndSeen atomic.Uint64             // walEnd, for the metrics (read at scrape time)
	server     atomic.Pointer[walSample] // the server's WAL position as last polled (server_wal.go); nil before
	pollReq    chan chan struct{}        // scrapes' requests for a poll (pollRequests)
	pollInit   sync.Once                 // makes pollReq
	refreshMu  sync.Mutex                // one scrape-time poll at a time (refreshServerWAL)
	polling    atomic.Bool               // the poller runs (pollServerWAL)
	batch      []item                    // decoded, not yet handed to the publisher
	batchBytes int                       // WAL bytes of batch
	tickTimer  *time.Timer
	unchecked  int  // steps since the last stage and clock check (due)
	checkNow   bool // the next step checks, whatever unchecked says
	quiet      int  // status intervals waited on the socket with nothing received (silence.go)
	pinged     bool // a reply was asked for during this silence

	// The graceful stop (shutdown.go). drain bounds the decoding of every
	// message, and the reading on to the end of the transaction after a
	// stop: it ends finishTxnTimeout after the stop. txCommit is the commit
	// LSN of the open transaction (inTxn). cut is set when the stop came
	// inside a transaction and the drain deadline passed before its commit;
	// abandoned when the publisher did not send everything in time.
	drain     context.Context
	txCommit  event.LSN
	cut       *txnCut
	cutErr    error
	abandoned bool
}

const reportEvery = 10 * time.Second

// checkEvery is how many steps (messages), at most, the reader takes between
// two checks of the other stages and the clock (for the status update and
// progress report). Doing both for every message was a twentieth of
// walrelay's CPU on a backlog: a time.Now and a four-way select per row.
// (A ticker's channel is no cheaper: each poll of it checks the timer.)
const checkEvery = 64

// finishTxnTimeout bounds how long a graceful stop reads on to reach the
// commit of the transaction it stopped in.
const finishTxnTimeout = 2 * time.Second

// drainTimeout bounds how long a graceful stop waits for the publisher to
// send what the reader handed it, before abandoning the rest (it is not
// acknowledged, so the checkpoint does not pass it).
const drainTimeout = 5 * time.Second

// loop runs until ctx is done (returns nil), the session is asked to
// restart for a catch-up snapshot (errCatchupRestart, after stopping as on
// SIGTERM), or something fails (returns the error; the session then
// restarts from the checkpoint). Stopped inside a transaction, it reads on
// to that transaction's commit, until finishTxnTimeout after the stop, and
// lets the publisher send everything decoded, so the final checkpoint
// covers what was already read. If the commit does not come in time it
// stops at the end of the last complete transaction: what it read of the
// open one and did not hand over is dropped, and the cut is recorded
// (shutdown.go). r.pub is made by the session before it goes live.
func (r *reader) loop(ctx context.Context, committerErr <-chan error) error {
	defer r.s.stream.Unwatch()
	pctx, stopPublisher := context.WithCancel(context.Background())
	defer stopPublisher()
	go r.pub.run(pctx)
	stopPolling := r.pollServerWAL(ctx)
	defer stopPolling()
	defer r.s.watchPublication(ctx)() // publication_watch.go
	r.tickTimer = time.NewTimer(time.Hour)
	defer r.tickTimer.Stop()
	r.checkNow = true
	r.nextStatus = time.Now()
	r.nextReport = time.Now().Add(reportEvery)

	rctx, restart := r.stopOnCatchup(ctx)
	defer restart() // ends its goroutine whatever ends the loop
	drain, endDrain := drainContext(rctx, finishTxnTimeout)
	defer endDrain()
	r.drain = drain
	err := r.run(rctx, committerErr, func() bool { return false })
	if err == nil && r.inTxn {
		err = r.run(drain, committerErr, func() bool { return !r.inTxn })
	}
	if err == nil && r.inTxn {
		r.cutTxn()
	}
	if err = r.finish(err, committerErr, stopPublisher); err == nil && restart() {
		err = errCatchupRestart
	}
	return err
}

// stopOnCatchup returns a context that also ends when the session is asked
// to restart for a catch-up snapshot (catchup.go), so that the reader stops
// the way it does on SIGTERM: at the end of its transaction, with
// everything decoded sent and checkpointed, and nothing published twice by
// the next session. restart ends the watch and reports whether that is why
// it ended; a request that comes too late is still recorded in the
// checkpoint, and the next session takes it.
func (r *reader) stopOnCatchup(ctx context.Context) (context.Context, func() bool) {
	rctx, cancel := context.WithCancel(ctx)
	var asked atomic.Bool
	go func() {
		select {
		case <-r.s.catchupRestart:
			asked.Store(true)
			cancel()
		case <-rctx.Done():
		}
	}()
	return rctx, func() bool { cancel(); return asked.Load() && ctx.Err() == nil }
}

// finish hands the last batch to the publisher and waits until it has sent
// everything (after a failure, or past drainTimeout, it stops it instead).
func (r *reader) finish(err error, committerErr <-chan error, stopPublisher context.CancelFunc) error {
	if err != nil {
		stopPublisher()
	} else {
		dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		err = r.handOff(dctx, committerErr)
		cancel()
	}
	close(r.pub.in)
	select {
	case <-r.pub.done:
	case <-time.After(drainTimeout):
		r.s.log.Warn().Msg("stopping: not everything decoded was sent in time; it is sent again after restart")
		r.abandoned = true
		stopPublisher()
		<-r.pub.done
	}
	if err == nil && r.pub.err != nil && !errors.Is(r.pub.err, context.Canceled) {
		err = r.pub.err
	}
	return err
}

// run processes messages until ctx is done or stop reports true (nil), or a
// failure (the error). What ctx's end cut short (a read, a hand-off) is
// taken up again by the next run: it loses nothing. A failure after the
// drain deadline ends the drain; it is recorded with the cut (cutErr).
func (r *reader) run(ctx context.Context, committerErr <-chan error, stop func() bool) error {
	for !stop() {
		if err := r.step(ctx, committerErr); err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil // stopping
			}
			if r.drain != nil && r.drain.Err() != nil {
				r.cutErr = err // the drain deadline passed: whatever failed, failed because of it
				return nil
			}
			return err
		}
	}
	return nil
}

// step does one round: stage checks and due status update (when due), and
// at most one message.
func (r *reader) step(ctx context.Context, committerErr <-chan error) error {
	if r.due() {
		if err := r.checkStages(committerErr); err != nil {
			return err
		}
		if err := r.tick(ctx); err != nil {
			return err
		}
	}
	m, ok, err := r.receive(ctx)
	if err != nil {
		return err
	}
	if !ok {
		r.checkNow = true // the status deadline passed: the next step sends it
		return r.quietWindow(ctx)
	}
	if r.quiet != 0 {
		r.heard()
	}
	return r.handle(ctx, m, committerErr)
}

// due reports whether step checks the stages and the clock: when checkNow
// is set (at the start, and after a wait on the socket ended empty), else
// every checkEvery steps (a step receives at most one message).
//
// The status update is not late for it: once the status deadline passes,
// the next read that has to wait on the socket fails at once with a timeout
// (the deadline is the socket's), ends empty and sets checkNow; only
// messages already read ahead come first. A stage's failure is seen within
// checkEvery steps, at the next hand-off (which checks the stages while it
// waits), or at the status deadline.
func (r *reader) due() bool {
	r.unchecked++
	if r.checkNow || r.unchecked >= checkEvery {
		r.checkNow, r.unchecked = false, 0
		return true
	}
	return false
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
	case err := <-r.s.incErr():
		return err
	case <-r.pub.done:
		if r.pub.err == nil {
			return errors.New("publisher stopped")
		}
		return r.pub.err
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

// report writes the info-level "progress" line and status.json, every
// reportEvery while the session streams (progress_halt.go writes the line
// while no session streams). Durations are in seconds and say so in their
// names, as the metrics' do; lag_bytes is the server's WAL position minus
// the checkpoint, as walrelay_lag_bytes and `walrelay status` measure it.
func (r *reader) report() {
	events, bytes, open := r.s.tracker.Stats()
	persisted := r.s.committer.Persisted()
	end := r.serverWALEnd()
	lag := r.lag(persisted)
	sent := r.s.rs.events + r.pub.events.Load() // the whole process's, across restarts
	ev := r.s.log.Info().Str("state", StateStreaming).Str("slot", r.s.cfg.Postgres.Slot).
		Uint64("events", sent).Stringer("checkpoint", persisted).
		Stringer("server_wal_end", end).Int64("lag_bytes", lag).
		Int("inflight_events", events).Int64("inflight_bytes", bytes).Int("open_txns", open)
	st := Status{PID: os.Getpid(), Slot: r.s.cfg.Postgres.Slot, UpdatedAt: time.Now().UTC(),
		Checkpoint: persisted.String(), ServerWALEnd: end.String(), LagBytes: lag,
		Events: sent, InflightEvents: events, Snapshot: r.s.snapStatus, State: StateStreaming}
	r.s.rs.halts.fill(&st)
	if hbLag, ok := fillHeartbeat(&st, r.pub.heartbeat, r.s.cfg.Heartbeat.Interval); ok {
		ev = ev.Float64("heartbeat_lag_seconds", hbLag.Seconds())
	}
	if last, longest, at := r.s.ackLag.take(); !at.IsZero() {
		lastMS, longestMS := last.Milliseconds(), longest.Milliseconds()
		st.CommitLagMS, st.CommitLagMaxMS, st.CommitLagAt = &lastMS, &longestMS, at
		ev = ev.Float64("commit_lag_seconds", last.Seconds()).Float64("commit_lag_max_seconds", longest.Seconds())
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

// handle decodes one replication message and queues it for the publisher,
// handing the queue over at every commit and keepalive and when it is full.
func (r *reader) handle(ctx context.Context, m replication.Message, committerErr <-chan error) error {
	if m.ServerWALEnd > r.walEnd {
		r.walEnd = m.ServerWALEnd
		r.walEndSeen.Store(uint64(m.ServerWALEnd))
	}
	if m.Keepalive {
		r.batch = append(r.batch, item{keepalive: true, walEnd: m.ServerWALEnd, replyRequested: m.ReplyRequested})
		if err := r.handOff(ctx, committerErr); err != nil {
			return err
		}
		if m.ReplyRequested {
			return r.sendStatus(ctx)
		}
		return nil
	}
	res, err := r.s.dec.Decode(r.decodeContext(ctx), m.WALStart, m.Data)
	if err != nil {
		return fmt.Errorf("decoding WAL at %s: %w", m.WALStart, err)
	}
	it := item{res: res}
	switch res.Kind {
	case 0:
		return nil // relation, type or origin message: decoder state only
	case decoder.KindBegin:
		r.inTxn, r.txCommit = true, res.Tx.CommitLSN
		if r.s.lagHistograms() != nil { // only the histograms use them
			it.sent, it.received = m.ServerTime, time.Now()
		}
	case decoder.KindCommit:
		r.inTxn = false
	}
	r.batch = append(r.batch, it)
	r.batchBytes += len(m.Data)
	if res.Kind == decoder.KindCommit || res.Kind == decoder.KindStandalone ||
		len(r.batch) >= handoffBatch || r.batchBytes >= handoffBytes {
		return r.handOff(ctx, committerErr)
	}
	return nil
}

// handOff passes the queued items to the publisher. While the publisher is
// behind it keeps sending status updates (invariant 5) and watching the
// other stages; it returns ctx's error if ctx ends first.
func (r *reader) handOff(ctx context.Context, committerErr <-chan error) error {
	if len(r.batch) == 0 {
		return nil
	}
	for {
		select {
		case r.pub.in <- r.batch:
			r.batch, r.batchBytes = r.nextBatch(), 0
			return nil
		default:
		}
		if err := r.checkStages(committerErr); err != nil {
			return err
		}
		if err := r.tick(ctx); err != nil {
			return err
		}
		r.tickTimer.Reset(time.Until(r.nextStatus))
		select {
		case r.pub.in <- r.batch:
			r.batch, r.batchBytes = r.nextBatch(), 0
			return nil
		case <-r.pub.done:
		case <-r.tickTimer.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// nextBatch returns an empty batch: one the publisher is done with, or a new one.
func (r *reader) nextBatch() []item {
	select {
	case b := <-r.pub.free:
		return b
	default:
		return make([]item, 0, handoffBatch)
	}
}
