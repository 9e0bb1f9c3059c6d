package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/testenv"
)

// idleBulk is one statement of the idle test's writers: about 1 MB of WAL.
const idleBulk = `INSERT INTO bulk (pad) SELECT repeat(md5(g::text), 28) FROM generate_series(1, 1000) g`

// TestResilienceIdleAdvance: the relay captures only e2e_marker, while an
// uncaptured table of its database and a table of another database in the
// same cluster get 40 MB of WAL, 2 MB every 0.4 s (no heartbeats). The slot's
// confirmed_flush_lsn must keep moving during that time, end up close to the
// server's WAL position, and the WAL the slot retains (pg_current_wal_lsn()
// - restart_lsn) must come down below 4 MB. CHECKPOINTs make the server log
// the running-transactions records that let restart_lsn move at all (they
// come every 15 s otherwise); without the relay's idle advance the slot would
// stay where the marker left it and retain all 40 MB.
//
// A private cluster: a long transaction of another test would hold every
// logical slot's restart_lsn back.
func TestResilienceIdleAdvance(t *testing.T) {
	t.Parallel()
	pg := testenv.PrivatePG(t)
	dsn, other := pg.NewDatabase(t), pg.NewDatabase(t)
	brokers := kafkaBrokers(t)
	conn, oconn := connect(t, dsn), connect(t, other)
	bulkDDL := `CREATE TABLE bulk (id bigserial PRIMARY KEY, pad text NOT NULL);`
	mustExec(t, conn, markerDDL+bulkDDL)
	mustExec(t, oconn, bulkDDL)
	cfg := newRelayConfig(t, dsn, brokers, markerTable)
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	catchUp(t, cfg, conn, col, col, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c0, _, err := slotLSNs(ctx, conn, cfg.Slot)
	if err != nil {
		t.Fatal(err)
	}

	w0 := currentLSN(t, conn)
	moves, last := 0, c0
	for start := time.Now(); currentLSN(t, conn)-w0 < 40<<20; {
		if time.Since(start) > time.Minute {
			t.Fatalf("wrote only %d bytes of WAL in a minute, want 40 MB", currentLSN(t, conn)-w0)
		}
		mustExec(t, conn, idleBulk)
		mustExec(t, oconn, idleBulk)
		mustExec(t, conn, "CHECKPOINT")
		c, _, err := slotLSNs(ctx, conn, cfg.Slot)
		if err != nil {
			t.Fatal(err)
		}
		if c > last {
			moves++
			last = c
		}
		time.Sleep(400 * time.Millisecond)
	}
	written := currentLSN(t, conn) - w0
	t.Logf("wrote %d MB of WAL to uncaptured tables; the slot's confirmed_flush_lsn moved %d times, %s -> %s",
		written>>20, moves, c0, last)
	if moves < 3 {
		t.Errorf("the slot's confirmed_flush_lsn moved only %d times while uncaptured tables were written (from %s to %s)", moves, c0, last)
	}
	waitRetained(t, ctx, conn, cfg.Slot, 4<<20, 30*time.Second)
	if r.exited() {
		t.Fatalf("walrelay exited (%v)", r.state)
	}
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
	if n := len(col.topicsWithPrefix(cfg.TopicPrefix)); n != 1 {
		t.Errorf("%d topics with prefix %s, want only the marker's", n, cfg.TopicPrefix)
	}
}

// waitRetained waits until the slot's confirmed_flush_lsn is within 1 MB of
// the server's WAL position and the WAL it retains is below limit, issuing a
// CHECKPOINT every second; it fails the test after timeout with the last
// values seen.
func waitRetained(t *testing.T, ctx context.Context, conn *pgx.Conn, slot string, limit uint64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		mustExec(t, conn, "CHECKPOINT")
		confirmed, restart, err := slotLSNs(ctx, conn, slot)
		if err != nil {
			t.Fatal(err)
		}
		cur := currentLSN(t, conn)
		lag, retained := uint64(cur-confirmed), uint64(cur-restart)
		if lag < 1<<20 && retained < limit {
			t.Logf("slot %s: %d bytes behind the server's WAL, retains %d bytes", slot, lag, retained)
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("after %s the slot is %d bytes behind the server's WAL (confirmed_flush_lsn %s, current %s) "+
				"and retains %d bytes (restart_lsn %s), want < 1 MB and < %d", timeout, lag, confirmed, cur, retained, restart, limit)
			return
		}
		time.Sleep(time.Second)
	}
}
