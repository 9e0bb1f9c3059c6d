package e2e

import (
	"testing"
	"time"
)

// TestMixedLoadOrdered: four concurrent clients commit at least 50,000 row
// changes over three tables (one with a composite key, one with REPLICA
// IDENTITY FULL) in single-statement and multi-statement transactions, some
// rolled back, some with a rolled-back savepoint, some also writing an
// uncaptured table. After catch-up, every committed change is in Kafka and,
// after dropping duplicate ce_ids, each key's records are exactly its
// committed changes in commit order, deletes followed by tombstones.
func TestMixedLoadOrdered(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, wlDDL)
	cfg := newRelayConfig(t, dsn, brokers, wlCaptured...)
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topics()...)

	const target = 52_000
	w := newWorkload(dsn)
	start := time.Now()
	cl := w.run(4, target)
	t.Cleanup(cl.stop) // on an early failure
	done := make(chan struct{})
	go func() { cl.wait(); close(done) }()
	col.waitFor(5*time.Minute, "the workload to finish", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("workload: %d changes in %d committed and %d rolled-back transactions in %s",
		w.ops.Load(), w.commits.Load(), w.aborts.Load(), time.Since(start).Round(time.Millisecond))
	if w.ops.Load() < 50_000 || w.aborts.Load() == 0 {
		t.Fatalf("workload too small: %d changes, %d rollbacks", w.ops.Load(), w.aborts.Load())
	}

	ended := time.Now()
	catchUp(t, cfg, conn, col, col, 3*time.Minute)
	t.Logf("caught up %s after the workload ended", time.Since(ended).Round(time.Millisecond))
	st := verifyWorkload(t, cfg, col, w)
	checkWorkloadDB(t, dsn, w)
	noOtherTopics(t, col, cfg.TopicPrefix, cfg.topics())
	deletes := 0
	for _, es := range w.expected() {
		if es[len(es)-1].op == 'd' {
			deletes++
		}
	}
	if st.changes != int(w.ops.Load()) || st.tombstones != deletes {
		t.Errorf("%d distinct change events and %d tombstones, want %d and %d", st.changes, st.tombstones, w.ops.Load(), deletes)
	}
	t.Logf("stream: %+v", st)

	code, took := r.term()
	if code != 0 {
		t.Errorf("walrelay exit code %d after SIGTERM, want 0", code)
	}
	t.Logf("SIGTERM to exit: %s", took.Round(time.Millisecond))
}
