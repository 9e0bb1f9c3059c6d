package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/pipeline"
)

// snapLargeRows seeds 1,000,000 rows over four tables.
var snapLargeRows = map[string]int{
	"snap_accounts": 450_000,
	"snap_orders":   300_000,
	"snap_items":    200_000,
	"snap_log":      50_000,
}

// TestSnapshotLargeWithConcurrentWrites: 1,000,000 existing rows over four
// tables (a composite key, REPLICA IDENTITY FULL, no primary key), and two
// clients updating, deleting and inserting rows while walrelay snapshots
// them and afterwards. After catch-up, for every key the last event in
// Kafka equals the row's current state (or is a delete when the row is
// gone), every row that exists is present, each key has at most one read
// event, exactly one event is the snapshot's "last", ce_ids increase per key
// (snapshot reads before the stream's changes), read events have the same
// fields as streamed ones, and progress was logged per table and written to
// the status file.
//
// Not parallel: it is the heaviest test of the package.
func TestSnapshotLargeWithConcurrentWrites(t *testing.T) {
	dsn, brokers, conn := newTestDB(t, snapDDL)
	seeded := time.Now()
	seedSnapTables(t, conn, snapLargeRows)
	t.Logf("seeded 1,000,000 rows in %s", time.Since(seeded).Round(time.Millisecond))

	cfg := newRelayConfig(t, dsn, brokers, snapCaptured()...)
	cfg.set("snapshot.chunk_size", 20000)
	w := startSnapWriter(t, dsn, 2, snapLargeRows)
	time.Sleep(300 * time.Millisecond) // writes before the slot exists are in the snapshot
	r := spawnRelay(t, cfg)
	started := r.waitLog("snapshot started", 2*time.Minute)
	if started["exported_by_slot"] != true || started["rows"].(float64) < 1_000_000 {
		t.Errorf("snapshot started: %v (want a snapshot exported by the new slot, >= 1,000,000 rows)", started)
	}
	done := r.waitLog("snapshot completed", 5*time.Minute)
	checkSnapshotStatusFile(t, cfg, done)
	r.waitLog("streaming", time.Minute)
	t.Logf("snapshot: %v rows in %v s (%v rows/s); %d writer transactions so far",
		done["rows"], done["took_seconds"], done["rows_per_second"], w.commits.Load())
	time.Sleep(2 * time.Second)
	w.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}

	st := newSnapState(t, cfg, true)
	col := snapCollector(t, cfg, st)
	mcol := newCollector(t, brokers, cfg.topic(markerTable))
	catchUp(t, cfg, conn, mcol, col, 5*time.Minute)
	n := st.verifyFinalState(conn)
	t.Logf("%d records; %d rows checked; read events per table %v; %d writer transactions",
		st.records, n, st.reads, w.commits.Load())
	checkReads(t, st, done["rows"].(float64))
	for _, d := range st.disorder {
		t.Errorf("ce_id order: %s", d)
	}
	checkProgressLogged(t, r)
	if code, _ := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d after SIGTERM, want 0", code)
	}
}

// checkSnapshotStatusFile checks the status file right after the snapshot
// completed (the streaming reader replaces it within 10 s).
func checkSnapshotStatusFile(t *testing.T, cfg *relayConfig, done map[string]any) {
	t.Helper()
	snap, err := pipeline.ReadSnapshotStatus(cfg.DataDir)
	if err != nil || snap == nil {
		t.Errorf("status file after the snapshot: %v, %v", snap, err)
		return
	}
	if snap.State != "done" || float64(snap.RowsDone) != done["rows"] || snap.RowsTotal != snap.RowsDone ||
		len(snap.Tables) != len(snapTables)+1 { // and the marker table
		t.Errorf("status file snapshot section: %+v", snap)
	}
	for _, tb := range snap.Tables {
		if tb.Table == markerTable {
			continue
		}
		if tb.State != "done" || tb.RowsDone != tb.RowsTotal || tb.RowsEstimated <= 0 || tb.RowsPerSecond <= 0 {
			t.Errorf("status file table %+v", tb)
		}
	}
	if b, err := os.ReadFile(filepath.Join(cfg.DataDir, pipeline.StatusFile)); err == nil && !strings.Contains(string(b), `"rows_estimated"`) {
		t.Errorf("status file lacks rows_estimated: %s", b)
	}
}

// checkReads checks the read events: at most one per key, one "last" in
// all, as many as the snapshot counted, from one snapshot, with the fields
// of the streamed events.
func checkReads(t *testing.T, st *snapState, rows float64) {
	t.Helper()
	total := 0
	for table, n := range st.reads {
		total += n
		for key, k := range st.readKeys[table] {
			if k > 1 {
				t.Errorf("%s %s: %d read events", table, key, k)
				break
			}
		}
	}
	if float64(total) < rows {
		t.Errorf("%d read events, the snapshot had %.0f rows", total, rows)
	}
	if len(st.lasts) != 1 {
		t.Errorf("%d events with source.snapshot last, want 1: %v", len(st.lasts), st.lasts)
	}
	if len(st.snapLSNs) > 7 {
		t.Errorf("read events carry %d commit LSNs: %v", len(st.snapLSNs), st.snapLSNs)
	}
	for table, f := range st.fields {
		if f["r"] == "" || f["c"] != "" && f["r"] != f["c"] {
			t.Errorf("%s: read events have fields %q, creates %q", table, f["r"], f["c"])
		}
	}
}

// checkProgressLogged checks one "snapshot table done" line per table with
// rows done, the estimate and a rate.
func checkProgressLogged(t *testing.T, r *relay) {
	t.Helper()
	b, err := os.ReadFile(r.cfg.logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range snapTables {
		found := false
		for _, line := range strings.Split(string(b[r.logStart:]), "\n") {
			// A rate needs minRateSpan (100 ms) of reading: every table here
			// has at least 50,000 rows, read at well under 500,000 rows/s.
			if strings.Contains(line, `"snapshot table done"`) && strings.Contains(line, `"public.`+tb.name+`"`) &&
				strings.Contains(line, `"rows_estimated"`) && strings.Contains(line, `"rows_per_second"`) &&
				strings.Contains(line, `"eta_seconds"`) && strings.Contains(line, `"rows_done"`) {
				found = true
			}
		}
		if !found {
			t.Errorf("no 'snapshot table done' line with rows, estimate, rate and ETA for %s", tb.name)
		}
	}
}
