package e2e

import (
	"sort"
	"strconv"
	"testing"
	"time"
)

// ordDDL: ord (plain), ordp (partitioned, published via its root) and
// ordl (partitioned, captured by its leaf partitions); ver grows with every
// change of a key, so a key's records must carry non-decreasing vers.
const ordDDL = `CREATE TABLE ord (id int PRIMARY KEY, ver int NOT NULL);
INSERT INTO ord VALUES (1, 1), (2, 1);
CREATE TABLE ordp (id int PRIMARY KEY, ver int NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE ordp_1 PARTITION OF ordp FOR VALUES FROM (0) TO (100);
CREATE TABLE ordp_2 PARTITION OF ordp FOR VALUES FROM (100) TO (200);
INSERT INTO ordp VALUES (1, 1), (101, 1);
CREATE TABLE ordl (id int PRIMARY KEY, ver int NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE ordl_1 PARTITION OF ordl FOR VALUES FROM (0) TO (100);
CREATE TABLE ordl_2 PARTITION OF ordl FOR VALUES FROM (100) TO (200);
INSERT INTO ordl VALUES (1, 1), (101, 1);
CREATE TABLE ordbig (id int PRIMARY KEY, pay text);
INSERT INTO ordbig SELECT g, repeat('x', 100) FROM generate_series(1, 60000) g;` + markerDDL

var ordTables = []string{"public.ord", "public.ordp", "public.ordl_1", "public.ordl_2"}

// ordChanges are made while walrelay is stopped: two updates of a key of
// each table (ver 2, then 3) and a delete.
const ordChanges = `UPDATE ord SET ver = 2 WHERE id = 1; UPDATE ordp SET ver = 2 WHERE id = 101; UPDATE ordl SET ver = 2 WHERE id = 1;
UPDATE ord SET ver = 3 WHERE id = 1; UPDATE ordp SET ver = 3 WHERE id = 101; UPDATE ordl SET ver = 3 WHERE id = 1;
DELETE FROM ord WHERE id = 2; DELETE FROM ordp WHERE id = 1; DELETE FROM ordl WHERE id = 101`

// ordTopics are the topics of ordTables and the marker table.
func ordTopics(cfg *relayConfig) []string {
	out := []string{cfg.topic(markerTable)}
	for _, tb := range ordTables {
		out = append(out, cfg.topic(tb))
	}
	return out
}

// checkKeyOrder reads every record of ordTables' topics and fails t when a
// key's records (in offset order, a replayed ce_id dropped) carry a lower
// ver after a higher one, or when a key does not end at its current state:
// ver 3 for the updated keys, a tombstone for the deleted ones.
func checkKeyOrder(t *testing.T, col *collector, cfg *relayConfig) {
	t.Helper()
	byKey := map[string][]*rec{}
	for _, r := range col.recs {
		for _, tb := range ordTables {
			if r.Topic == cfg.topic(tb) {
				byKey[tb+" "+r.Key] = append(byKey[tb+" "+r.Key], r)
			}
		}
	}
	for key, rs := range byKey {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Offset < rs[j].Offset })
		seen, high, trail := map[string]bool{}, int64(0), ""
		for _, r := range rs {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			trail += " " + r.ID
			if r.Env == nil || r.Env.After == nil {
				continue
			}
			trail += "(" + r.Env.Op + " ver " + fmtAny(r.Env.After["ver"]) + ")"
			v, err := strconv.ParseInt(fmtAny(r.Env.After["ver"]), 10, 64)
			if err != nil {
				t.Fatalf("%s: ver %v: %v", key, r.Env.After["ver"], err)
			}
			if v < high {
				t.Errorf("%s: ver %d published after ver %d, out of commit order:%s", key, v, high, trail)
			}
			high = max(high, v)
		}
	}
	for _, c := range []struct{ key, want string }{
		{"public.ord id=1", "3"}, {"public.ordp id=101", "3"}, {"public.ordl_1 id=1", "3"},
		{"public.ord id=2", "deleted"}, {"public.ordp id=1", "deleted"}, {"public.ordl_2 id=101", "deleted"},
	} {
		rs := byKey[c.key]
		got := "no record"
		if n := len(rs); n > 0 && rs[n-1].Tombstone {
			got = "deleted"
		} else if n > 0 && rs[n-1].Env.After != nil {
			got = fmtAny(rs[n-1].Env.After["ver"])
		}
		if got != c.want {
			t.Errorf("%s ends at %s, want %s", c.key, got, c.want)
		}
	}
}

// TestSnapshotAlwaysKeepsKeyOrder: the audit's reproduction. With
// snapshot.mode always, a restart snapshots again at a point after the
// stored checkpoint it streams from; a key updated twice while walrelay was
// stopped must not go back from its read (ver 3) to ver 2: the changes the
// new snapshot holds are left out, a delete of a key it did not read is
// published. For a plain table, a partitioned one published via its root,
// and partitions captured on their own.
func TestSnapshotAlwaysKeepsKeyOrder(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, ordDDL)
	cfg := newRelayConfig(t, dsn, brokers, append(ordTables, markerTable)...)
	cfg.set("snapshot.mode", "always")
	r := startRelay(t, cfg)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	mustExec(t, conn, ordChanges)
	r = startRelay(t, cfg)
	if st := r.findLog("snapshot started"); st == nil || st["exported_by_slot"] != false || st["boundary"] == nil {
		t.Errorf("second start: snapshot started %v, want a boundary", st)
	}
	col := newCollector(t, brokers, ordTopics(cfg)...)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	checkKeyOrder(t, col, cfg)
}

// TestSnapshotKilledKeepsKeyOrder: an initial snapshot SIGKILLed before it
// completes is taken again at the next start, after the changes made
// meanwhile, while the stream starts at the slot's consistent point; those
// changes must not follow the new reads. A restart after that (SIGKILL
// before the stream passes the boundary) still leaves them out.
func TestSnapshotKilledKeepsKeyOrder(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, ordDDL)
	cfg := newRelayConfig(t, dsn, brokers, append(ordTables, markerTable, "public.ordbig")...)
	cfg.set("snapshot.parallelism", 1)
	cfg.set("snapshot.chunk_size", 1000)
	cfg.set("limits.max_inflight_events", 500)
	r := spawnRelay(t, cfg)
	r.waitLog("snapshot started", time.Minute)
	r.kill()
	if r.findLog("snapshot completed") != nil {
		t.Fatal("the snapshot completed before the kill; the test needs a slower snapshot")
	}
	if lsn, ok, err := cfg.checkpoint(); ok || err != nil {
		t.Fatalf("checkpoint %s stored during an incomplete snapshot (err %v)", lsn, err)
	}
	mustExec(t, conn, ordChanges)
	r = spawnRelay(t, cfg)
	if st := r.waitLog("snapshot started", time.Minute); st["exported_by_slot"] != false || st["boundary"] == nil {
		t.Errorf("restart: snapshot started %v, want a boundary", st)
	}
	r.waitLog("streaming", 2*time.Minute)
	r.kill()
	r = startRelay(t, cfg)
	if r.findLog("snapshot started") != nil {
		t.Error("the snapshot was taken again after it completed")
	}
	col := newCollector(t, brokers, ordTopics(cfg)...)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	checkKeyOrder(t, col, cfg)
}
