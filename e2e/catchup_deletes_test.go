package e2e

import (
	"fmt"
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

// TestCatchupBlockingKilledDeletes: a blocking catch-up (a snapshot
// signal) is killed while it publishes its reads, and rows it has published
// are deleted before the next start. That start takes the catch-up again
// from a new snapshot, which lacks those rows, and leaves out the table's
// changes before it; their deletes must still be published, or the rows
// stay downstream for ever. A second kill after the new snapshot is
// complete, before any checkpoint passed its boundary (checkpoint.interval
// is an hour), must publish them again from the keys saved in data_dir.
func TestCatchupBlockingKilledDeletes(t *testing.T) {
	t.Parallel()
	const rows, deleted = 100000, 10
	dsn, brokers, conn := newTestDB(t, fmt.Sprintf(catchupDDL, rows))
	cfg := newRelayConfig(t, dsn, brokers, "public.cu_b", markerTable)
	cfg.set("snapshot.catchup", "blocking")
	cfg.set("limits.max_inflight_events", 200) // a catch-up that lasts long enough to kill it
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.cu_b"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, 2*time.Minute)

	out, errOut, code := runWalrelay(t, 30*time.Second, "snapshot", "--config", cfg.path, "public.cu_b")
	if code != 0 {
		t.Fatalf("walrelay snapshot: exit %d\n%s%s", code, out, errOut)
	}
	topic := cfg.topic("public.cu_b")
	col.waitFor(2*time.Minute, "the signal's reads of the first rows", func() bool {
		return readsOf(col, topic, 1, deleted) >= 2
	})
	r.kill()
	if n := len(r.logLines("snapshot completed")); n != 1 {
		t.Fatalf("%d snapshots completed before the kill, want only the initial one: the catch-up was not interrupted", n)
	}
	mustExec(t, conn, fmt.Sprintf("DELETE FROM cu_b WHERE id <= %d", deleted))

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
	live := map[string]bool{}
	for _, rc := range col.recs {
		if rc.Topic == topic {
			live[rc.Key] = !rc.Tombstone && rc.Env != nil && rc.Env.Op != "d"
		}
	}
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
	var stale []string
	for k, ok := range live {
		if ok {
			stale = append(stale, k)
		}
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		t.Errorf("%d keys live on %s without a row in cu_b: %s", len(stale), topic, strings.Join(stale[:min(len(stale), 20)], " "))
	}
}
