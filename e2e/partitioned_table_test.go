package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// partitionedDDL is a range-partitioned table with two partitions and a
// row in each, read by the initial snapshot.
const partitionedDDL = `
CREATE TABLE pt (id int NOT NULL, k int NOT NULL, v text, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE pt_a PARTITION OF pt FOR VALUES FROM (0) TO (10);
CREATE TABLE pt_b PARTITION OF pt FOR VALUES FROM (10) TO (20);
INSERT INTO pt VALUES (1, 1, 'snap-a'), (2, 11, 'snap-b');
` + markerDDL

// TestPartitionedTableTables: a partitioned table in postgres.tables, with
// the publication an earlier walrelay made for it (FOR TABLE pt, without
// publish_via_partition_root: the audit's D1 and D2). walrelay sets
// publish_via_partition_root, so the snapshot and every change of both
// partitions arrive on the partitioned table's topic; a restart succeeds
// and loses nothing.
func TestPartitionedTableTables(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, partitionedDDL+"CREATE PUBLICATION walrelay FOR TABLE pt, e2e_marker;")
	cfg := newRelayConfig(t, dsn, brokers, "public.pt", markerTable)
	r := startRelay(t, cfg)
	if r.findLog("set publish_via_partition_root on the publication: changes of partitioned tables "+
		"committed from now on are published under the partitioned table's name and topic, as its snapshot is") == nil {
		t.Errorf("walrelay did not log that it set publish_via_partition_root; log tail:\n%s", cfg.logTail(20))
	}
	checkPartitioned(t, cfg, conn, r)
}

// TestPartitionedTableRules: the same with the partitioned table captured
// by a rules file (a managed publication walrelay creates): it holds pt,
// not its partitions, with publish_via_partition_root.
func TestPartitionedTableRules(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, partitionedDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, "rules:\n  - tables: [public.pt, public.e2e_marker]\n")
	r := startRelay(t, cfg)
	if got := publicationTables(t, conn, cfg.Publication); strings.Join(got, ",") != "public.e2e_marker,public.pt" {
		t.Errorf("publication holds %v, want public.e2e_marker and public.pt", got)
	}
	checkPartitioned(t, cfg, conn, r)
}

// checkPartitioned runs the changes of both partitions against a started
// relay, restarts it, runs more, and checks that every event, the snapshot
// rows included, is on pt's topic with pt's name, keys and values, and
// that no partition has a topic.
func checkPartitioned(t *testing.T, cfg *relayConfig, conn *pgx.Conn, r *relay) {
	t.Helper()
	ptTopic := cfg.topic("public.pt")
	topics := []string{ptTopic, cfg.topic(markerTable)}
	col := newCollector(t, cfg.Brokers, topics...)
	mustExec(t, conn, "INSERT INTO pt VALUES (3, 2, 'ins-a'), (4, 12, 'ins-b')")
	mustExec(t, conn, "UPDATE pt SET v = 'upd-a' WHERE id = 1; UPDATE pt SET v = 'upd-b' WHERE id = 2")
	mustExec(t, conn, "DELETE FROM pt WHERE id = 3; DELETE FROM pt WHERE id = 4")
	mustExec(t, conn, "UPDATE pt SET k = 15, v = 'moved-to-b' WHERE id = 1") // pt_a -> pt_b
	catchUp(t, cfg, conn, col, col, time.Minute)
	want := []string{
		"r id=1,k=1 after=snap-a", "r id=2,k=11 after=snap-b",
		"c id=3,k=2 after=ins-a", "c id=4,k=12 after=ins-b",
		"u id=1,k=1 after=upd-a", "u id=2,k=11 after=upd-b",
		"d id=3,k=2 before=<nil>", "tombstone id=3,k=2", "d id=4,k=12 before=<nil>", "tombstone id=4,k=12",
		"d id=1,k=1 before=<nil>", "tombstone id=1,k=1", "c id=1,k=15 after=moved-to-b",
	}
	checkPtEvents(t, col, ptTopic, want)

	if code, _ := r.term(); code != 0 {
		t.Fatalf("walrelay exited %d on SIGTERM; log tail:\n%s", code, cfg.logTail(20))
	}
	mustExec(t, conn, "INSERT INTO pt VALUES (5, 5, 'down-a'); UPDATE pt SET v = 'down-b' WHERE id = 2")
	r = startRelay(t, cfg)
	if r.findLog("snapshot started") != nil || r.findLog("created publication") != nil {
		t.Errorf("the restart took a snapshot or created the publication again; log tail:\n%s", cfg.logTail(20))
	}
	mustExec(t, conn, "INSERT INTO pt VALUES (6, 16, 'after-b')")
	mustExec(t, conn, "UPDATE pt SET k = 3, v = 'moved-to-a' WHERE id = 1") // pt_b -> pt_a
	catchUp(t, cfg, conn, col, col, time.Minute)
	want = append(want,
		"c id=5,k=5 after=down-a", "u id=2,k=11 after=down-b", "c id=6,k=16 after=after-b",
		"d id=1,k=15 before=<nil>", "tombstone id=1,k=15", "c id=1,k=3 after=moved-to-a")
	checkPtEvents(t, col, ptTopic, want)
	noOtherTopics(t, col, cfg.TopicPrefix, topics)
	checkPtState(t, conn, col, ptTopic)
}

// checkPtEvents compares pt's events, in ce_id order with redeliveries of
// the same ce_id dropped, with want ("op key before/after=v"); every one
// must name public.pt as its source.
func checkPtEvents(t *testing.T, col *collector, topic string, want []string) {
	t.Helper()
	seen := map[string]bool{}
	var got []string
	for _, r := range byTopic(col.recs)[topic] {
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		switch {
		case r.Tombstone:
			got = append(got, "tombstone "+r.Key)
			continue
		case r.Env.Source.Schema != "public" || r.Env.Source.Table != "pt":
			t.Errorf("event %s %s names source %s.%s, want public.pt", r.ID, r.Key, r.Env.Source.Schema, r.Env.Source.Table)
		}
		img, which := r.Env.After, "after"
		if r.Env.Op == "d" {
			img, which = r.Env.Before, "before"
			if fmt.Sprint(img["id"])+","+fmt.Sprint(img["k"]) != strings.NewReplacer("id=", "", "k=", "").Replace(r.Key) {
				t.Errorf("delete %s: before image %v does not hold its key", r.Key, img)
			}
		}
		got = append(got, fmt.Sprintf("%s %s %s=%v", r.Env.Op, r.Key, which, img["v"]))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events on %s:\n  %s\nwant:\n  %s", topic, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// checkPtState checks that the newest event of every key on the topic
// gives exactly the table's rows: a compacted topic equals the table.
func checkPtState(t *testing.T, conn *pgx.Conn, col *collector, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, "SELECT format('id=%s,k=%s', id, k), v FROM pt")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	var key, v string
	if _, err := pgx.ForEachRow(rows, []any{&key, &v}, func() error { want[key] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range byTopic(col.recs)[topic] {
		if r.Tombstone {
			delete(got, r.Key)
		} else if r.Env.After != nil {
			got[r.Key] = fmt.Sprint(r.Env.After["v"])
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the topic's newest value per key %v, the table %v", got, want)
	}
}
