package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestSlotInvalidated: PostgreSQL invalidates a slot that holds more WAL
// than max_slot_wal_keep_size (wal_status "lost"), here while walrelay is
// stopped and rows change. snapshot.mode initial then refuses to start,
// naming the cause and the ways out; when_needed drops the dead slot,
// snapshots again from a new one and streams on, so every key's last event
// is the row's current state.
func TestSlotInvalidated(t *testing.T) {
	t.Parallel()
	conn, cfg, r, col := startKeepSizeRelay(t)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	out, code := runCheck(t, cfg)
	requireWords(t, "check on a healthy slot", out, "ok    max_slot_wal_keep_size = 1MB", "ok    slot "+cfg.Slot+" holds ",
		"(wal_status reserved)")
	if code != 0 {
		t.Errorf("check on a healthy slot exited %d", code)
	}

	mustExec(t, conn, "UPDATE modes SET v = 3 WHERE id IN (2, 3); INSERT INTO modes VALUES (1001, 1)")
	invalidateSlot(t, conn, cfg.Slot)
	out, code = runCheck(t, cfg)
	requireProblem(t, out, `replication slot "`+cfg.Slot+`" was invalidated by PostgreSQL (wal_status lost)`,
		"snapshot.mode: when_needed", "pg_drop_replication_slot('"+cfg.Slot+"')", "--allow-gap")
	if code != 1 {
		t.Errorf("check on an invalidated slot exited %d, want 1", code)
	}
	status, errOut, code := runWalrelay(t, 30*time.Second, "status", "--config", cfg.path)
	if code != 0 || !regexp.MustCompile(`(?m)^slot state\s+invalidated: .*max_slot_wal_keep_size`).MatchString(status) ||
		!regexp.MustCompile(`(?m)^wal_status\s+lost$`).MatchString(status) {
		t.Errorf("walrelay status on an invalidated slot (exit %d):\n%s%s", code, status, errOut)
	}
	cfg.set("snapshot.mode", "initial")
	r = spawnRelay(t, cfg)
	code = waitExit(t, r, time.Minute)
	tail := cfg.logTail(5)
	for _, want := range []string{"invalidated", "max_slot_wal_keep_size", "when_needed", "pg_drop_replication_slot"} {
		if code == 0 || !strings.Contains(tail, want) {
			t.Errorf("initial over an invalidated slot: exit code %d, log lacks %q; tail:\n%s", code, want, tail)
		}
	}

	cfg.set("snapshot.mode", "when_needed")
	r = startRelay(t, cfg)
	if st := r.findLog("snapshot started"); st == nil || !strings.Contains(fmt.Sprint(st["reason"]), "invalidated") {
		t.Errorf("restart: snapshot started %v, want the invalidated slot as the reason", st)
	}
	mustExec(t, conn, "UPDATE modes SET v = 4 WHERE id = 4")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	rs := modesRecs(col, cfg)
	if got := countOps(rs); got["r"] != 2001 || got["u"] != 1 {
		t.Errorf("after the re-snapshot: records by op %v, want 1000 + 1001 reads and 1 update", got)
	}
	checkLastV(t, lastV(rs, cfg.topic("public.modes")), 1001, modesValues(map[int]string{2: "3", 3: "3", 4: "4"}))
}

// TestSlotInvalidatedWhileStreaming: walrelay falls behind while it runs
// (here it is stopped with SIGSTOP, as a process starved or stuck behind a
// long Kafka outage would be) until PostgreSQL invalidates its slot and
// terminates the walsender. Resumed, walrelay stays up: with when_needed it
// drops the dead slot, snapshots again and streams on, and every key ends at
// its current state.
func TestSlotInvalidatedWhileStreaming(t *testing.T) {
	t.Parallel()
	conn, cfg, r, col := startKeepSizeRelay(t)

	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP: %v", err)
	}
	mustExec(t, conn, "UPDATE modes SET v = 5 WHERE id <= 10")
	invalidateSlot(t, conn, cfg.Slot)
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT: %v", err)
	}
	st := r.waitLogCount("snapshot started", 2, time.Minute)
	if !strings.Contains(fmt.Sprint(st["reason"]), "invalidated") {
		t.Fatalf("snapshot started %v, want the invalidated slot as the reason", st)
	}
	mustExec(t, conn, "UPDATE modes SET v = 6 WHERE id = 1")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if r.exited() {
		t.Fatalf("walrelay exited (%v); it should have re-snapshotted", r.state)
	}
	checkLastV(t, lastV(col.recs, cfg.topic("public.modes")), 1000, func(id int) string {
		switch {
		case id == 1:
			return "6"
		case id <= 10:
			return "5"
		}
		return "1"
	})
}

// startKeepSizeRelay starts walrelay (snapshot.mode when_needed) on the
// modes table of a private cluster with max_slot_wal_keep_size 1MB (a
// cluster-wide setting), and waits until it streams everything.
func startKeepSizeRelay(t *testing.T) (*pgx.Conn, *relayConfig, *relay, *collector) {
	t.Helper()
	dsn, brokers, conn := newPrivateTestDB(t, modesDDL)
	mustExec(t, conn, "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
	mustExec(t, conn, "SELECT pg_reload_conf()")
	cfg := newRelayConfig(t, dsn, brokers, modesCaptured...)
	cfg.set("snapshot.mode", "when_needed")
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.modes"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	return conn, cfg, r, col
}

// newPrivateTestDB is newTestDB on a private cluster, for tests that change
// cluster-wide settings or restart it.
func newPrivateTestDB(t *testing.T, ddl string) (dsn string, brokers []string, conn *pgx.Conn) {
	t.Helper()
	dsn = testenv.PrivatePG(t).NewDatabase(t)
	conn = connect(t, dsn)
	mustExec(t, conn, ddl)
	return dsn, kafkaBrokers(t), conn
}

// invalidateSlot writes WAL past max_slot_wal_keep_size and checkpoints
// until PostgreSQL marks slot lost.
func invalidateSlot(t *testing.T, conn *pgx.Conn, slot string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		var status *string
		if err := conn.QueryRow(ctx, "SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&status); err != nil {
			t.Fatalf("slot %s: %v", slot, err)
		}
		if status != nil && *status == "lost" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot %s still %v after a minute of WAL switches", slot, status)
		}
		mustExec(t, conn, "CREATE TEMP TABLE IF NOT EXISTS walfill (x int); INSERT INTO walfill VALUES (1)")
		mustExec(t, conn, "SELECT pg_switch_wal()")
		mustExec(t, conn, "CHECKPOINT")
	}
}
