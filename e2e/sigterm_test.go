package e2e

import (
	"sort"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

// TestSigtermDuringLoad: while two clients write, the relay gets SIGTERM. What
// a user relies on:
//
//	(a) it exits with code 0 within 10 s;
//	(b) the slot's confirmed_flush_lsn equals the stored checkpoint C, and
//	    the "stopped" log line names C;
//	(c) C covers everything acknowledged: every transaction that was fully
//	    in Kafka before the restart, with all earlier ones, is at or below
//	    C, and every event of a transaction at or below C was in Kafka;
//	(d) after a restart, nothing at or below C is sent again (no needless
//	    duplicates) and nothing is missing: every committed change is in
//	    Kafka in commit order per key.
func TestSigtermDuringLoad(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, wlDDL)
	cfg := newRelayConfig(t, dsn, brokers, wlCaptured...)
	r := startRelay(t, cfg)
	w := newWorkload(dsn)
	cl := w.run(2, 0)
	t.Cleanup(cl.stop) // on an early failure
	time.Sleep(4 * time.Second)

	code, took := r.term() // the clients keep writing during the shutdown
	cl.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGTERM to exit %s, exit code %d; workload: %d changes", took.Round(time.Millisecond), code, w.ops.Load())
	if code != 0 || took > 10*time.Second {
		t.Errorf("(a) exit code %d after %s, want 0 within 10s", code, took)
	}
	slot := inactiveSlot(t, conn, cfg.Slot)
	cp := cfg.mustCheckpoint()
	if slot != cp {
		t.Errorf("(b) slot confirmed_flush_lsn %s after a clean stop, stored checkpoint %s", slot, cp)
	}
	if f := r.findLog("stopped"); f == nil || f["lsn"] != cp.String() {
		t.Errorf(`(b) "stopped" log line %v, want lsn %s`, f, cp)
	}

	col := newCollector(t, brokers, cfg.topics()...)
	col.readToEnd(time.Minute)
	before := len(col.recs)
	r = startRelay(t, cfg)
	catchUp(t, cfg, conn, col, col, 3*time.Minute)
	checkCoverage(t, col.recs[:before], col.recs[before:], cp)
	st := verifyWorkload(t, cfg, col, w)
	checkWorkloadDB(t, dsn, w)
	t.Logf("checkpoint %s; %d records before the restart, %d after; stream %+v", cp, before, len(col.recs)-before, st)
	if code, took := r.term(); code != 0 {
		t.Errorf("second walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}

// checkCoverage checks (c) and the first half of (d) for a checkpoint cp,
// given the records read before a restart and those written after it. A
// transaction is at or below cp when its commit record starts below cp (its
// end is then <= cp: checkpoints are transaction ends or WAL ends).
func checkCoverage(t *testing.T, pre, post []*rec, cp pglogrepl.LSN) {
	t.Helper()
	p := &problems{t: t, what: "checkpoint coverage"}
	defer p.done()
	inPre := map[string]bool{}
	for _, r := range pre {
		inPre[r.ID] = true
	}
	for _, r := range post {
		if r.Commit < cp {
			p.add("(d) %s (commit %s, at or below checkpoint %s) sent again or late after the restart", r.ID, r.Commit, cp)
		}
	}
	all, _, _ := dedupe(append(append([]*rec(nil), pre...), post...))
	txs := map[pglogrepl.LSN][]string{}
	for _, r := range all {
		txs[r.Commit] = append(txs[r.Commit], r.ID)
	}
	commits := make([]pglogrepl.LSN, 0, len(txs))
	for c := range txs {
		commits = append(commits, c)
	}
	sort.Slice(commits, func(i, j int) bool { return commits[i] < commits[j] })
	prefix := true
	for _, c := range commits {
		complete := true
		for _, id := range txs[c] {
			complete = complete && inPre[id]
		}
		prefix = prefix && complete
		switch {
		case c < cp && !complete:
			p.add("(c) transaction %s is at or below checkpoint %s but not all its events were in Kafka before the restart", c, cp)
		case c >= cp && prefix:
			p.add("(c) transaction %s (%d events) and all before it were in Kafka before the restart, "+
				"but the checkpoint %s does not cover it; %d of its records were sent again after the restart",
				c, len(txs[c]), cp, countCommit(post, c))
		}
	}
}

// countCommit counts the records of the transaction that commits at c.
func countCommit(rs []*rec, c pglogrepl.LSN) int {
	n := 0
	for _, r := range rs {
		if r.Commit == c {
			n++
		}
	}
	return n
}
