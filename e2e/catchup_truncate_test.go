package e2e

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestCatchupBlockingTruncate: rows of cu_t are downstream (the initial
// snapshot) when a snapshot signal asks for a blocking catch-up of it, and
// a TRUNCATE and a few inserts commit after the stream stopped for it but
// before the catch-up's snapshot (an open transaction holds the temporary
// slot's consistent point back until then). The snapshot reads only the new
// rows and the stream, before its boundary, leaves out cu_t's changes; the
// truncate must still reach Kafka before reads of the rows present after
// it, or the truncated rows stay downstream for ever. The end state per key
// (a truncate removes every key before it) must be the table.
func TestCatchupBlockingTruncate(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE cu_t (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO cu_t SELECT g, 1 FROM generate_series(1, 200) g;`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.cu_t", markerTable)
	cfg.set("snapshot.catchup", "blocking")
	cfg.set("kafka.topic_partitions", 1) // a truncate's null key lands anywhere: one partition keeps it in order
	r := startRelay(t, cfg)
	topic := cfg.topic("public.cu_t")
	col := newCollector(t, brokers, topic, cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, time.Minute)

	blocker := connect(t, dsn) // an xid open: a new slot is consistent only after it ends
	mustExec(t, blocker, "BEGIN; SELECT pg_catalog.txid_current()")
	out, errOut, code := runWalrelay(t, 30*time.Second, "snapshot", "--config", cfg.path, "public.cu_t")
	if code != 0 {
		t.Fatalf("walrelay snapshot: exit %d\n%s%s", code, out, errOut)
	}
	r.waitLog("restarting the session to snapshot the tables added to the capture set", time.Minute)
	mustExec(t, conn, "TRUNCATE cu_t")
	mustExec(t, conn, "INSERT INTO cu_t VALUES (3, 2), (201, 2)")
	mustExec(t, conn, "INSERT INTO cu_t VALUES (202, 2)")
	mustExec(t, blocker, "ROLLBACK")
	mustExec(t, conn, "UPDATE cu_t SET v = 3 WHERE id = 201")
	waitCatchupDone(t, cfg, 2*time.Minute)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	checkTruncatedState(t, conn, col, topic)
}

// waitCatchupDone waits until the stored checkpoint carries no catch-up:
// the stream passed the boundary of the last one taken.
func waitCatchupDone(t *testing.T, cfg *relayConfig, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, "checkpoint.json"))
		if err != nil {
			t.Fatal(err)
		}
		var cp struct {
			Catchup any `json:"catchup"`
		}
		if err := json.Unmarshal(b, &cp); err != nil {
			t.Fatalf("checkpoint.json %q: %v", b, err)
		}
		if cp.Catchup == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the checkpoint still carries a catch-up after %s: %s", timeout, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkTruncatedState checks that the last event of each key on topic,
// where a truncate ends every key before it, is the row of cu_t with that
// key (its v), and that no other key is live.
func checkTruncatedState(t *testing.T, conn *pgx.Conn, col *collector, topic string) {
	t.Helper()
	live := map[string]string{}
	for _, rc := range col.recs {
		switch {
		case rc.Topic != topic:
		case rc.Env != nil && rc.Env.Op == "t":
			clear(live)
		case rc.Tombstone || rc.Env.Op == "d":
			delete(live, rc.Key)
		default:
			live[rc.Key] = fmtAny(rc.Env.After["v"])
		}
	}
	rows, err := conn.Query(t.Context(), "SELECT id, v FROM cu_t")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for rows.Next() {
		var id, v int
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		want["id="+strconv.Itoa(id)] = strconv.Itoa(v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(live, want) {
		stale := slices.Sorted(maps.Keys(live))
		t.Errorf("live on %s: %d keys %v (first 10), want the table's %v", topic, len(live), stale[:min(10, len(stale))], want)
	}
}
