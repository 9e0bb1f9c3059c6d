package pipeline

import (
	"context"
	"errors"
	"time"
)

// maxRestartDelay caps the backoff between sessions.
const maxRestartDelay = 30 * time.Second

// Run streams until ctx is cancelled (SIGINT/SIGTERM), then drains what is in
// flight, writes a final checkpoint, logs "stopped" (logStopped: with the
// checkpoint and whether the stop drained; an error the stop met is logged
// before it) and returns nil, whichever way the stop went.
//
// A session that fails after it has streamed (Kafka retries exhausted, a lost
// connection, a store error) is restarted from the checkpoint after an
// exponential backoff with jitter. The backoff starts again from 1 s only
// after a healthy session (session.healthy): one that fails the same way each
// time (a record Kafka never takes, a schema the registry refuses) backs off
// up to maxRestartDelay instead of reconnecting every second. Errors before
// the first session streams, and fatal errors (bad config, privileges, a
// detected gap), are returned so the process exits non-zero with one clear
// line. Each halt that restarts is written to the status file at once, with
// the error, the halt count and when the restart is due, and so is each
// restarted session's start (status_restart.go). With postgres.standby, a
// session that finds the slot held by another walrelay is started again
// every standbyPoll instead, before the first stream too (standby.go).
func Run(ctx context.Context, opts Options) error {
	if dir := opts.Config.DataDir; dir != "" {
		unlock, err := lockDataDir(dir)
		if err != nil {
			return err
		}
		defer unlock()
	}
	rs := &runState{}
	defer rs.close() // the embedded registry outlives sessions
	if listen := opts.Config.Metrics.Listen; listen != "" {
		rs.metrics = newMetrics()
		stop, err := serveMetrics(ctx, listen, rs.metrics, opts.Log)
		if err != nil {
			return err
		}
		defer stop()
	}
	streamedOnce := false
	failures := 0
	var standby standbyWaiter
	var last *session // the last session that ended
	stopped := func() error {
		lsn, known := last.checkpointAt()
		logStopped(opts.Log, nil, nil, lsn, known)
		return nil
	}
	for {
		s := newSession(opts, rs)
		if last != nil && rs.halts.count > 0 {
			rs.starting(last)
		}
		err := s.run(ctx)
		rs.metrics.ended(s)
		if s.reader.pub != nil {
			rs.events += s.reader.pub.events.Load()
		}
		streamedOnce = streamedOnce || s.streamed
		if s.streamed {
			opts.ReplayFrom = 0 // a replay happens once; restarts resume from the checkpoint
		}
		last = s
		if ctx.Err() != nil {
			logStopped(opts.Log, s, err, 0, false)
			return nil
		}
		if err == nil {
			return nil
		}
		if opts.Config.Postgres.Standby && standbyWait(err) {
			rs.metrics.standbyWaiting(true)
			if !standby.wait(ctx, err, opts.Log) {
				return stopped()
			}
			failures = 0
			continue
		}
		if IsFatal(err) || !streamedOnce {
			return err
		}
		if errors.Is(err, errCatchupRestart) {
			opts.Log.Info().Msg("restarting the session to snapshot the tables added to the capture set")
			failures = 0
			continue
		}
		if s.healthy(maxRestartDelay) {
			failures = 0
		}
		delay := backoff(failures, time.Second, maxRestartDelay)
		failures++
		opts.Log.Error().Err(err).Dur("retry_in", delay).Int("halts", rs.halts.count+1).
			Msg("pipeline halted; restarting from the checkpoint")
		rs.metrics.restarting()
		rs.halted(s, err, time.Now().Add(delay))
		select {
		case <-ctx.Done():
			return stopped()
		case <-time.After(delay):
		}
	}
}
