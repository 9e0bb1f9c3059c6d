package e2e

import (
	"context"
	"testing"
	"time"
)

// TestPublicationDroppedExits: DROP PUBLICATION by hand while walrelay
// streams. PostgreSQL decodes the WAL after the drop with the catalog of its
// time, which has no publication, so no restart can stream past it (the
// audit's endless halt loop). walrelay exits 1 at once, saying what happened
// and the way past the gap; dropping the slot and starting with
// --allow-gap, as the message says, streams again.
func TestPublicationDroppedExits(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL+`CREATE TABLE pd_rows (id bigint PRIMARY KEY, note text NOT NULL);`)
	cfg := newRelayConfig(t, dsn, brokers, markerTable, "public.pd_rows")
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO pd_rows VALUES (1, 'before the drop')")
	catchUp(t, cfg, conn, col, col, time.Minute)

	mustExec(t, conn, "DROP PUBLICATION "+cfg.Publication)
	mustExec(t, conn, "INSERT INTO pd_rows VALUES (2, 'after the drop')")
	if code := r.waitExit(30 * time.Second); code != 1 {
		t.Fatalf("walrelay exit code %d after DROP PUBLICATION, want 1; log tail:\n%s", code, cfg.logTail(20))
	}
	line := errorLine(r.output())
	t.Logf("exit 1: %s", line)
	requireWords(t, "the exit error", line, `publication "`+cfg.Publication+`" was dropped`, "cannot be decoded",
		"pg_drop_replication_slot('"+cfg.Slot+"')", "snapshot.mode: when_needed", "--allow-gap")
	if n := r.countLog("pipeline halted; restarting from the checkpoint"); n != 0 {
		t.Errorf("walrelay retried %d times a stream no restart can fix, want an exit", n)
	}

	cfg.dropSlot()
	r = startRelay(t, cfg, "--allow-gap")
	mustExec(t, conn, "INSERT INTO pd_rows VALUES (3, 'after the way past the gap')")
	catchUp(t, cfg, conn, col, col, time.Minute)
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay --allow-gap exit code %d %s after SIGTERM, want 0", code, took)
	}
}

// TestIdleInTransactionTimeoutFirstStart: a role with
// idle_in_transaction_session_timeout set (here 200ms, in the test's
// database only) completes its first start: the walsender that exported the
// initial snapshot sits idle in that transaction while the snapshot is read,
// and walrelay's connections turn the timeout off for themselves (the audit
// saw exit 1 at START_REPLICATION after a completed snapshot).
func TestIdleInTransactionTimeoutFirstStart(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL+`CREATE TABLE iit_rows (id bigint PRIMARY KEY, pad text NOT NULL);
		INSERT INTO iit_rows SELECT g, repeat('x', 100) FROM generate_series(1, 30000) g;`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	mustExec(t, conn, "ALTER ROLE CURRENT_USER IN DATABASE "+db+" SET idle_in_transaction_session_timeout = '200ms'")
	cfg := newRelayConfig(t, dsn, brokers, markerTable, "public.iit_rows")
	cfg.set("snapshot.parallelism", 1)
	cfg.set("snapshot.chunk_size", 2000)
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO iit_rows VALUES (0, 'after the snapshot')")
	catchUp(t, cfg, conn, col, col, time.Minute)
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}
