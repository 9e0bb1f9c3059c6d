package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// publicationWatchWarning is what walrelay logs for a table of
// postgres.tables that someone removed from its publication by hand.
const publicationWatchWarning = "removed from the publication by hand: restarting the session to add it back and " +
	"snapshot its rows; changes made to it meanwhile, deletes included, were not decoded"

// TestPublicationWatchRestoresRemovedTable: without a rules file, a table
// of postgres.tables that someone removes from the publication while
// walrelay streams (ALTER PUBLICATION ... DROP TABLE) is noticed within a
// few publication.poll_interval: walrelay logs a warning naming it, restarts
// its session, adds it back and publishes its rows by a catch-up snapshot,
// so the rows written while it was out (inserted, or updated) reach Kafka
// with their current values, and its later changes stream again.
func TestPublicationWatchRestoresRemovedTable(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE pw_a (id int PRIMARY KEY, v int NOT NULL);"+
		"CREATE TABLE pw_b (id int PRIMARY KEY, v int NOT NULL);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.pw_a", "public.pw_b", markerTable)
	cfg.set("publication.poll_interval", "500ms")
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO pw_a SELECT g, 1 FROM generate_series(1, 10) g;"+
		"INSERT INTO pw_b SELECT g, 1 FROM generate_series(1, 10) g")
	catchUp(t, cfg, conn, col, col, time.Minute)

	mustExec(t, conn, "ALTER PUBLICATION "+cfg.Publication+" DROP TABLE pw_b")
	mustExec(t, conn, "INSERT INTO pw_b SELECT g, 2 FROM generate_series(11, 300) g")
	mustExec(t, conn, "UPDATE pw_b SET v = 2 WHERE id <= 5")
	mustExec(t, conn, "INSERT INTO pw_a VALUES (11, 2)")
	line := r.waitLog(publicationWatchWarning, 20*time.Second) // 40 poll intervals
	if line["table"] != "public.pw_b" || line["publication"] != cfg.Publication || line["level"] != "warn" {
		t.Errorf("warning %v, want level warn naming public.pw_b and %s", line, cfg.Publication)
	}
	r.waitLog("restarting the session to snapshot the tables added to the capture set", time.Minute)
	r.waitLogCount("streaming", 2, time.Minute)
	r.waitLog("incremental snapshot completed", time.Minute)
	if got := publicationTables(t, conn, cfg.Publication); !slices.Contains(got, "public.pw_b") {
		t.Errorf("publication holds %q after the restart, without public.pw_b", got)
	}
	mustExec(t, conn, "INSERT INTO pw_b VALUES (301, 3); UPDATE pw_b SET v = 3 WHERE id = 1")
	catchUp(t, cfg, conn, col, col, time.Minute)

	checkLastV(t, lastV(col.recs, cfg.topic("public.pw_b")), 301, func(id int) string {
		switch {
		case id == 1 || id == 301:
			return "3"
		case id > 10 || id <= 5:
			return "2"
		}
		return "1"
	})
	checkLastV(t, lastV(col.recs, cfg.topic("public.pw_a")), 11, func(id int) string {
		return map[bool]string{true: "2", false: "1"}[id == 11]
	})
	// The rows inserted while pw_b was out were never decoded: the catch-up
	// snapshot's reads are their first events.
	first := map[string]string{}
	for _, rc := range col.recs {
		if rc.Topic == cfg.topic("public.pw_b") && rc.Env != nil && first[rc.Key] == "" {
			first[rc.Key] = rc.Env.Op
		}
	}
	for id := 11; id <= 300; id++ {
		if k := fmt.Sprintf("id=%d", id); first[k] != "r" {
			t.Errorf("%s, inserted while pw_b was out of the publication: first event %q, want a read", k, first[k])
			break
		}
	}
	if n := r.countLog(publicationWatchWarning); n != 1 {
		t.Errorf("the removal was logged %d times, want once", n)
	}
	if n := r.countLog("pipeline halted; restarting from the checkpoint"); n != 0 {
		t.Errorf("the restart was logged as a failure (%d)", n)
	}
}
