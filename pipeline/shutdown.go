package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/logfield"
)

// msgStoppedInTxn is the warning of a stop that did not reach the commit of
// the transaction it came in (txnCut).
const msgStoppedInTxn = "stopped inside a transaction: its commit was not read within the drain time; " +
	"the checkpoint stays before it and its events already sent are sent again after restart"

// txnCut is a graceful stop that came inside a transaction whose commit the
// reader did not read before the drain deadline: it stopped at the end of
// the last complete transaction instead.
type txnCut struct {
	commit  event.LSN // the commit LSN of the transaction cut short
	dropped int       // decoded messages of it that were not handed to the publisher
}

// stopReport is how a session that streamed stopped, for the final
// "stopped" line (runExit).
type stopReport struct {
	lsn     event.LSN // the final checkpoint, as persisted
	drained bool      // everything read was sent, acknowledged and checkpointed
	// undrained says what was not, when not drained (undrainedText), and
	// unacked counts the events handed to Kafka and not acknowledged.
	undrained string
	unacked   int
}

// drainContext returns a context that ends d after stop ends (or when
// cancel is called): the reader decodes under it, and reads on under it to
// the end of the transaction it stopped in, so that the stop itself cuts
// nothing that cannot be taken up again.
func drainContext(stop context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-stop.Done():
		case <-ctx.Done():
			return
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// decodeContext is the context a message is decoded under: the drain
// context once the loop has set it up, so that a stop does not cut a
// catalog look-up short (a message whose decoding failed would be lost to
// the reader that reads on to the commit).
func (r *reader) decodeContext(ctx context.Context) context.Context {
	if r.drain != nil {
		return r.drain
	}
	return ctx
}

// cutTxn records that the stop came inside a transaction whose commit was
// not read in time, and drops what was decoded of it and not yet handed to
// the publisher (every message of the batch belongs to it: the batch is
// handed over at every commit and keepalive). The publisher's open
// transaction is never committed in the tracker, so the checkpoint stays
// before it.
func (r *reader) cutTxn() {
	r.cut = &txnCut{commit: r.txCommit, dropped: len(r.batch)}
	clear(r.batch)
	r.batch, r.batchBytes = r.batch[:0], 0
}

// shutdown drains what is in flight (bounded), persists the final watermark
// and confirms it to Postgres. readErr nil means a graceful stop. It
// records how the stop went in s.stop; Run writes the "stopped" line when
// the process stops (runExit), so that a session that restarts does not.
//
// stop is the Run's context: when it has not ended and readErr is not
// fatal, the process goes on with a new session. readErr is returned as a
// postgresGoneError when PostgreSQL went away (postgresGone), so that the
// "pipeline halted" line says so. A checkpoint save that fails here is the
// "final checkpoint" only when the process stops (an error); when it goes
// on, a warning says where the next session resumes (logEndSave).
func (s *session) shutdown(stop context.Context, readErr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	onward := goesOn(stop, readErr)
	readErr = postgresGone(readErr, s.repl != nil && s.repl.IsClosed(), s.cfg.Checkpoint.Store == "postgres")
	drained := readErr == nil && s.reader.cut == nil && !s.reader.abandoned
	s.sinkClosed = true
	if err := s.sink.Close(ctx); err != nil {
		drained = false
		if readErr == nil {
			s.log.Warn().Err(err).Msg("not everything in flight was acknowledged before shutdown; it will be re-sent on restart")
		}
	}
	if err := s.committer.Flush(ctx); err != nil {
		s.logEndSave(err, onward)
		drained = false
		if readErr == nil {
			readErr = err
		}
	}
	lsn := s.committer.Persisted()
	if err := s.stream.SendStatus(ctx, s.retain.confirm(time.Now(), lsn)); err != nil {
		s.log.Debug().Err(err).Msg("final status update not sent")
	} else if err := s.stream.Finish(ctx); err != nil {
		s.log.Debug().Err(err).Msg("replication stream not ended cleanly")
	}
	s.logCut()
	s.stop = &stopReport{lsn: lsn, drained: drained}
	if !drained {
		s.stop.unacked, _, _ = s.tracker.Stats()
		s.stop.undrained = s.undrainedText(readErr, s.stop.unacked, lsn)
	}
	return readErr
}

// goesOn reports whether the process goes on with a new session after a
// session that ended with readErr: it halted (readErr not nil, not fatal)
// and the Run was not stopped (stop not ended).
func goesOn(stop context.Context, readErr error) bool {
	return readErr != nil && stop.Err() == nil && !IsFatal(readErr)
}

// logEndSave logs err, the failed save of the checkpoint as a session
// ended. When the process stops (not goesOn) it was the final checkpoint:
// an error. When the process goes on with a new session (the session
// halted), it is a warning saying from which checkpoint, the last one
// saved, that session resumes: what was acknowledged after it is sent
// again, nothing is lost.
func (s *session) logEndSave(err error, goesOn bool) {
	if !goesOn {
		s.log.Error().Err(err).Msg("final checkpoint failed")
		return
	}
	resume, _ := s.checkpointAt()
	if s.found {
		resume = max(resume, s.stored.LSN)
	}
	ev := s.log.Warn().Err(postgresGone(err, false, s.cfg.Checkpoint.Store == "postgres")).Stringer("resume_lsn", resume)
	var save *checkpoint.SaveError
	if errors.As(err, &save) {
		ev = ev.Stringer("unsaved_lsn", save.LSN)
	}
	ev.Msg("checkpoint not saved as the session ended; the next session resumes from the last checkpoint saved " +
		"(resume_lsn) and sends again what was acknowledged after it")
}

// undrainedText says, for the "stopped" line, why a stop did not drain and
// what of it is sent again: how the session ended (readErr: it halted),
// the events Kafka did not acknowledge (unacked) and how far the reader
// read past the checkpoint lsn.
func (s *session) undrainedText(readErr error, unacked int, lsn event.LSN) string {
	var why string
	switch {
	case readErr != nil:
		why = "the pipeline halted (see its error above)"
	case s.reader.cut != nil:
		why = fmt.Sprintf("the stop came inside the transaction committed at %s", s.reader.cut.commit)
	case s.reader.abandoned:
		why = "the drain deadline passed"
	default:
		why = "the final acknowledgements or checkpoint failed (see the warning above)"
	}
	if unacked > 0 {
		why += fmt.Sprintf("; %d events handed to Kafka were not acknowledged", unacked)
	}
	if rcv := s.tracker.Received(); rcv > lsn {
		why += fmt.Sprintf("; changes were read up to %s, past the checkpoint", rcv)
	}
	return why + fmt.Sprintf("; what was read after the checkpoint %s is read and sent again at the next start", lsn)
}

// logCut logs a stop inside a transaction (txnCut), with how many of its
// events were sent to Kafka, and a failure the drain deadline ended.
func (s *session) logCut() {
	r := &s.reader
	c := r.cut
	if c == nil {
		if r.cutErr != nil {
			s.log.Warn().Err(r.cutErr).Msg("stopping: a step failed after the drain deadline; what was not acknowledged is sent again after restart")
		}
		return
	}
	ev := s.log.Warn().Stringer("commit_lsn", c.commit).Uint64("events_sent", r.pub.openTxnEvents()).
		Int("not_sent", c.dropped).Float64("drain_timeout_seconds", logfield.Seconds(finishTxnTimeout))
	if r.cutErr != nil {
		ev = ev.AnErr("drain_error", r.cutErr)
	}
	ev.Msg(msgStoppedInTxn)
}

// openTxnEvents returns how many events of the transaction still open (its
// commit not processed) the publisher handed to the sink; 0 when none is
// open. Read after the publisher's done is closed.
func (p *publisher) openTxnEvents() uint64 {
	if p.txn == nil {
		return 0
	}
	return p.sent - p.txBase
}

// checkpointAt returns the checkpoint s ended with: the persisted one once
// it streamed, else the one it loaded (known false when there was none, it
// did not get that far, or s is nil).
func (s *session) checkpointAt() (lsn event.LSN, known bool) {
	switch {
	case s == nil:
		return 0, false
	case s.stop != nil:
		return s.stop.lsn, true
	case s.streamed && s.committer != nil:
		return s.committer.Persisted(), true
	}
	return s.stored.LSN, s.found
}
