package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

// TestCatchupIncremental: a table added to postgres.tables, with 20,000
// rows and a writer changing them, is read in chunks while the stream goes
// on (snapshot.catchup: incremental, the default): a row of another table
// committed after the catch-up began reaches Kafka before the catch-up
// completes. A SIGKILL mid-way resumes from the chunk the checkpoint holds,
// not from the table's start. In the end every row is in Kafka, each key's
// events in order with nothing missing or repeated, and every row the
// writer did not touch has a read as its first event.
func TestCatchupIncremental(t *testing.T) {
	t.Parallel()
	const rows = 20000
	cfg, conn, col, w := addCuBLater(t, rows, "snapshot.catchup_chunk_size", 10)
	r := startRelay(t, cfg)
	r.waitLog("incremental snapshot: reading these tables in chunks while the stream goes on", time.Minute)
	mustExec(t, conn, "INSERT INTO cu_a VALUES (2, 2)") // checked below: it streams before the catch-up ends
	cursor := waitCatchupCursor(t, cfg, "public.cu_b", 30*time.Second)
	if r.findLog("incremental snapshot completed") != nil {
		t.Fatalf("the catch-up completed before the kill; the test needs a slower catch-up")
	}
	r.kill()
	status, errOut, code := runWalrelay(t, 30*time.Second, "status", "--config", cfg.path)
	if code != 0 || !regexp.MustCompile(`(?m)^catch-up\s+public\.cu_b: incremental snapshot in Kafka up to public\.cu_b key \(\d+\)$`).MatchString(status) {
		t.Errorf("walrelay status after the kill (exit %d) does not show the catch-up's cursor:\n%s%s", code, status, errOut)
	}

	r = startRelay(t, cfg)
	resumed := r.waitLog("incremental snapshot: reading these tables in chunks while the stream goes on", time.Minute)
	if resumed["resume_table"] != "public.cu_b" || resumed["resume_after"] == nil {
		t.Errorf("after the kill (checkpoint cursor %v) the catch-up started with table %v after %v, not from the stored cursor",
			cursor, resumed["resume_table"], resumed["resume_after"])
	}
	done := r.waitLog("incremental snapshot completed", 2*time.Minute)
	w.finish(t, time.Second)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	t.Logf("writer made %d changes; cursor at the kill %v; after the restart: %v", w.writes.Load(), cursor, done)
	checkCatchup(t, conn, col, cfg.topic("public.cu_b"), catchupHot+1, rows)
	checkNotBlocked(t, col, cfg.topic("public.cu_a"), "id=2", cfg.topic("public.cu_b"))

	// The catch-up is over: the next start takes none.
	restartWithoutCatchup(t, r, cfg, conn, col, "incremental snapshot: reading these tables in chunks while the stream goes on",
		catchupHot+1, rows)
}

// checkNotBlocked asserts that the stream published the change of key in
// topic before the catch-up of readTopic ended: the change committed
// before the last chunk's reads (each chunk's reads carry the commit LSN
// of its high watermark). A blocking catch-up fails this: its reads carry
// the LSN of its snapshot, taken before the change.
func checkNotBlocked(t *testing.T, col *collector, topic, key, readTopic string) {
	t.Helper()
	var change, lastRead pglogrepl.LSN
	for _, rc := range col.recs {
		switch {
		case rc.Topic == topic && rc.Key == key && rc.Env != nil:
			change = rc.Commit
		case rc.Topic == readTopic && rc.Env != nil && rc.Env.Op == "r":
			lastRead = max(lastRead, rc.Commit)
		}
	}
	if change == 0 || change >= lastRead {
		t.Errorf("%s %s committed at %s, the catch-up's last reads at %s: the stream did not go on during the catch-up",
			topic, key, change, lastRead)
	}
}

// waitCatchupCursor waits until the stored checkpoint holds an incremental
// catch-up cursor in table past its first chunk, and returns it.
func waitCatchupCursor(t *testing.T, cfg *relayConfig, table string, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var cp struct {
			Catchup *struct {
				Current string   `json:"current"`
				After   []string `json:"after"`
			} `json:"catchup"`
		}
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, "checkpoint.json"))
		if err == nil && json.Unmarshal(b, &cp) == nil && cp.Catchup != nil && cp.Catchup.Current == table && len(cp.Catchup.After) > 0 {
			return cp.Catchup.After
		}
		if time.Now().After(deadline) {
			t.Fatalf("no catch-up cursor in %s within %s; checkpoint %s (read error %v)", table, timeout, b, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCatchupIncrementalAvro: an incremental catch-up in Avro, with an
// ALTER TABLE ADD COLUMN while it reads the table and a writer changing
// rows all along: every record decodes with the schema its ID names, the
// reads before the ALTER and after it carry their own columns, the value
// subject gains exactly one version, and each key's events are in order with
// the last one its current state.
func TestCatchupIncrementalAvro(t *testing.T) {
	t.Parallel()
	const rows = 5000
	dsn, brokers, conn := newTestDB(t, fmt.Sprintf(catchupDDL, rows))
	cfg := newRelayConfig(t, dsn, brokers, "public.cu_a", markerTable)
	url := avroConfig(t, cfg)
	cfg.set("snapshot.catchup_chunk_size", 5)
	col := newAvroCollector(t, brokers, url, cfg.topic("public.cu_a"), cfg.topic("public.cu_b"), cfg.topic(markerTable))
	r := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO cu_a VALUES (1, 1)")
	catchUp(t, cfg, conn, col.collector, col.collector, time.Minute)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	w := startCatchupWriter(t, dsn, rows, catchupHot)
	cfg.Tables = []string{"public.cu_a", "public.cu_b", markerTable}
	cfg.set("postgres.tables", cfg.Tables)
	r = startRelay(t, cfg)
	r.waitLog("incremental snapshot: reading these tables in chunks while the stream goes on", time.Minute)
	waitCatchupCursor(t, cfg, "public.cu_b", 30*time.Second)
	mustExec(t, conn, "ALTER TABLE cu_b ADD COLUMN w int NOT NULL DEFAULT 5")
	if r.findLog("incremental snapshot completed") != nil {
		t.Fatalf("the catch-up completed before the ALTER TABLE; the test needs a slower catch-up")
	}
	r.waitLog("incremental snapshot completed", 2*time.Minute)
	w.finish(t, time.Second)
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	checkCatchup(t, conn, col.collector, cfg.topic("public.cu_b"), catchupHot+1, rows)

	topic := cfg.topic("public.cu_b")
	ids := subjectVersionIDs(t, url, topic+"-value")
	if len(ids) != 2 {
		t.Fatalf("value subject %s has versions %v, want 2 (before and after ADD COLUMN w)", topic, ids)
	}
	var before, after int
	for _, ar := range col.byTopic(topic) {
		if ar.Env == nil || ar.Env.Op != "r" || ar.ValueMap["source"].(map[string]any)["snapshot"] != "incremental" {
			continue
		}
		w, has := ar.Env.After["w"]
		switch {
		case ar.ValueID == ids[0] && !has:
			before++
		case ar.ValueID == ids[1] && has && fmtAny(w) == "5":
			after++
		default:
			t.Fatalf("read %s: schema %d (versions %v) with after %v", ar.ID, ar.ValueID, ids, ar.Env.After)
		}
	}
	if before == 0 || after == 0 {
		t.Errorf("%d incremental reads before the ALTER and %d after it; want both", before, after)
	}
}

// TestIncrementalInitialSnapshot: with snapshot.mode: never walrelay streams
// from its new slot at once, and `walrelay snapshot` then publishes the
// table's existing rows incrementally while a writer changes them (what
// Debezium users do with snapshot.mode no_data and an execute-snapshot
// signal, to snapshot a large table without pausing the stream). Every row
// ends in Kafka with its current value, each key's events in order.
func TestIncrementalInitialSnapshot(t *testing.T) {
	t.Parallel()
	const rows = 3000
	dsn, brokers, conn := newTestDB(t, fmt.Sprintf(catchupDDL, rows))
	cfg := newRelayConfig(t, dsn, brokers, "public.cu_b", markerTable)
	cfg.set("snapshot.mode", "never")
	cfg.set("snapshot.catchup_chunk_size", 100)
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	w := startCatchupWriter(t, dsn, rows, catchupHot)
	catchUp(t, cfg, conn, col, col, time.Minute)
	if out, errOut, code := runWalrelay(t, 30*time.Second, "snapshot", "--config", cfg.path, "public.cu_b"); code != 0 {
		t.Fatalf("walrelay snapshot: exit %d\n%s%s", code, out, errOut)
	}
	r.waitLog("incremental snapshot completed", time.Minute)
	w.finish(t, time.Second)
	catchUp(t, cfg, conn, col, col, time.Minute)
	checkCatchup(t, conn, col, cfg.topic("public.cu_b"), catchupHot+1, rows)
}

// TestCatchupIncrementalTableDropped: a table dropped while its incremental
// catch-up reads it ends that catch-up with a warning, and walrelay streams
// on: no failure, no endless re-reading.
func TestCatchupIncrementalTableDropped(t *testing.T) {
	t.Parallel()
	cfg, conn, col, w := addCuBLater(t, 20000, "snapshot.catchup_chunk_size", 10)
	r := startRelay(t, cfg)
	waitCatchupCursor(t, cfg, "public.cu_b", 30*time.Second)
	w.halt() // it wrote to cu_b while the catch-up ran
	mustExec(t, conn, "DROP TABLE cu_b")
	r.waitLog("incremental snapshot: the table was dropped; its snapshot ends", time.Minute)
	r.waitLog("incremental snapshot completed", time.Minute)
	mustExec(t, conn, "INSERT INTO cu_a VALUES (3, 3)")
	catchUp(t, cfg, conn, col, col, time.Minute)
	if last := lastV(col.recs, cfg.topic("public.cu_a")); last["id=3"] != "3" {
		t.Errorf("cu_a id=3 after the drop: %q, want 3", last["id=3"])
	}
	if n := r.countLog("pipeline halted; restarting from the checkpoint"); n != 0 {
		t.Errorf("%d failures after the drop", n)
	}
}
