package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// passedMsg is logged once the stream passes a blocking catch-up's
// boundary, with the number of left-out deletes it published.
const passedMsg = "catch-up: the stream passed the boundary; deletes before it of rows its snapshot did not read were published"

// typedKeyDDL is cu_k: 1,000 rows under a composite key of the types whose
// text the stream and the snapshot must decode alike for a catch-up to
// match a delete's key with its snapshot's (catchup_keys.go).
const typedKeyDDL = `CREATE TABLE cu_k (t text, u uuid, n numeric(10,2), ts timestamptz, b bytea, d date, v int,
  PRIMARY KEY (t, u, n, ts, b, d));
INSERT INTO cu_k SELECT 'k' || g, md5(g::text)::uuid, g / 7.0, timestamptz '2026-01-01 00:00:00+00' + g * interval '1.5 seconds',
  decode(md5(g::text), 'hex'), date '2020-01-01' + g, g FROM generate_series(1, 1000) g`

// moreCatchupDDL adds cu_e, whose every row is deleted while the catch-up
// is down (its next snapshot reads none), and rk, keyed by its rule on
// (tenant, id), whose row 1 moves to another tenant meanwhile: a key change
// under the rule's key, not under the primary key.
const moreCatchupDDL = `CREATE TABLE cu_e (id int PRIMARY KEY);
INSERT INTO cu_e SELECT generate_series(1, 5);
CREATE TABLE rk (id int PRIMARY KEY, tenant text NOT NULL);
ALTER TABLE rk REPLICA IDENTITY FULL;
INSERT INTO rk VALUES (1, 't1'), (2, 't1')`

// TestCatchupBlockingKilledDeletes: a blocking catch-up (a snapshot
// signal) is killed while it publishes its reads, and rows it has published
// are deleted before the next start (of cu_k, one row is deleted, one
// deleted and inserted again; of cu_e all; of rk one row changes its key
// under the rules). That start takes the catch-up again
// from a new snapshot, which lacks those rows, and leaves out the table's
// changes before it; their deletes must still be published, or the rows
// stay downstream for ever. A second kill after the new snapshot is
// complete, before any checkpoint passed its boundary (checkpoint.interval
// is an hour), must publish them again from the keys saved in data_dir.
func TestCatchupBlockingKilledDeletes(t *testing.T) {
	t.Parallel()
	const rows, deleted = 100000, 17 // 10 of cu_b, 1 of cu_k, 5 of cu_e, rk's old key
	tables := []string{"public.cu_b", "public.cu_k", "public.cu_e", "public.rk"}
	dsn, brokers, conn := newTestDB(t, fmt.Sprintf(catchupDDL, rows))
	mustExec(t, conn, typedKeyDDL)
	mustExec(t, conn, moreCatchupDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.Tables = append(slices.Clone(tables), markerTable)
	useRules(t, cfg, "default: drop\nrules:\n  - tables: [public.rk]\n    key: [tenant, id]\n"+
		"  - tables: [public.cu_b, public.cu_k, public.cu_e, "+markerTable+"]\n")
	cfg.set("snapshot.catchup", "blocking")
	cfg.set("limits.max_inflight_events", 200) // a catch-up that lasts long enough to kill it
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.cu_b"), cfg.topic("public.cu_k"), cfg.topic("public.cu_e"),
		cfg.topic("public.rk"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, 2*time.Minute)

	out, errOut, code := runWalrelay(t, 30*time.Second, append([]string{"snapshot", "--config", cfg.path}, tables...)...)
	if code != 0 {
		t.Fatalf("walrelay snapshot: exit %d\n%s%s", code, out, errOut)
	}
	topic := cfg.topic("public.cu_b")
	col.waitFor(2*time.Minute, "the signal's reads of the first rows", func() bool {
		return readsOf(col, topic, 1, 10) >= 2
	})
	r.kill()
	if n := len(r.logLines("snapshot completed")); n != 1 {
		t.Fatalf("%d snapshots completed before the kill, want only the initial one: the catch-up was not interrupted", n)
	}
	mustExec(t, conn, "DELETE FROM cu_b WHERE id <= 10")
	mustExec(t, conn, "DELETE FROM cu_k WHERE v IN (1, 2)") // 1 is gone; 2 is back before the next snapshot:
	mustExec(t, conn, "INSERT INTO cu_k SELECT 'k2', md5('2')::uuid, 2 / 7.0, timestamptz '2026-01-01 00:00:03+00', decode(md5('2'), 'hex'), date '2020-01-03', 2")
	mustExec(t, conn, "DELETE FROM cu_e")
	mustExec(t, conn, "UPDATE rk SET tenant = 't2' WHERE id = 1")

	cfg.set("checkpoint.interval", "1h") // the checkpoint stays before the catch-up's boundary
	r = spawnRelay(t, cfg)
	if st := r.waitLog("snapshot started", 2*time.Minute); st["reason"] != "snapshot signal" {
		t.Fatalf("second start: snapshot started for %v, want the signal's catch-up taken again", st["reason"])
	}
	r.waitLog("snapshot completed", 2*time.Minute)
	publishedMarker(t, cfg, conn, col, 2*time.Minute) // the stream passes the boundary
	if got := r.waitLog(passedMsg, time.Minute)["deletes_published"]; got != float64(deleted) {
		t.Errorf("second start published %v deletes left out by the catch-up, want %d", got, deleted)
	}
	r.kill()

	r = startRelay(t, cfg)
	if n := len(r.logLines("snapshot started")); n != 0 {
		t.Errorf("third start took %d snapshots, want none: the catch-up's boundary was stored", n)
	}
	publishedMarker(t, cfg, conn, col, 2*time.Minute)
	if got := r.waitLog(passedMsg, time.Minute)["deletes_published"]; got != float64(deleted) {
		t.Errorf("third start published %v deletes left out by the catch-up, want %d (from the saved keys)", got, deleted)
	}
	col.readToEnd(time.Minute)
	checkRowsLive(t, conn, col, topic)
	if n := len(liveSet(col, cfg.topic("public.cu_k"))); n != 999 {
		t.Errorf("%d keys live on cu_k's topic, want its 999 rows (one deleted, one deleted and inserted again)", n)
	}
	if live := liveSet(col, cfg.topic("public.cu_e")); len(live) != 0 {
		t.Errorf("keys %v live on cu_e's topic, want none: its rows were deleted", live)
	}
	if live := liveSet(col, cfg.topic("public.rk")); len(live) != 2 {
		t.Errorf("keys %v live on rk's topic, want its 2 rows (tenant t2 id 1, tenant t1 id 2)", live)
	}
}

// liveSet returns the keys whose last record on topic is not a delete or
// tombstone.
func liveSet(col *collector, topic string) map[string]bool {
	live := map[string]bool{}
	for _, rc := range col.recs {
		if rc.Topic != topic {
			continue
		}
		if !rc.Tombstone && rc.Env != nil && rc.Env.Op != "d" {
			live[rc.Key] = true
		} else {
			delete(live, rc.Key)
		}
	}
	return live
}

// readsOf is the smallest number of read events of the keys id=from..to
// on topic.
func readsOf(col *collector, topic string, from, to int) int {
	n := map[string]int{}
	for _, rc := range col.recs {
		if rc.Topic == topic && rc.Env != nil && rc.Env.Op == "r" {
			n[rc.Key]++
		}
	}
	least := -1
	for id := from; id <= to; id++ {
		if c := n["id="+strconv.Itoa(id)]; least < 0 || c < least {
			least = c
		}
	}
	return least
}

// checkRowsLive checks that the keys whose last record on topic is not a
// delete or tombstone are exactly the rows of cu_b: a deleted row's last
// record is its tombstone.
func checkRowsLive(t *testing.T, conn *pgx.Conn, col *collector, topic string) {
	t.Helper()
	live := liveSet(col, topic)
	r, err := conn.Query(t.Context(), "SELECT id FROM cu_b")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(r, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, id := range ids {
		k := "id=" + strconv.Itoa(id)
		if !live[k] {
			missing = append(missing, k)
		}
		delete(live, k)
	}
	if len(missing) > 0 {
		t.Errorf("%d rows of cu_b not live on %s: %s", len(missing), topic, strings.Join(missing[:min(len(missing), 20)], " "))
	}
	stale := slices.Collect(maps.Keys(live))
	if len(stale) > 0 {
		slices.Sort(stale)
		t.Errorf("%d keys live on %s without a row in cu_b: %s", len(stale), topic, strings.Join(stale[:min(len(stale), 20)], " "))
	}
}
