package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestResiliencePostgresRestart: while two clients write (reconnecting and
// retrying through the outages, recording only what committed), the
// PostgreSQL server is restarted in fast mode and then in immediate mode (a
// crash). The relay process stays up and streams again after each restart
// by itself; afterwards every committed change is in Kafka in commit order
// per key (duplicates dropped by ce_id) and the ledger matches the tables.
func TestResiliencePostgresRestart(t *testing.T) {
	t.Parallel()
	pg := testenv.PrivatePG(t)
	dev := pg.Devenv()
	dsn := pg.NewDatabase(t)
	brokers := kafkaBrokers(t)
	testenv.ExecDSN(t, dsn, wlDDL+txlogDDL)
	cfg := newRelayConfig(t, dsn, brokers, wlCaptured...)
	r := startRelay(t, cfg)
	w := newWorkload(dsn)
	rw := startRetryWriter(w, 2, 2*time.Millisecond)
	t.Cleanup(rw.stop) // on an early failure

	for _, mode := range []string{"fast", "immediate"} {
		time.Sleep(3 * time.Second)
		streams, ops := r.countLog("streaming"), w.ops.Load()
		start := time.Now()
		if err := dev.Restart(mode); err != nil {
			t.Fatalf("restart PostgreSQL (%s): %v", mode, err)
		}
		took := time.Since(start)
		waitStreams(t, r, streams+1, 90*time.Second)
		t.Logf("restart (%s) took %s; the relay streams again %s after it began; %d changes committed before it",
			mode, took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), ops)
	}
	time.Sleep(2 * time.Second)
	rw.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("writers: %d changes in %d transactions; %d failed attempts, %d of which had committed",
		w.ops.Load(), w.commits.Load(), rw.failures.Load(), rw.committed.Load())
	if rw.failures.Load() == 0 {
		t.Errorf("the writers never saw a failure: the restarts did not interrupt them")
	}
	if r.exited() {
		t.Fatalf("walrelay exited (%v); it should reconnect by itself", r.state)
	}
	if n := r.countLog("pipeline halted; restarting from the checkpoint"); n < 2 {
		t.Errorf("%d \"pipeline halted\" log lines for two server restarts, want at least 2", n)
	}
	// Each restarted session continues the producer with the next epoch,
	// which fences whatever the previous session left in flight.
	if n := r.countLog("kafka: idempotent producer, epoch bumped: requests of the previous session still in flight are refused"); n < 2 {
		t.Errorf("%d epoch bumps for at least two restarted sessions", n)
	}

	conn := connect(t, dsn)
	col := newCollector(t, brokers, cfg.topics()...)
	catchUp(t, cfg, conn, col, col, 3*time.Minute)
	st := verifyWorkload(t, cfg, col, w)
	checkWorkloadDB(t, dsn, w)
	t.Logf("stream: %+v", st)
	if st.changes < int(w.ops.Load()) {
		t.Errorf("%d distinct change events for %d committed changes", st.changes, w.ops.Load())
	}
	// The progress line (and status.json) count the process's events across
	// its restarted sessions, not the latest session's alone.
	line := r.waitLogCount("progress", len(r.logLines("progress"))+1, 30*time.Second)
	if events, _ := line["events"].(float64); int(events) < st.changes {
		t.Errorf("the progress line counts %v events after the restarts, fewer than the %d distinct ones published", line["events"], st.changes)
	}
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}

// waitStreams waits until the relay has logged "streaming" at least n times.
func waitStreams(t *testing.T, r *relay, n int, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for r.countLog("streaming") < n {
		if r.exited() {
			t.Fatalf("walrelay exited (%v) instead of reconnecting; log tail:\n%s", r.state, r.cfg.logTail(30))
		}
		select {
		case <-ctx.Done():
			t.Fatalf("walrelay did not stream again within %s; log tail:\n%s", timeout, r.cfg.logTail(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
