package pipeline

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// TestStatusReportsCarryHeartbeatLag: every status report carries the
// Run's heartbeat lag, as walrelay_heartbeat_lag_seconds reads it, and
// heartbeat.interval. The reports written at a halt and at a restarted
// session's start carry the growing wait of a heartbeat Kafka has not
// acknowledged (the audit: with Kafka down, status said "set
// heartbeat.interval" while the gauge read 14 s), and a report written
// before any heartbeat was acknowledged says heartbeats are on.
func TestStatusReportsCarryHeartbeatLag(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	s := lagSession(t, &out)
	s.cfg.Heartbeat.Interval = 2 * time.Second
	defer s.rs.close() // ends the progress writer the halt starts
	read := func(what string) Status {
		t.Helper()
		st, err := ReadStatus(s.cfg.DataDir)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if st.HeartbeatIntervalMS != 2000 {
			t.Errorf("%s: heartbeat_interval_ms %d, want 2000", what, st.HeartbeatIntervalMS)
		}
		return st
	}

	s.streamingStatus()
	if st := read("streaming, no heartbeat yet"); st.HeartbeatLagMS != nil || st.HeartbeatWaiting {
		t.Errorf("streaming, no heartbeat yet: lag %s, waiting %v; want none", fmtMS(st.HeartbeatLagMS), st.HeartbeatWaiting)
	}

	emitted := time.Now().Add(-3 * time.Second).Truncate(time.Millisecond)
	s.rs.heartbeat.set(20*time.Millisecond, emitted.Add(-10*time.Second)) // one acknowledged earlier
	s.rs.heartbeat.emitted(emitted)                                       // then Kafka went down
	s.rs.halted(s, errors.New("kafka: cannot reach brokers"), time.Now().Add(time.Hour))
	for _, c := range []struct {
		what  string
		write func()
	}{
		{"halted", func() {}},
		{"starting", func() { s.rs.starting(s) }},
		{"periodic", s.reader.report},
	} {
		what := c.what
		c.write()
		st := read(what)
		if st.HeartbeatLagMS == nil || *st.HeartbeatLagMS < 3000 || !st.HeartbeatWaiting || !st.HeartbeatAt.Equal(emitted) {
			t.Errorf("%s: heartbeat lag %s ms of %s, waiting %v; want >= 3000 ms of the unacknowledged heartbeat of %s",
				what, fmtMS(st.HeartbeatLagMS), st.HeartbeatAt, st.HeartbeatWaiting, emitted)
		}
	}

	s.rs.heartbeat.set(3100*time.Millisecond, emitted) // Kafka is back and acknowledged it
	s.reader.report()
	if st := read("acknowledged"); st.HeartbeatLagMS == nil || *st.HeartbeatLagMS != 3100 || st.HeartbeatWaiting {
		t.Errorf("acknowledged: lag %s ms, waiting %v; want 3100, not waiting", fmtMS(st.HeartbeatLagMS), st.HeartbeatWaiting)
	}
}
