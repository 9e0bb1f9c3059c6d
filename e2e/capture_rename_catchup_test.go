package e2e

import (
	"fmt"
	"testing"
	"time"
)

// TestCatchupFollowsRenamedTable: an incremental catch-up (a snapshot
// signal) of a table of postgres.tables that is renamed while the
// catch-up reads it reads the rest of its rows under the new name, in the
// same session: every row is read, under the old name's topic before the
// rename and the new name's after, and the catch-up completes. Then
// `walrelay snapshot` with the old config accepts the table's new name
// (followed by OID) and its signal snapshots it again on the new topic.
func TestCatchupFollowsRenamedTable(t *testing.T) {
	t.Parallel()
	const rows = 3000
	dsn, brokers, conn := newTestDB(t, fmt.Sprintf(
		"CREATE TABLE rc (id int PRIMARY KEY, v int NOT NULL); INSERT INTO rc SELECT g, g FROM generate_series(1, %d) g;", rows)+
		markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.rc", markerTable)
	cfg.set("snapshot.mode", "never")
	cfg.set("snapshot.catchup_chunk_size", 10)
	oldTopic, newTopic := cfg.topic("public.rc"), cfg.topic("public.rc2")
	col := newCollector(t, brokers, append(cfg.topics(), newTopic)...)
	r := startRelay(t, cfg)
	r.waitLog("streaming", time.Minute)
	if out, errOut, code := runWalrelay(t, 30*time.Second, "snapshot", "--config", cfg.path, "public.rc"); code != 0 {
		t.Fatalf("walrelay snapshot public.rc: exit %d\n%s%s", code, out, errOut)
	}
	waitCatchupCursor(t, cfg, "public.rc", 30*time.Second)
	if r.findLog("incremental snapshot completed") != nil {
		t.Fatal("the catch-up completed before the rename; the test needs a slower catch-up")
	}
	mustExec(t, conn, "ALTER TABLE rc RENAME TO rc2")
	r.waitLog("incremental snapshot completed", 2*time.Minute)
	catchUp(t, cfg, conn, col, col, time.Minute)
	if r.findLog("incremental snapshot: the table was dropped; its snapshot ends") != nil {
		t.Error("the renamed table's catch-up ended as if it was dropped")
	}
	reads := func() map[string]int {
		n := map[string]int{}
		for _, rc := range col.recs {
			if (rc.Topic == oldTopic || rc.Topic == newTopic) && rc.Env != nil && rc.Env.Op == "r" {
				n[rc.Key]++
			}
		}
		return n
	}
	got := reads()
	for id := 1; id <= rows; id++ {
		if got[fmt.Sprintf("id=%d", id)] == 0 {
			t.Fatalf("row id=%d was never read (%d of %d keys read): the catch-up left the renamed table's rows unread",
				id, len(got), rows)
		}
	}
	newReads := 0
	for _, rc := range col.recs {
		if rc.Topic == newTopic && rc.Env != nil && rc.Env.Op == "r" {
			newReads++
		}
	}
	if newReads == 0 {
		t.Errorf("no read on %s: the rows after the rename were not read under the new name", newTopic)
	}

	// The old config still names public.rc: the new name is accepted.
	if out, errOut, code := runWalrelay(t, 30*time.Second, "snapshot", "--config", cfg.path, "public.rc2"); code != 0 {
		t.Fatalf("walrelay snapshot public.rc2 (public.rc renamed, followed): exit %d\n%s%s", code, out, errOut)
	}
	r.waitLogCount("incremental snapshot completed", 2, 2*time.Minute)
	catchUp(t, cfg, conn, col, col, time.Minute)
	again := 0
	for _, rc := range col.recs {
		if rc.Topic == newTopic && rc.Env != nil && rc.Env.Op == "r" {
			again++
		}
	}
	if again-newReads != rows {
		t.Errorf("the second snapshot published %d reads on %s, want %d", again-newReads, newTopic, rows)
	}
}
