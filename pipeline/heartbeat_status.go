package pipeline

import "time"

// fillHeartbeat adds to st the end-to-end lag h measures (the Run's: it
// outlives sessions, and a heartbeat waiting for its acknowledgement makes
// it grow while the pipeline is down) and the heartbeat interval every, so
// that every status report, periodic or written at a halt, at a session's
// start or while a slot is created, says what walrelay_heartbeat_lag_seconds
// says, and a report without a lag tells "none acknowledged yet" from
// "heartbeats off". It returns the lag, ok false if none was measured yet.
func fillHeartbeat(st *Status, h *heartbeatLag, every time.Duration) (time.Duration, bool) {
	if every > 0 {
		st.HeartbeatIntervalMS = max(every.Milliseconds(), 1)
	}
	lag, at, waiting := h.read()
	if at.IsZero() {
		return 0, false
	}
	ms := lag.Milliseconds()
	st.HeartbeatLagMS, st.HeartbeatAt, st.HeartbeatWaiting = &ms, at, waiting
	return lag, true
}
