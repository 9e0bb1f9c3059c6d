package pipeline

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestHeartbeatLagGrowsThroughHaltLoop: while the pipeline halts and
// restarts in a loop (an incompatible schema change), nothing is delivered,
// so walrelay_heartbeat_lag_seconds and the status reports grow with wall
// time from the first halt, through the restarted sessions that halt again
// before they deliver a heartbeat, until Kafka acknowledges one emitted
// since. Before, they kept the last measurement (the audit: 0.096 s for
// 41 s), or read 0 in a process that halted in its first session.
func TestHeartbeatLagGrowsThroughHaltLoop(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		acked time.Duration // the lag measured before the halt; 0: none in this process
	}{{"after a measured lag", 96 * time.Millisecond}, {"halted in the first session", 0}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			s := lagSession(t, &out)
			s.cfg.Heartbeat.Interval = 2 * time.Second
			defer s.rs.close() // ends the progress writer the halt starts
			m := newMetrics()
			m.streaming(s)
			if c.acked > 0 {
				s.rs.heartbeat.set(c.acked, time.Now().Add(-time.Second))
			}
			gauge := func() float64 { return gaugeValue(t, m, "walrelay_heartbeat_lag_seconds") }

			m.ended(s)
			halt := time.Now()
			s.rs.halted(s, errors.New("incompatible schema change"), time.Now().Add(time.Second))
			first := waitGauge(t, gauge, c.acked.Seconds()+0.15, "after the halt")
			s.rs.starting(s)
			m.streaming(s) // the restarted session, which halts again
			m.ended(s)
			s.rs.halted(s, errors.New("incompatible schema change"), time.Now().Add(2*time.Second))
			second := waitGauge(t, gauge, first+0.15, "after the second halt")
			if wall := time.Since(halt).Seconds(); second > wall+0.01 {
				t.Errorf("heartbeat lag %.3f s, more than the %.3f s since the first halt", second, wall)
			}
			st, err := ReadStatus(s.cfg.DataDir)
			if err != nil {
				t.Fatal(err)
			}
			if st.HeartbeatLagMS == nil || !st.HeartbeatWaiting || st.HeartbeatAt.Before(halt.Add(-time.Second)) {
				t.Errorf("status of the second halt: lag %s ms of %s, waiting %v; want the wait since the first halt (%s)",
					fmtMS(st.HeartbeatLagMS), st.HeartbeatAt, st.HeartbeatWaiting, halt.UTC())
			}

			s.rs.heartbeat.set(40*time.Millisecond, time.Now().Add(-40*time.Millisecond)) // recovered: one emitted since
			if lag := gauge(); lag != 0.04 {
				t.Errorf("heartbeat lag %.3f s once a heartbeat emitted after the halt is acknowledged; want 0.040", lag)
			}
		})
	}
}

// waitGauge waits up to 3 s for gauge to reach want, and returns it.
func waitGauge(t *testing.T, gauge func() float64, want float64, what string) float64 {
	t.Helper()
	var got float64
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = gauge(); got >= want {
			return got
		}
	}
	t.Fatalf("%s: walrelay_heartbeat_lag_seconds %.3f after 3 s, want it growing past %.3f", what, got, want)
	return got
}

// TestEmittedHeartbeatWaits: a heartbeat counts as waiting for its
// acknowledgement once it is in the WAL, not only once the reader reaches
// it: a session that halts (or is stuck) before it reads its own
// heartbeat shows the lag growing from the emission. Before, the lag
// stayed at its last value, or unmeasured in a first session.
func TestEmittedHeartbeatWaits(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	var out bytes.Buffer
	s := lagSession(t, &out)
	s.cfg.Postgres.DSN = dsn
	before := time.Now().Add(-time.Millisecond)
	if err := s.emitHeartbeat(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, at, waiting := s.rs.heartbeat.read()
	if !waiting || at.Before(before) || at.After(time.Now()) {
		t.Errorf("after emitting a heartbeat: waiting %v for the heartbeat of %s; want waiting for the one just emitted", waiting, at)
	}
}
