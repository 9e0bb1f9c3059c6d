package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// gapSetup is a relay over e2e_marker and gap_rows that has published row 1
// and stopped cleanly, leaving a stored checkpoint equal to the slot.
type gapSetup struct {
	cfg  *relayConfig
	conn *pgx.Conn
	col  *collector
	cp   pglogrepl.LSN // the stored checkpoint after the clean stop
}

func newGapSetup(t *testing.T) *gapSetup {
	t.Helper()
	dsn := newDatabase(t)
	brokers := kafkaBrokers(t)
	g := &gapSetup{conn: connect(t, dsn)}
	mustExec(t, g.conn, markerDDL+`CREATE TABLE gap_rows (id bigint PRIMARY KEY, note text NOT NULL);`)
	g.cfg = newRelayConfig(t, dsn, brokers, markerTable, "public.gap_rows")
	g.col = newCollector(t, brokers, g.cfg.topics()...)
	r := startRelay(t, g.cfg)
	mustExec(t, g.conn, "INSERT INTO gap_rows VALUES (1, 'before the gap')")
	catchUp(t, g.cfg, g.conn, g.col, g.col, time.Minute)
	if code, took := r.term(); code != 0 {
		t.Fatalf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
	if slot := inactiveSlot(t, g.conn, g.cfg.Slot); slot != g.cfg.mustCheckpoint() {
		t.Fatalf("after a clean stop the slot is at %s, the checkpoint at %s", slot, g.cfg.mustCheckpoint())
	}
	g.cp = g.cfg.mustCheckpoint()
	return g
}

// refused starts walrelay without --allow-gap, expects it to exit non-zero
// within 60 s and returns its error line.
func (g *gapSetup) refused(t *testing.T) string {
	t.Helper()
	r := spawnRelay(t, g.cfg)
	code := r.waitExit(60 * time.Second)
	line := errorLine(r.output())
	t.Logf("refused start: exit %d: %s", code, line)
	if code == 0 {
		t.Errorf("walrelay run over a gap exited 0, want non-zero")
	}
	if r.findLog("streaming") != nil {
		t.Errorf("walrelay streamed over a gap without --allow-gap")
	}
	if cp := g.cfg.mustCheckpoint(); cp != g.cp {
		t.Errorf("the refused start moved the checkpoint from %s to %s", g.cp, cp)
	}
	return line
}

// acceptAndVerify starts with --allow-gap, checks it logs the accepted gap
// and streams from want (0: any position), publishes a row written after the gap but not the row lost
// in it, and that a later start needs no flag.
func (g *gapSetup) acceptAndVerify(t *testing.T, want pglogrepl.LSN) {
	t.Helper()
	r := startRelay(t, g.cfg, "--allow-gap")
	if start := r.findLog("streaming")["start_lsn"]; want != 0 && start != want.String() {
		t.Errorf("--allow-gap streams from %v, want the slot's position %s", start, want)
	}
	if r.findLog("accepting a gap") == nil {
		t.Errorf("--allow-gap accepted the gap without a log line saying so; log tail:\n%s", g.cfg.logTail(10))
	}
	mustExec(t, g.conn, "INSERT INTO gap_rows VALUES (3, 'after the gap')")
	catchUp(t, g.cfg, g.conn, g.col, g.col, time.Minute)
	got := map[string]int{}
	for _, rc := range g.col.recs {
		if rc.Topic == g.cfg.topic("public.gap_rows") {
			got[rc.Key]++
		}
	}
	if got["id=1"] == 0 || got["id=3"] == 0 || got["id=2"] != 0 {
		t.Errorf("gap_rows records per key %v: want id=1 (before) and id=3 (after the gap), not id=2 (lost in it)", got)
	}
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay --allow-gap exit code %d %s after SIGTERM, want 0", code, took)
	}
	r = startRelay(t, g.cfg) // the gap was accepted once: no flag needed any more
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}

// TestResilienceGaps: invariant 6. The slot advanced by hand past the stored
// checkpoint, or dropped while a checkpoint exists: `walrelay run` refuses
// to start, exits non-zero and says what was lost and what to do; with
// --allow-gap it starts, and the changes made in the gap are not published.
func TestResilienceGaps(t *testing.T) {
	t.Parallel()
	t.Run("slot advanced", func(t *testing.T) {
		t.Parallel()
		g := newGapSetup(t)
		mustExec(t, g.conn, "INSERT INTO gap_rows VALUES (2, 'lost in the gap')")
		mustExec(t, g.conn, "SELECT pg_replication_slot_advance($1, pg_current_wal_lsn())", g.cfg.Slot)
		slot := inactiveSlot(t, g.conn, g.cfg.Slot)
		if slot <= g.cp {
			t.Fatalf("pg_replication_slot_advance left the slot at %s, checkpoint %s", slot, g.cp)
		}
		line := g.refused(t)
		requireWords(t, "the refusal", line, g.cfg.Slot, "checkpoint", "lost", "--allow-gap", slot.String(), g.cp.String())
		if after := inactiveSlot(t, g.conn, g.cfg.Slot); after != slot {
			t.Errorf("the refused start moved the slot from %s to %s", slot, after)
		}
		g.acceptAndVerify(t, slot)
	})
	t.Run("slot dropped", func(t *testing.T) {
		t.Parallel()
		g := newGapSetup(t)
		mustExec(t, g.conn, "SELECT pg_drop_replication_slot($1)", g.cfg.Slot)
		mustExec(t, g.conn, "INSERT INTO gap_rows VALUES (2, 'lost in the gap')")
		line := g.refused(t)
		requireWords(t, "the refusal", line, g.cfg.Slot, "missing", "checkpoint", "lost", "--allow-gap", g.cp.String())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, _, err := slotState(ctx, g.conn, g.cfg.Slot); err == nil {
			t.Errorf("the refused start created slot %s", g.cfg.Slot)
		}
		g.acceptAndVerify(t, 0)
	})
}
