package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/walrelay/walrelay/internal/logfield"
)

// maxRestartDelay caps the backoff between sessions.
const maxRestartDelay = 30 * time.Second

// Run streams until ctx is cancelled (SIGINT/SIGTERM), then drains what is in
// flight, writes a final checkpoint and returns nil, whichever way the stop
// went. Whichever way it returns, its last log line is "stopped" (runExit:
// the reason, the exit code, the checkpoint, whether everything read was
// acknowledged and checkpointed, and the error it returns), printed at any
// log.level.
//
// A session that fails after it has streamed (Kafka retries exhausted, a lost
// connection, a store error) is restarted from the checkpoint after an
// exponential backoff with jitter. The backoff starts again from 1 s only
// after a healthy session (session.healthy): one that fails the same way each
// time (a record Kafka never takes, a schema the registry refuses) backs off
// up to maxRestartDelay instead of reconnecting every second. Errors before
// the first session streams, and fatal errors (bad config, privileges, a
// detected gap), are returned so the process exits non-zero; a gap is
// accepted by opts.AllowGap only until a session has streamed and stored a
// checkpoint (the gap found at the start), so a later one is fatal too. A
// SIGHUP during the backoff restarts at once when the rules file loads
// (waitRestart). Each halt that restarts is written to the status file at
// once, with the error, the halt count and when the restart is due, and so
// is each restarted session's start (status_restart.go). With postgres.standby, a
// session that finds the slot held by another walrelay is started again
// every standbyPoll instead, before the first stream too (standby.go).
func Run(ctx context.Context, opts Options) error {
	var exit runExit
	err := run(ctx, opts, &exit)
	exit.log(ctx, opts.Log, err)
	return err
}

// run is Run without its last line, which exit collects the facts for.
func run(ctx context.Context, opts Options, exit *runExit) error {
	var lock *dataDirLock // lock_watch.go
	if dir := opts.Config.DataDir; dir != "" {
		var err error
		if lock, err = takeDataDirLock(dir); err != nil {
			return err
		}
		defer lock.release()
		defer lock.watch(ctx, opts.Log, lockWatchEvery)()
		if problem, fix := DataDirWarning(dir); problem != "" {
			opts.Log.Warn().Str("data_dir", dir).Str("fix", fix).Msg(problem)
		}
	}
	rs := &runState{lock: lock}
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
	for {
		s := newSession(opts, rs)
		if last := exit.last; last != nil && rs.halts.count > 0 {
			rs.starting(last)
		}
		err := s.run(ctx)
		rs.remember(s)
		rs.metrics.ended(s)
		if s.reader.pub != nil {
			rs.events += s.reader.pub.events.Load()
		}
		streamedOnce = streamedOnce || s.streamed
		rs.streamed = streamedOnce
		if s.streamed {
			opts.ReplayFrom = 0 // a replay happens once; restarts resume from the checkpoint
		}
		if s.streamed && s.committer.Persisted() != 0 {
			opts.AllowGap = false // it accepted the gap found at the start: a later one is fatal
		}
		exit.ended(s)
		if ctx.Err() != nil {
			exit.stopErr = err
			return nil
		}
		if err == nil {
			return nil
		}
		if opts.Config.Postgres.Standby && standbyWait(err) {
			rs.metrics.standbyWaiting(true)
			if !standby.wait(ctx, err, opts.Log) {
				return nil
			}
			failures = 0
			continue
		}
		if IsFatal(err) {
			return err
		}
		if !streamedOnce {
			return beforeFirstStream(err)
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
		err = haltError(s, err)
		opts.Log.Error().Err(err).Float64("retry_in_seconds", logfield.Seconds(delay)).Int("halts", rs.halts.count+1).
			Msg("pipeline halted; restarting from the checkpoint")
		rs.metrics.restarting()
		rs.halted(s, err, time.Now().Add(delay))
		if !waitRestart(ctx, opts, delay) {
			return nil
		}
	}
}
