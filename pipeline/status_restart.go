package pipeline

import (
	"os"
	"time"
)

// halts is what a Run knows of its pipeline's halts, for the status reports:
// a pipeline that halts within seconds of every start never lives to write a
// periodic report, so the halt and the restart write their own.
type halts struct {
	count int       // halts that restarted the pipeline
	err   string    // the newest halt's error
	at    time.Time // when it halted
}

// fill adds the halts to st.
func (h *halts) fill(st *Status) {
	st.Halts, st.LastError, st.LastErrorAt = h.count, h.err, h.at
}

// halted records a halt of session s with err, and writes a status report
// saying that the pipeline restarts from the checkpoint at restartAt. Called
// by Run, between sessions. With heartbeats on, the end-to-end lag waits
// from the halt, as for a heartbeat emitted then: nothing is delivered until
// a session streams again and Kafka acknowledges a heartbeat emitted since,
// so the lag grows through a restart loop whose sessions halt before they
// emit or deliver one (the audit: it kept 0.096 s, or read 0 in a process
// that halted in its first session).
func (rs *runState) halted(s *session, err error, restartAt time.Time) {
	rs.halts.count++
	rs.halts.err, rs.halts.at = err.Error(), time.Now().UTC()
	if s.cfg.Heartbeat.Interval > 0 {
		rs.heartbeat.emitted(rs.halts.at)
	}
	st := rs.statusOf(s, StateRestarting)
	st.RestartAt = restartAt.UTC()
	rs.writeStatus(s, st)
	rs.down.down(s.log, st, idleLagOf(rs.metrics)) // progress_halt.go
}

// starting writes a status report saying that a restarted session is
// setting up. Called by Run before a session that follows a halt.
func (rs *runState) starting(s *session) {
	st := rs.statusOf(s, StateStarting)
	rs.writeStatus(s, st)
	rs.down.down(s.log, st, idleLagOf(rs.metrics))
}

// streamingStatus writes a status report as soon as s streams, so that a
// session that halts within seconds still leaves one. Called by session.run.
func (s *session) streamingStatus() {
	s.rs.down.up() // the reader's progress line takes over
	s.rs.writeStatus(s, s.rs.statusOf(s, StateStreaming))
}

// statusOf is a report of session s, which may have ended, in state: its
// checkpoint (the persisted one, else the one it started from), the
// process's published events, the halts and the Run's heartbeat lag.
// Nothing is in flight between sessions, and a starting session has sent
// nothing yet.
func (rs *runState) statusOf(s *session, state string) Status {
	st := Status{PID: os.Getpid(), Slot: s.cfg.Postgres.Slot, UpdatedAt: time.Now().UTC(), State: state,
		Events: rs.events, Snapshot: s.snapStatus}
	if lsn, ok := rs.checkpointOf(s); ok { // checkpoint_guard.go
		st.Checkpoint = lsn.String()
	}
	if state == StateStreaming && s.reader.pub != nil {
		st.Events += s.reader.pub.events.Load()
	}
	rs.halts.fill(&st)
	fillHeartbeat(&st, &rs.heartbeat, s.cfg.Heartbeat.Interval)
	return st
}

// writeStatus writes st for session s; a failure is logged at debug level,
// as the periodic report's is.
func (rs *runState) writeStatus(s *session, st Status) {
	if s.cfg.DataDir == "" {
		return
	}
	if err := WriteStatus(s.cfg.DataDir, st); err != nil {
		s.log.Debug().Err(err).Msg("status file not written")
	}
}
