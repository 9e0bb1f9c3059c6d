package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const modesDDL = `CREATE TABLE modes (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO modes SELECT g, 1 FROM generate_series(1, 1000) g;` + markerDDL

var modesCaptured = []string{"public.modes", markerTable}

// modesRecs returns the parsed records of the modes table's topic.
func modesRecs(col *collector, cfg *relayConfig) []*rec {
	var out []*rec
	for _, r := range col.recs {
		if r.Topic == cfg.topic("public.modes") {
			out = append(out, r)
		}
	}
	return out
}

// countOps counts records by op ("T" for tombstones).
func countOps(rs []*rec) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[opOf(r)]++
	}
	return m
}

// waitExit waits for the process to exit by itself and returns its code.
func waitExit(t *testing.T, r *relay, timeout time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
		return r.state.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("walrelay still running after %s; log tail:\n%s", timeout, r.cfg.logTail(20))
		return -1
	}
}

func slotExists(t *testing.T, conn *pgx.Conn, slot string) bool {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestSnapshotInitialOnly: snapshot.mode initial_only publishes the 1,000
// existing rows as read events (the first "first", the last "last") and exits 0, leaving no
// replication slot and no checkpoint behind.
func TestSnapshotInitialOnly(t *testing.T) {
	t.Parallel()
	brokers, conn, cfg := modesSetup(t, "initial_only")
	r := spawnRelay(t, cfg)
	if code := waitExit(t, r, 2*time.Minute); code != 0 {
		t.Fatalf("initial_only exit code %d, want 0; log tail:\n%s", code, cfg.logTail(20))
	}
	if r.findLog("snapshot completed") == nil || r.findLog("streaming") != nil {
		t.Errorf("initial_only: want 'snapshot completed' and no 'streaming' in the log:\n%s", cfg.logTail(20))
	}
	col := newCollector(t, brokers, cfg.topic("public.modes"))
	col.readToEnd(time.Minute)
	rs := modesRecs(col, cfg)
	keys, marks := map[string]bool{}, map[string]string{}
	for _, r := range rs {
		if r.Env == nil || r.Env.Op != "r" || fmtAny(r.Env.After["v"]) != "1" {
			t.Fatalf("record %s: %s", r.ID, r.Value)
		}
		keys[r.Key] = true
		if m := r.Env.Source.Snapshot; m != "true" {
			marks[m] += r.Key + " "
		}
	}
	// Debezium's markers for a one-table snapshot: its first row (in key
	// order) "first", its last "last", the others "true".
	if len(rs) != 1000 || len(keys) != 1000 || len(marks) != 2 || marks["first"] != "id=1 " || marks["last"] != "id=1000 " {
		t.Errorf("%d records, %d keys, markers %v; want 1000 read events of distinct keys, id=1 first, id=1000 last",
			len(rs), len(keys), marks)
	}
	if slotExists(t, conn, cfg.Slot) {
		t.Errorf("initial_only left replication slot %s behind", cfg.Slot)
	}
	if lsn, ok, _ := cfg.checkpoint(); ok {
		t.Errorf("initial_only stored checkpoint %s", lsn)
	}
}

// TestSnapshotNever: snapshot.mode never publishes no read event; only what
// changes after the start.
func TestSnapshotNever(t *testing.T) {
	t.Parallel()
	brokers, conn, cfg := modesSetup(t, "never")
	r := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO modes VALUES (1001, 1); UPDATE modes SET v = 2 WHERE id = 5")
	col := newCollector(t, brokers, cfg.topic("public.modes"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if got := countOps(modesRecs(col, cfg)); fmt.Sprint(got) != "map[c:1 u:1]" {
		t.Errorf("never: records by op %v, want one create and one update", got)
	}
	if r.findLog("snapshot started") != nil {
		t.Error("never: the log says a snapshot started")
	}
}

// TestSnapshotWhenNeeded: with when_needed, the first start snapshots; after
// the slot is dropped while walrelay is stopped (and rows change meanwhile),
// snapshot.mode initial refuses to start over the gap, while when_needed
// snapshots again from a new slot and streams on: every key's last event is
// the row's current state.
func TestSnapshotWhenNeeded(t *testing.T) {
	t.Parallel()
	brokers, conn, cfg := modesSetup(t, "when_needed")
	r := startRelay(t, cfg)
	mustExec(t, conn, "UPDATE modes SET v = 2 WHERE id = 1")
	col := newCollector(t, brokers, cfg.topic("public.modes"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if got := countOps(modesRecs(col, cfg)); got["r"] != 1000 || got["u"] != 1 {
		t.Fatalf("first start: records by op %v, want 1000 reads and 1 update", got)
	}
	if code, _ := r.term(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	cfg.dropSlot()
	mustExec(t, conn, "UPDATE modes SET v = 3 WHERE id IN (2, 3); INSERT INTO modes VALUES (1001, 1)")
	cfg.set("snapshot.mode", "initial")
	r = spawnRelay(t, cfg)
	if code := waitExit(t, r, time.Minute); code == 0 || !strings.Contains(cfg.logTail(5), "is missing but a checkpoint") {
		t.Fatalf("initial over a dropped slot: exit code %d; want the gap error; log tail:\n%s", code, cfg.logTail(5))
	}

	cfg.set("snapshot.mode", "when_needed")
	r = startRelay(t, cfg)
	if st := r.findLog("snapshot started"); st == nil || !strings.Contains(fmt.Sprint(st["reason"]), "slot is missing") {
		t.Errorf("restart: snapshot started %v, want the missing slot as the reason", st)
	}
	mustExec(t, conn, "UPDATE modes SET v = 4 WHERE id = 4")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	rs := modesRecs(col, cfg)
	if got := countOps(rs); got["r"] != 2001 || got["u"] != 2 {
		t.Errorf("after the re-snapshot: records by op %v, want 1000 + 1001 reads and 2 updates", got)
	}
	checkLastV(t, lastV(rs, cfg.topic("public.modes")), 1001, modesValues(map[int]string{1: "2", 2: "3", 3: "3", 4: "4"}))
}

// modesValues is the v of each row of modes: 1 (as modesDDL and the tests'
// inserts write it) unless changed says otherwise.
func modesValues(changed map[int]string) func(id int) string {
	return func(id int) string {
		if v, ok := changed[id]; ok {
			return v
		}
		return "1"
	}
}

// TestSnapshotAlways: snapshot.mode always snapshots on every start (here
// from a snapshot exported by a temporary slot, since the slot exists) and
// then streams from the stored checkpoint, leaving out the changes made
// while walrelay was stopped that the second snapshot holds (the update)
// but not a delete of a row it did not read: every key ends at its current
// state, in commit order (snapshot_order_test.go).
func TestSnapshotAlways(t *testing.T) {
	t.Parallel()
	brokers, conn, cfg := modesSetup(t, "always")
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.modes"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	mustExec(t, conn, "UPDATE modes SET v = 5 WHERE id = 7; DELETE FROM modes WHERE id = 8")
	r = startRelay(t, cfg)
	if st := r.findLog("snapshot started"); st == nil || st["exported_by_slot"] != false || st["reason"] != "snapshot.mode is always" {
		t.Errorf("second start: snapshot started %v", st)
	}
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	rs := modesRecs(col, cfg)
	if got := countOps(rs); got["r"] != 1999 || got["u"] != 0 || got["d"] != 1 {
		t.Errorf("records by op %v, want 1000 + 999 reads and the delete", got)
	}
	last := map[string]*rec{}
	for _, r := range rs {
		last[r.Key] = r
	}
	if r := last["id=7"]; r == nil || r.Env == nil || fmtAny(r.Env.After["v"]) != "5" {
		t.Errorf("id=7: last record %+v, want v 5", r)
	}
	if r := last["id=8"]; r == nil || !r.Tombstone {
		t.Errorf("id=8: last record %+v, want the delete's tombstone", r)
	}
}

// modesSetup makes a database with the modes tables (modesDDL) and a relay
// config capturing them with the given snapshot.mode.
func modesSetup(t *testing.T, mode string) (brokers []string, conn *pgx.Conn, cfg *relayConfig) {
	t.Helper()
	dsn := newDatabase(t)
	brokers = kafkaBrokers(t)
	conn = connect(t, dsn)
	mustExec(t, conn, modesDDL)
	cfg = newRelayConfig(t, dsn, brokers, modesCaptured...)
	cfg.set("snapshot.mode", mode)
	return brokers, conn, cfg
}
