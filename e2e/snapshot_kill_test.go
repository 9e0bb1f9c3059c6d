package e2e

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/walrelay/walrelay/pipeline"
)

var snapKillRows = map[string]int{
	"snap_accounts": 250_000,
	"snap_orders":   150_000,
	"snap_items":    150_000,
	"snap_log":      50_000,
}

// TestSnapshotKilledAndRestarted: walrelay is SIGKILLed in the middle of the
// snapshot of 600,000 rows while two clients write. No checkpoint may exist
// then (a half-done snapshot is never taken for a complete one). While it is
// down, rows that the interrupted snapshot already published are deleted.
// The restart takes the snapshot again (from a snapshot exported by a
// temporary slot, since the slot exists) and streams from the slot's
// consistent point, leaving out what the new snapshot holds of what
// happened meanwhile (snapshot_order_test.go): after catch-up every key's last
// event is the row's current state, the deleted rows end with a delete, and
// every row that exists is present.
func TestSnapshotKilledAndRestarted(t *testing.T) {
	dsn, brokers, conn := newTestDB(t, snapDDL)
	seedSnapTables(t, conn, snapKillRows)
	cfg := newRelayConfig(t, dsn, brokers, snapCaptured()...)
	cfg.set("snapshot.parallelism", 1)
	cfg.set("snapshot.chunk_size", 5000)
	cfg.set("limits.max_inflight_events", 2000)
	w := startSnapWriter(t, dsn, 2, snapKillRows)

	r := spawnRelay(t, cfg)
	first := r.waitLog("created replication slot", time.Minute)
	r.waitLog("snapshot started", time.Minute)
	st := newSnapState(t, cfg, false)
	col := snapCollector(t, cfg, st)
	// Kill once the first 100 accounts are in Kafka, at a random moment after.
	col.waitFor(time.Minute, "the first accounts' read events", func() bool {
		for id := int64(1); id <= 100; id++ {
			if ks := st.keys["snap_accounts"][snapKey(snapTables[0], 0, id)]; ks == nil || ks.op != "r" {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Duration(rand.Int64N(int64(time.Second))))
	r.kill()
	if r.findLog("snapshot completed") != nil {
		t.Fatal("the snapshot completed before the kill; the test needs a slower snapshot")
	}
	col.poll(time.Second)
	t.Logf("killed after %d read events reached Kafka", st.reads["snap_accounts"]+st.reads["snap_items"]+
		st.reads["snap_log"]+st.reads["snap_orders"])
	if snap, _ := pipeline.ReadSnapshotStatus(cfg.DataDir); snap == nil || snap.State != "running" {
		t.Errorf("status file of the killed process: snapshot %+v, want it running", snap)
	}
	if lsn, ok, err := cfg.checkpoint(); ok || err != nil {
		t.Fatalf("checkpoint %s stored during an incomplete snapshot (err %v)", lsn, err)
	}
	mustExec(t, conn, "DELETE FROM snap_accounts WHERE id <= 100")

	r = spawnRelay(t, cfg)
	again := r.waitLog("snapshot started", time.Minute)
	if again["reason"] != "no checkpoint is stored" || again["exported_by_slot"] != false ||
		again["stream_from"] != first["consistent_point"] {
		t.Errorf("restart: snapshot started %v; want it taken again and the stream from the slot's consistent point %v",
			again, first["consistent_point"])
	}
	r.waitLog("snapshot completed", 3*time.Minute)
	r.waitLog("streaming", time.Minute)
	time.Sleep(2 * time.Second)
	w.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	mcol := newCollector(t, brokers, cfg.topic(markerTable))
	catchUp(t, cfg, conn, mcol, col, 5*time.Minute)
	n := st.verifyFinalState(conn)
	t.Logf("%d records; %d rows checked; read events per table %v; %d writer transactions",
		st.records, n, st.reads, w.commits.Load())
	for id := int64(1); id <= 100; id++ {
		if ks := st.keys["snap_accounts"][snapKey(snapTables[0], 0, id)]; ks == nil || (ks.op != "d" && ks.op != "T") {
			t.Errorf("snap_accounts id=%d deleted while walrelay was down: last record %+v", id, ks)
		}
	}
	if len(st.lasts) != 1 {
		t.Errorf("%d events with source.snapshot last, want 1 (only the completed snapshot has one)", len(st.lasts))
	}
	if code, _ := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d after SIGTERM, want 0", code)
	}
}
