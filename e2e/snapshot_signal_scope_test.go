package e2e

import (
	"strings"
	"testing"
	"time"
)

// scopeDDL: two tables on one database, each captured by one of two
// walrelays.
const scopeDDL = `CREATE TABLE sc_a (id int PRIMARY KEY, v int NOT NULL);
CREATE TABLE sc_b (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO sc_a SELECT g, 0 FROM generate_series(1, 50) g;
INSERT INTO sc_b SELECT g, 0 FROM generate_series(1, 40) g;` + markerDDL

// scopeReads counts the read events (op "r") in topic.
func scopeReads(col *collector, topic string) int {
	n := 0
	for _, rc := range col.recs {
		if rc.Topic == topic && rc.Env != nil && rc.Env.Op == "r" {
			n++
		}
	}
	return n
}

// TestSnapshotSignalScope: two walrelays with their own slots, publications
// and topics stream from one database. `walrelay snapshot --config A`
// refuses a table A does not capture (exit 1, nothing written); a signal
// made with A's config is answered by A only, and B neither restarts nor
// publishes anything for it. A hand-written signal without a slot (README)
// is still answered by the walrelay that captures its table; the other
// logs it and does not restart.
func TestSnapshotSignalScope(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, scopeDDL)
	cfgA := newRelayConfig(t, dsn, brokers, "public.sc_a", markerTable)
	cfgB := newRelayConfig(t, dsn, brokers, "public.sc_b", markerTable)
	cfgA.Publication, cfgB.Publication = "walrelay_a", "walrelay_b"
	cfgA.set("postgres.publication", cfgA.Publication)
	cfgB.set("postgres.publication", cfgB.Publication)
	topicA, topicB := cfgA.topic("public.sc_a"), cfgB.topic("public.sc_b")
	rA, rB := startRelay(t, cfgA), startRelay(t, cfgB)
	colA := newCollector(t, brokers, topicA, cfgA.topic(markerTable))
	colB := newCollector(t, brokers, topicB, cfgB.topic(markerTable))
	catchUp(t, cfgA, conn, colA, colA, time.Minute)
	catchUp(t, cfgB, conn, colB, colB, time.Minute)
	if a, b := scopeReads(colA, topicA), scopeReads(colB, topicB); a != 50 || b != 40 {
		t.Fatalf("initial snapshots: %d reads of sc_a, %d of sc_b, want 50 and 40", a, b)
	}
	const restarting = "snapshot signal: restarting the session to snapshot these tables"

	// A table A does not capture is refused, with the fix.
	out, errOut, code := runWalrelay(t, 30*time.Second, "snapshot", "--config", cfgA.path, "public.sc_b")
	if code != 1 || strings.Contains(out, "written at") {
		t.Fatalf("walrelay snapshot of a table A does not capture: exit %d, want 1\n%s%s", code, out, errOut)
	}
	requireWords(t, "refusal", errOut, "public.sc_b", "not captured", cfgA.Slot, "Fix:", "--config")
	// Nothing was written: once both streams pass a later marker, neither
	// logged a signal.
	catchUp(t, cfgA, conn, colA, colA, time.Minute)
	catchUp(t, cfgB, conn, colB, colB, time.Minute)
	for name, r := range map[string]*relay{"A": rA, "B": rB} {
		if strings.Contains(r.output(), "snapshot signal") {
			t.Errorf("%s logged a snapshot signal after the refused command:\n%s", name, r.output())
		}
	}

	// A signal made with A's config: A answers it, B does not.
	out, errOut, code = runWalrelay(t, 30*time.Second, "snapshot", "--config", cfgA.path, "public.sc_a")
	if code != 0 || !strings.Contains(out, "snapshot signal for public.sc_a written at ") {
		t.Fatalf("walrelay snapshot --config A public.sc_a: exit %d\n%s%s", code, out, errOut)
	}
	rA.waitLog(restarting, time.Minute)
	rA.waitLog("incremental snapshot completed", time.Minute)
	rB.waitLog("snapshot signal for the walrelay of another slot ignored", time.Minute)
	catchUp(t, cfgA, conn, colA, colA, time.Minute)
	catchUp(t, cfgB, conn, colB, colB, time.Minute)
	if n := scopeReads(colA, topicA); n != 100 {
		t.Errorf("after A's signal: %d reads of sc_a in A's topic, want 100 (50 initial, 50 from the signal)", n)
	}
	if n := scopeReads(colB, topicB); n != 40 {
		t.Errorf("after A's signal: %d reads of sc_b in B's topic, want 40 (initial only)", n)
	}
	if n := rB.countLog(restarting); n != 0 {
		t.Errorf("B restarted its session %d times for A's signal", n)
	}
	if n := rB.countLog("streaming"); n != 1 {
		t.Errorf("B streamed %d sessions, want 1", n)
	}

	// A hand-written signal without a slot, for B's table: B answers it, A
	// logs that it does not capture sc_b and keeps its session.
	mustExec(t, conn, `SELECT pg_logical_emit_message(true, 'walrelay_snapshot', '{"tables":["public.sc_b"]}')`)
	rB.waitLog(restarting, time.Minute)
	rB.waitLog("incremental snapshot completed", time.Minute)
	rA.waitLog("snapshot signal: tables this walrelay does not capture are ignored", time.Minute)
	catchUp(t, cfgA, conn, colA, colA, time.Minute)
	catchUp(t, cfgB, conn, colB, colB, time.Minute)
	if n := scopeReads(colB, topicB); n != 80 {
		t.Errorf("after the hand-written signal: %d reads of sc_b, want 80", n)
	}
	if n := scopeReads(colA, topicA); n != 100 {
		t.Errorf("after the hand-written signal for sc_b: %d reads of sc_a, want 100", n)
	}
	if n := rA.countLog(restarting); n != 1 {
		t.Errorf("A restarted its session for signals %d times, want once (its own signal)", n)
	}
}
