package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/pipeline"
)

// TestStopDuringSnapshotNotDrained (audit ops 6): SIGTERM during the
// initial snapshot. Every row it read is sent again at the next start
// (no checkpoint marks the snapshot complete), so the "stopped" line says
// drained false with snapshot_interrupted, and `walrelay status` says the
// snapshot and its table being read were interrupted, not "running".
// Before, the line said drained true and status kept the last periodic
// report's "running: 256 of N rows".
func TestStopDuringSnapshotNotDrained(t *testing.T) {
	t.Parallel()
	dsn, brokers, _ := newTestDB(t, "CREATE TABLE ops_big (id int PRIMARY KEY, v text);"+
		"INSERT INTO ops_big SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g")
	cfg := newRelayConfig(t, dsn, brokers, "public.ops_big")
	cfg.set("snapshot.parallelism", 1)
	cfg.set("snapshot.chunk_size", 1000)
	cfg.set("limits.max_inflight_events", 500)
	r := spawnRelay(t, cfg)
	r.waitLog("snapshot started", time.Minute)
	time.Sleep(300 * time.Millisecond)
	if code, took := r.term(); code != 0 {
		t.Fatalf("exit code %d %s after SIGTERM, want 0", code, took)
	}
	if r.findLog("snapshot completed") != nil {
		t.Fatal("the snapshot completed before SIGTERM; the test needs a slower snapshot")
	}
	st := r.findLog("stopped")
	if st == nil || st["drained"] != false || st["snapshot_interrupted"] != true ||
		!strings.Contains(st["not_drained"].(string), "the next start takes it again") {
		t.Errorf("stopped line %v; want drained false, snapshot_interrupted true and what is sent again", st)
	}
	if snap, err := pipeline.ReadSnapshotStatus(cfg.DataDir); err != nil || snap == nil || snap.State != pipeline.SnapshotInterrupted {
		t.Errorf("status file: snapshot %+v (%v); want it interrupted", snap, err)
	}
	out, errOut, code := runWalrelay(t, 30*time.Second, "status", "--config", cfg.path)
	if code != 0 || !regexp.MustCompile(`(?m)^snapshot\s+interrupted before it completed`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^\s+public\.ops_big\s+interrupted: \d+ of 100000 rows$`).MatchString(out) ||
		strings.Contains(out, "running:") {
		t.Errorf("walrelay status: exit %d, %s\n%s\nwant the snapshot and its table interrupted, nothing running", code, errOut, out)
	}
}
