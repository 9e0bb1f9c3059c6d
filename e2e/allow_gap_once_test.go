package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestAllowGapOnce (audit m4): --allow-gap accepts the gap found when the
// process starts, not every gap for the life of the process. A slot dropped
// while that process streams loses the rows written before walrelay creates
// it again: the process exits 1, as it does without the flag, and its last
// line is the JSON "stopped" line with the gap error and the checkpoint.
func TestAllowGapOnce(t *testing.T) {
	t.Parallel()
	g := newGapSetup(t)
	mustExec(t, g.conn, "SELECT pg_drop_replication_slot($1)", g.cfg.Slot)
	r := startRelay(t, g.cfg, "--allow-gap")
	if n := r.countLog("accepting a gap"); n != 1 {
		t.Fatalf("--allow-gap logged %d accepted gaps at start, want 1", n)
	}
	mustExec(t, g.conn, "INSERT INTO gap_rows VALUES (3, 'after the accepted gap')")
	catchUp(t, g.cfg, g.conn, g.col, g.col, time.Minute)

	dropActiveSlot(t, g.conn, g.cfg.Slot)
	mustExec(t, g.conn, "INSERT INTO gap_rows VALUES (4, 'lost in the second gap')")
	for deadline := time.Now().Add(time.Minute); !r.exited(); time.Sleep(100 * time.Millisecond) {
		if r.countLog("accepting a gap") > 1 {
			t.Fatalf("a slot dropped while walrelay ran was accepted as a gap too (--allow-gap was given at start); log tail:\n%s",
				g.cfg.logTail(10))
		}
		if time.Now().After(deadline) {
			t.Fatalf("walrelay still runs a minute after its slot was dropped; log tail:\n%s", g.cfg.logTail(10))
		}
	}
	if code := r.waitExit(time.Second); code != 1 {
		t.Errorf("exit code %d after the second gap, want 1", code)
	}
	out := strings.TrimRight(r.output(), "\n")
	last := out[strings.LastIndex(out, "\n")+1:]
	stopped := r.findLog("stopped")
	if stopped == nil || !strings.Contains(last, `"message":"stopped"`) {
		t.Fatalf("the last line is not the JSON \"stopped\" line: %s", last)
	}
	requireWords(t, "the stopped line's error", fmt.Sprint(stopped["error"]), g.cfg.Slot, "missing", "--allow-gap")
	if cp := g.cfg.mustCheckpoint(); stopped["lsn"] != cp.String() || stopped["exit_code"] != 1.0 {
		t.Errorf("stopped line %v, want lsn %s (the stored checkpoint) and exit_code 1", stopped, cp)
	}
}

// dropActiveSlot ends the walsender that holds slot and drops the slot
// before walrelay's restart (after at least 0.5 s) can take it again.
func dropActiveSlot(t *testing.T, conn *pgx.Conn, slot string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mustExec(t, conn, `SELECT pg_terminate_backend(active_pid, 5000) FROM pg_replication_slots
		WHERE slot_name = $1 AND active_pid IS NOT NULL`, slot)
	for {
		_, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", slot)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("drop slot %s: %v", slot, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
