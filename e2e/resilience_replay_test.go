package e2e

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

const replayDDL = `CREATE TABLE rp (id bigint PRIMARY KEY, v int NOT NULL, note text NOT NULL);` + markerDDL

// replayTx is the SQL of the i-th (1-based) transaction of the replay test:
// an insert, an update of the previous row and, every third time, a delete.
func replayTx(i int) string {
	sql := fmt.Sprintf("BEGIN; INSERT INTO rp VALUES (%d, 1, 'row %d');", i, i)
	if i > 1 {
		sql += fmt.Sprintf(" UPDATE rp SET v = v + 1, note = note || ' upd %d' WHERE id = %d;", i, i-1)
	}
	if i%3 == 0 {
		sql += fmt.Sprintf(" DELETE FROM rp WHERE id = %d;", i-2)
	}
	return sql + " COMMIT;"
}

// TestResilienceReplay: with checkpoint.retain 1h the slot keeps a window
// behind the checkpoint. `--replay-from L` with L the commit LSN of a past
// transaction (read from its events' ce_id) re-publishes exactly the events
// of the transactions committed at or after L, with the same event IDs,
// headers and payloads as the first time, and nothing before L. An LSN just
// outside [slot's confirmed_flush_lsn, stored checkpoint] is refused with
// both bounds in the message.
func TestResilienceReplay(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, replayDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.rp", markerTable)
	cfg.set("checkpoint.retain", "1h")
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	const txs = 12
	for i := 1; i <= txs; i++ {
		mustExec(t, conn, replayTx(i))
	}
	catchUp(t, cfg, conn, col, col, time.Minute)
	if code, took := r.term(); code != 0 {
		t.Fatalf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
	first := append([]*rec(nil), col.recs...)
	slot, cp := inactiveSlot(t, conn, cfg.Slot), cfg.mustCheckpoint()
	if slot >= cp {
		t.Fatalf("with checkpoint.retain 1h the slot is at %s, not behind the checkpoint %s: no replay window", slot, cp)
	}
	commits := txCommits(first, cfg.topic("public.rp"))
	if len(commits) != txs {
		t.Fatalf("first run: %d transactions on %s, want %d", len(commits), cfg.topic("public.rp"), txs)
	}
	from := commits[4] // the 5th transaction
	var want []*rec
	for _, rc := range first {
		if rc.Commit >= from {
			want = append(want, rc)
		}
	}
	t.Logf("window [%s, %s]; replaying from %s: %d of %d records", slot, cp, from, len(want), len(first))

	r = startRelay(t, cfg, "--replay-from", from.String())
	if start := r.findLog("streaming")["start_lsn"]; start != from.String() {
		t.Errorf("--replay-from %s streams from %v", from, start)
	}
	catchUp(t, cfg, conn, col, col, time.Minute)
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay --replay-from exit code %d %s after SIGTERM, want 0", code, took)
	}
	checkReplay(t, want, col.recs[len(first):], from, cp)

	slot, cp = inactiveSlot(t, conn, cfg.Slot), cfg.mustCheckpoint()
	for _, out := range []pglogrepl.LSN{slot - 1, cp + 1} {
		r = spawnRelay(t, cfg, "--replay-from", out.String())
		code := r.waitExit(60 * time.Second)
		line := errorLine(r.output())
		t.Logf("--replay-from %s: exit %d: %s", out, code, line)
		if code == 0 || r.findLog("streaming") != nil {
			t.Errorf("--replay-from %s outside the window [%s, %s] was not refused (exit %d)", out, slot, cp, code)
		}
		requireWords(t, "the refusal of --replay-from "+out.String(), line, out.String(), "outside", "window", slot.String(), cp.String())
	}
}

// txCommits returns the distinct commit LSNs of topic's records, ascending.
func txCommits(recs []*rec, topic string) []pglogrepl.LSN {
	seen := map[pglogrepl.LSN]bool{}
	var out []pglogrepl.LSN
	for _, r := range recs {
		if r.Topic == topic && !seen[r.Commit] {
			seen[r.Commit] = true
			out = append(out, r.Commit)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// checkReplay checks the records a replay from `from` wrote: each of want
// exactly once with the same content and headers, nothing committed before
// from, and nothing else but transactions committed after the checkpoint
// cp the replay started from (the catch-up marker).
func checkReplay(t *testing.T, want, got []*rec, from, cp pglogrepl.LSN) {
	t.Helper()
	p := &problems{t: t, what: "replay"}
	defer p.done()
	byID := map[string][]*rec{}
	newer := 0
	for _, r := range got {
		byID[r.ID] = append(byID[r.ID], r)
		switch {
		case r.Commit < from:
			p.add("%s (commit %s) re-published, but it committed before --replay-from %s", r.ID, r.Commit, from)
		case r.Commit >= cp:
			newer++
		}
	}
	for _, w := range want {
		rs := byID[w.ID]
		if len(rs) != 1 {
			p.add("%s: %d records in the replay, want exactly 1", w.ID, len(rs))
			continue
		}
		if d := sameChange(w, rs[0]); d != "" {
			p.add("%s: replayed record differs from the first: %s", w.ID, d)
		}
		if !reflect.DeepEqual(w.Headers, rs[0].Headers) {
			p.add("%s: headers %v, first time %v", w.ID, rs[0].Headers, w.Headers)
		}
	}
	if len(got) != len(want)+newer || newer != 1 {
		p.add("%d records in the replay: %d expected again, %d committed after the checkpoint %s (want 1: the marker)",
			len(got), len(want), newer, cp)
	}
}
