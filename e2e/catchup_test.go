package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const catchupDDL = `CREATE TABLE cu_a (id int PRIMARY KEY, v int NOT NULL);
CREATE TABLE cu_b (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO cu_b SELECT g, 0 FROM generate_series(1, %d) g;` + markerDDL

// catchupHot is how many of cu_b's first rows the writer updates.
const catchupHot = 300

// catchupWriter keeps updating random rows among the first hot of cu_b
// (v = v + 1: each update of a key shows a larger value, and a key is
// updated many times) and inserting new rows, until stopped.
type catchupWriter struct {
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	writes   atomic.Int64
	err      error
}

func startCatchupWriter(t *testing.T, dsn string, rows, hot int) *catchupWriter {
	t.Helper()
	w := &catchupWriter{stop: make(chan struct{}), done: make(chan struct{})}
	conn := connect(t, dsn)
	go func() {
		defer close(w.done)
		next := rows + 1
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			var err error
			if i%10 == 9 {
				_, err = conn.Exec(context.Background(), "INSERT INTO cu_b VALUES ($1, 0)", next)
				next++
			} else {
				_, err = conn.Exec(context.Background(), "UPDATE cu_b SET v = v + 1 WHERE id = $1", 1+rand.IntN(hot))
			}
			if err != nil {
				w.err = err
				return
			}
			w.writes.Add(1)
			time.Sleep(200 * time.Microsecond)
		}
	}()
	t.Cleanup(w.halt)
	return w
}

// finish lets the writer go on for d, stops it and fails t if it failed.
func (w *catchupWriter) finish(t *testing.T, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	w.halt()
	if w.err != nil {
		t.Fatalf("writer: %v", w.err)
	}
}

func (w *catchupWriter) halt() {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
}

// checkCatchup asserts what a catch-up snapshot promises for cu_b: every
// row in Kafka with its current value; for keys from..to (rows that existed
// before the table was captured, and that no change raced with the
// snapshot), a read event (op r) first; and after every event exactly the
// changes its state did not hold, in order (each update's value one more
// than the event's before it).
func checkCatchup(t *testing.T, conn *pgx.Conn, col *collector, topic string, from, to int) {
	t.Helper()
	want := map[string]string{}
	r, err := conn.Query(context.Background(), "SELECT id, v FROM cu_b")
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var id, v int
		if err := r.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		want["id="+strconv.Itoa(id)] = strconv.Itoa(v)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	last, firstOp := map[string]string{}, map[string]string{}
	seen := map[string]bool{}
	var regress int
	for _, rc := range col.recs {
		if rc.Topic != topic || rc.Env == nil || seen[rc.ID] {
			continue
		}
		seen[rc.ID] = true
		v := fmtAny(rc.Env.After["v"])
		if _, ok := firstOp[rc.Key]; !ok {
			firstOp[rc.Key] = rc.Env.Op
		}
		if prev, ok := last[rc.Key]; ok {
			// An update adds 1: its event must show exactly one more than
			// the event before it. Less or equal is a change the snapshot
			// already held (or an older one) published again; more is a
			// change missing. A read may jump (a snapshot taken again).
			p, _ := strconv.Atoi(prev)
			n, _ := strconv.Atoi(v)
			if n < p || rc.Env.Op == "u" && n != p+1 {
				if regress++; regress <= 5 {
					t.Errorf("%s: v %s after %s (%s, op %s): a change published again, out of order or missing",
						rc.Key, v, prev, rc.ID, rc.Env.Op)
				}
			}
		}
		last[rc.Key] = v
	}
	if regress > 5 {
		t.Errorf("... %d such events in all", regress)
	}
	for k, v := range want {
		if last[k] != v {
			t.Errorf("%s: last event has v %q, the row has %s", k, last[k], v)
		}
	}
	for id := from; id <= to; id++ {
		if k := "id=" + strconv.Itoa(id); firstOp[k] != "r" {
			t.Errorf("%s existed before cu_b was captured, but its first event is %q, not a read", k, firstOp[k])
			break
		}
	}
	if len(last) != len(want) {
		t.Errorf("%d keys of cu_b in Kafka, the table has %d rows", len(last), len(want))
	}
}

// startCatchupRelay starts walrelay with cfg, which captures cu_a, and a
// collector of the cu_a, cu_b and marker topics, and waits until a row of
// cu_a arrived.
func startCatchupRelay(t *testing.T, cfg *relayConfig, conn *pgx.Conn, brokers []string) (*relay, *collector) {
	t.Helper()
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.cu_a"), cfg.topic("public.cu_b"), cfg.topic(markerTable))
	mustExec(t, conn, "INSERT INTO cu_a VALUES (1, 1)")
	catchUp(t, cfg, conn, col, col, time.Minute)
	return r, col
}

// addCuBLater runs walrelay once capturing cu_a only (with key set to
// value in its config), stops it, starts the cu_b writer, and adds cu_b to
// postgres.tables for the next start, which it leaves to the caller.
func addCuBLater(t *testing.T, rows int, key string, value any) (*relayConfig, *pgx.Conn, *collector, *catchupWriter) {
	t.Helper()
	dsn, brokers, conn := newTestDB(t, fmt.Sprintf(catchupDDL, rows))
	cfg := newRelayConfig(t, dsn, brokers, "public.cu_a", markerTable)
	cfg.set(key, value)
	r, col := startCatchupRelay(t, cfg, conn, brokers)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	w := startCatchupWriter(t, dsn, rows, catchupHot)
	time.Sleep(300 * time.Millisecond) // changes while walrelay is stopped
	cfg.Tables = []string{"public.cu_a", "public.cu_b", markerTable}
	cfg.set("postgres.tables", cfg.Tables)
	return cfg, conn, col, w
}

// TestCatchupSnapshot: a table added to postgres.tables after walrelay has
// a checkpoint, with rows in it and a writer changing it all along, gets its
// existing rows published (as reads of one snapshot, snapshot.catchup:
// blocking) followed by exactly the changes after that snapshot, in order,
// including across a SIGKILL of the first start that takes it.
func TestCatchupSnapshot(t *testing.T) {
	t.Parallel()
	const rows = 20000
	cfg, conn, col, w := addCuBLater(t, rows, "snapshot.catchup", "blocking")
	r := spawnRelay(t, cfg)
	st := r.waitLog("snapshot started", time.Minute)
	if st["reason"] != "tables added to the capture set" {
		t.Fatalf("snapshot started for %v, want the catch-up", st["reason"])
	}
	r.kill() // mid-snapshot, or just after it
	killedAfter := r.findLog("snapshot completed") != nil
	r = startRelay(t, cfg)
	w.finish(t, 2*time.Second) // the writer goes on while walrelay streams
	mustExec(t, conn, "INSERT INTO cu_a VALUES (2, 2)")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	t.Logf("writer made %d changes; the first catch-up had completed before SIGKILL: %v; snapshots started on the second start: %d",
		w.writes.Load(), killedAfter, len(r.logLines("snapshot started")))
	checkCatchup(t, conn, col, cfg.topic("public.cu_b"), 1, rows)

	restartWithoutCatchup(t, r, cfg, conn, col, "snapshot started", 1, rows)
}

// restartWithoutCatchup stops r and starts walrelay again: with nothing
// added, no catch-up starts (no log line started), and the stream goes
// on: checkCatchup(from, to) still holds after an update of cu_b.
func restartWithoutCatchup(t *testing.T, r *relay, cfg *relayConfig, conn *pgx.Conn, col *collector, started string, from, to int) {
	t.Helper()
	if code, _ := r.term(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	r = startRelay(t, cfg)
	mustExec(t, conn, "UPDATE cu_b SET v = v + 1 WHERE id = 1")
	catchUp(t, cfg, conn, col, col, time.Minute)
	if n := len(r.logLines(started)); n != 0 {
		t.Errorf("%d catch-ups (%q) at a start with nothing added", n, started)
	}
	checkCatchup(t, conn, col, cfg.topic("public.cu_b"), from, to)
}

// TestCatchupSnapshotRulesKilledAfter: the same with a rules file that
// starts capturing cu_b, and a SIGKILL after the catch-up snapshot is in
// Kafka but before any checkpoint passed its boundary (checkpoint.interval
// is an hour): the restarted walrelay must still leave out the streamed
// changes the snapshot held, from the boundary stored with the checkpoint.
func TestCatchupSnapshotRulesKilledAfter(t *testing.T) {
	t.Parallel()
	const rows = 2000
	dsn, brokers, conn := newTestDB(t, fmt.Sprintf(catchupDDL, rows))
	cfg := newRelayConfig(t, dsn, brokers) // the rules name the tables
	cfg.Tables = []string{"public.cu_a", "public.cu_b", markerTable}
	cfg.set("snapshot.catchup", "blocking")
	useRules(t, cfg, "default: drop\nrules:\n  - tables: [public.cu_a, "+markerTable+"]\n")
	r, col := startCatchupRelay(t, cfg, conn, brokers)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	w := startCatchupWriter(t, dsn, rows, catchupHot)
	time.Sleep(300 * time.Millisecond)
	useRules(t, cfg, "default: drop\nrules:\n  - tables: [public.cu_a, public.cu_b, "+markerTable+"]\n")
	cfg.set("checkpoint.interval", "1h")
	r = startRelay(t, cfg)
	if st := r.findLog("snapshot completed"); st == nil {
		t.Fatalf("no catch-up snapshot before streaming; log tail:\n%s", cfg.logTail(20))
	}
	time.Sleep(time.Second) // the stream publishes changes after the boundary
	r.kill()
	cp := cfg.mustCheckpoint()
	status, errOut, code := runWalrelay(t, 30*time.Second, "status", "--config", cfg.path)
	if code != 0 || !regexp.MustCompile(`(?m)^catch-up\s+public\.cu_b: snapshot in Kafka; their changes before \S+ are left out`).MatchString(status) {
		t.Errorf("walrelay status after the kill (exit %d) does not show the catch-up:\n%s%s", code, status, errOut)
	}
	cfg.set("checkpoint.interval", "200ms")
	r = startRelay(t, cfg)
	if n := len(r.logLines("snapshot started")); n != 0 {
		t.Errorf("the restart took the catch-up snapshot again (%d), though Kafka had it", n)
	}
	if st := r.findLog("catch-up: changes of these tables committed before the boundary are in its snapshot and are not published again"); st == nil {
		t.Errorf("the restart (from checkpoint %s) does not filter by the stored boundary", cp)
	}
	w.finish(t, time.Second)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	checkCatchup(t, conn, col, cfg.topic("public.cu_b"), 1, rows)
}

// TestCatchupSnapshotOnReload: while walrelay streams, a SIGHUP reload
// makes the rules capture cu_b, whose rows a writer keeps changing. The
// session restarts by itself and snapshots cu_b incrementally (the
// default) while it streams on: every row of cu_b arrives, each key's
// events in order with nothing missing or repeated, the last one its
// current state.
func TestCatchupSnapshotOnReload(t *testing.T) {
	t.Parallel()
	const rows = 2000
	dsn, brokers, conn := newTestDB(t, fmt.Sprintf(catchupDDL, rows))
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.Tables = []string{"public.cu_a", "public.cu_b", markerTable}
	useRules(t, cfg, "default: drop\nrules:\n  - tables: [public.cu_a, "+markerTable+"]\n")
	w := startCatchupWriter(t, dsn, rows, catchupHot)
	r, col := startCatchupRelay(t, cfg, conn, brokers)

	useRules(t, cfg, "default: drop\nrules:\n  - tables: [public.cu_a, public.cu_b, "+markerTable+"]\n")
	r.sighup()
	r.waitLog("restarting the session to snapshot the tables added to the capture set", time.Minute)
	r.waitLogCount("streaming", 2, time.Minute)
	r.waitLog("incremental snapshot completed", time.Minute)
	w.finish(t, time.Second)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if n := r.countLog("pipeline halted; restarting from the checkpoint"); n != 0 {
		t.Errorf("the catch-up restart was logged as a failure (%d)", n)
	}
	checkCatchup(t, conn, col, cfg.topic("public.cu_b"), catchupHot+1, rows)
}

// TestCatchupSnapshotNewTable: a table created while walrelay runs, that a
// glob of the rules matches, gets rows before the publication poller adds
// it; they are published too (the catch-up snapshot), not lost in the
// window before the poll.
func TestCatchupSnapshotNewTable(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE cu_a (id int PRIMARY KEY, v int NOT NULL);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.Tables = []string{"public.cu_a", "public.cu_late", markerTable}
	useRules(t, cfg, "default: drop\nrules:\n  - tables: [\"public.cu_*\", "+markerTable+"]\n")
	cfg.set("publication.poll_interval", "1s")
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.cu_a"), cfg.topic("public.cu_late"), cfg.topic(markerTable))
	mustExec(t, conn, "INSERT INTO cu_a VALUES (1, 1)")
	catchUp(t, cfg, conn, col, col, time.Minute)

	mustExec(t, conn, "CREATE TABLE cu_late (id int PRIMARY KEY, v int NOT NULL); INSERT INTO cu_late SELECT g, 1 FROM generate_series(1, 500) g")
	r.waitLog("restarting the session to snapshot the tables added to the capture set", time.Minute)
	r.waitLogCount("streaming", 2, time.Minute)
	r.waitLog("incremental snapshot completed", time.Minute)
	mustExec(t, conn, "UPDATE cu_late SET v = 2 WHERE id <= 10")
	catchUp(t, cfg, conn, col, col, time.Minute)
	checkLastV(t, lastV(col.recs, cfg.topic("public.cu_late")), 500, func(id int) string {
		if id <= 10 {
			return "2"
		}
		return "1"
	})
}

// TestSnapshotSignal: `walrelay snapshot` asks a running walrelay to publish
// a captured table's rows again while a writer changes them: the session
// restarts by itself and publishes a read of every row incrementally, in
// order with the stream's changes, and the signal is answered once. (Tables
// not captured: TestSnapshotSignalScope.)
func TestSnapshotSignal(t *testing.T) {
	t.Parallel()
	const rows = 2000
	dsn, brokers, conn := newTestDB(t, fmt.Sprintf(catchupDDL, rows))
	cfg := newRelayConfig(t, dsn, brokers, "public.cu_b", markerTable)
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.cu_b"), cfg.topic(markerTable))
	w := startCatchupWriter(t, dsn, rows, catchupHot)
	catchUp(t, cfg, conn, col, col, time.Minute)

	out, errOut, code := runWalrelay(t, 30*time.Second, "snapshot", "--config", cfg.path, "public.cu_b")
	if code != 0 || !strings.Contains(out, "snapshot signal for public.cu_b written at ") {
		t.Fatalf("walrelay snapshot: exit %d\n%s%s", code, out, errOut)
	}
	r.waitLog("snapshot signal: restarting the session to snapshot these tables", time.Minute)
	r.waitLog("incremental snapshot completed", time.Minute)
	w.finish(t, time.Second)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if n := r.countLog("snapshot signal: restarting the session to snapshot these tables"); n != 1 {
		t.Errorf("the signal was answered %d times, want once", n)
	}
	reads := map[string]int{}
	for _, rc := range col.recs {
		if rc.Topic == cfg.topic("public.cu_b") && rc.Env != nil && rc.Env.Op == "r" {
			reads[rc.Key]++
		}
	}
	// A row the writer changed while its chunk was read has no read of the
	// signal: the stream's change carried its state.
	for id := catchupHot + 1; id <= rows; id++ {
		if k := "id=" + strconv.Itoa(id); reads[k] < 2 {
			t.Errorf("%s: %d reads, want the initial snapshot's and the signal's", k, reads[k])
			break
		}
	}
	checkCatchup(t, conn, col, cfg.topic("public.cu_b"), 1, rows)
}
