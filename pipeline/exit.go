package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
)

// runExit collects what the last line of a Run says ("stopped"): the
// sessions it ended with and the error the stop cut a session short with.
type runExit struct {
	last     *session // the last session that ended; nil if none did
	streamed *session // the last session that streamed; nil if none did
	stopErr  error    // what the session a stop ended returned
}

// ended records s, a session that has ended.
func (x *runExit) ended(s *session) {
	x.last = s
	if s.streamed {
		x.streamed = s
	}
}

// drained reports whether everything the Run handed to Kafka was
// acknowledged and checkpointed, and if not, what was not and how many
// events Kafka did not acknowledge. Only the last session that streamed
// counts: a later one that did not stream read nothing, and the one
// before it left nothing that it did not send again. So a stop during
// the backoff after a halt is not drained: what the halted session read
// after its checkpoint is read and sent again at the next start. Nor is a
// stop during a snapshot (the last session ended inside one): its rows
// are all sent again.
func (x *runExit) drained() (ok bool, what string, unacked int) {
	if sn := x.last.snapshotInterrupted(); sn != nil {
		if x.last.tracker != nil {
			unacked, _, _ = x.last.tracker.Stats()
		}
		return false, fmt.Sprintf("the snapshot ended before it completed (%d of %d rows sent): no checkpoint marks it complete, "+
			"so the next start takes it again and sends its rows again", sn.RowsDone, sn.RowsTotal), unacked
	}
	s := x.streamed
	switch {
	case s == nil:
		return true, "", 0
	case s.stop == nil:
		return false, "the session ended without a final checkpoint", 0
	}
	return s.stop.drained, s.stop.undrained, s.stop.unacked
}

// checkpoint is the last checkpoint the Run knows of.
func (x *runExit) checkpoint() (event.LSN, bool) {
	if lsn, known := x.last.checkpointAt(); known {
		return lsn, true
	}
	return x.streamed.checkpointAt()
}

// log writes the last line of a Run that returns err: "stopped", at any
// log.level, with the reason (the signal, or "error" with the error itself
// and exit_code 1), the checkpoint when one is known and whether the Run
// drained (with what was not, and snapshot_interrupted when it ended
// inside a snapshot). An error the stop cut a session short with
// is logged before it.
func (x *runExit) log(ctx context.Context, log zerolog.Logger, err error) {
	switch se := x.stopErr; {
	case se == nil:
	case errors.Is(se, context.Canceled):
		log.Debug().Err(se).Msg("stopping: the stop cut the session short")
	default:
		log.Error().Err(se).Msg("stopping after an error; what was not acknowledged by Kafka is sent again after restart")
	}
	var ev *zerolog.Event
	if err != nil {
		ev = log.Error().Err(err).Str("reason", "error").Int("exit_code", 1)
	} else {
		info := always(log)
		ev = info.Info().Str("reason", stopReason(ctx)).Int("exit_code", 0)
	}
	ok, what, unacked := x.drained()
	ev = ev.Bool("drained", ok)
	if x.last.snapshotInterrupted() != nil {
		ev = ev.Bool("snapshot_interrupted", true)
	}
	if !ok {
		ev = ev.Str("not_drained", what).Int("unacked_events", unacked)
	}
	if lsn, known := x.checkpoint(); known {
		ev = ev.Stringer("lsn", lsn)
	}
	ev.Msg("stopped")
}

// LogExit writes the "stopped" line of a `walrelay run` that fails before
// Run (Run writes its own): err, as an error with exit_code 1.
func LogExit(log zerolog.Logger, err error) {
	(&runExit{}).log(context.Background(), log, err)
}

// stopReason says why a Run without an error ended: the signal that ended
// ctx ("terminated signal received"), "stop requested" when ctx ended
// otherwise, or a finished snapshot.mode initial_only.
func stopReason(ctx context.Context) string {
	cause := context.Cause(ctx)
	switch {
	case cause != nil && cause != context.Canceled: // a signal's cause Is context.Canceled too
		return cause.Error()
	case ctx.Err() != nil:
		return "stop requested"
	}
	return "snapshot.mode initial_only: the snapshot is published"
}

// always returns log, lowered to info level if it is set above it (warn,
// error), so that the "stopped" line prints whatever log.level says.
func always(log zerolog.Logger) zerolog.Logger {
	if lvl := log.GetLevel(); lvl > zerolog.InfoLevel && lvl < zerolog.NoLevel {
		return log.Level(zerolog.InfoLevel)
	}
	return log
}
