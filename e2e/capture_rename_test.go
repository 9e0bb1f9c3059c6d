package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// captureFollowWarning is what walrelay logs for a table of postgres.tables
// it finds under another name (same OID).
const captureFollowWarning = "a table of postgres.tables was renamed or moved: walrelay captures it under its new " +
	"name (same OID), on that name's topic, until it stops; set postgres.tables to the new name: walrelay's next " +
	"start fails until it does"

// TestCaptureFollowsRenamedTable: without a rules file, a table of
// postgres.tables that is renamed (RENAME TO) or moved (SET SCHEMA) while
// walrelay streams keeps being captured under its new name, on the new
// name's topic, with a warning naming both names and the OID; a session
// restart inside the process keeps following it (it does not exit); the
// next start with the old postgres.tables fails naming the new name; the
// start with postgres.tables updated streams on. Every row change written
// along the way reaches Kafka, in commit order per key.
func TestCaptureFollowsRenamedTable(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE rn (id int PRIMARY KEY, v int NOT NULL);"+
		"CREATE TABLE mov (id int PRIMARY KEY, v int NOT NULL);"+
		"CREATE TABLE trig (id int PRIMARY KEY); CREATE SCHEMA fr_other;"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.rn", "public.mov", "public.trig", markerTable)
	cfg.set("publication.poll_interval", "500ms")
	topics := map[string][]string{ // logical table -> its topics, old name first
		"rn":  {cfg.topic("public.rn"), cfg.topic("public.rn2")},
		"mov": {cfg.topic("public.mov"), cfg.topic("fr_other.mov")},
	}
	col := newCollector(t, brokers, append(cfg.topics(), topics["rn"][1], topics["mov"][1])...)
	want := map[string][]string{} // logical table -> "id=N v=M" in commit order
	v := 0
	write := func(table, logical, sql string, id int) {
		t.Helper()
		v++
		mustExec(t, conn, fmt.Sprintf(sql, table, v, id))
		want[logical] = append(want[logical], fmt.Sprintf("id=%d v=%d", id, v))
	}
	const ins, upd = "INSERT INTO %s (v, id) VALUES (%d, %d)", "UPDATE %s SET v = %d WHERE id = %d"

	r := startRelay(t, cfg)
	write("rn", "rn", ins, 1)
	write("mov", "mov", ins, 1)
	write("rn", "rn", ins, 2)
	write("mov", "mov", ins, 2)
	catchUp(t, cfg, conn, col, col, time.Minute)

	mustExec(t, conn, "ALTER TABLE rn RENAME TO rn2; ALTER TABLE mov SET SCHEMA fr_other")
	write("rn2", "rn", ins, 3)
	write("rn2", "rn", upd, 1)
	write("fr_other.mov", "mov", ins, 3)
	write("fr_other.mov", "mov", upd, 1)
	catchUp(t, cfg, conn, col, col, time.Minute)
	for _, w := range [][2]string{{"public.rn2", "public.rn"}, {"fr_other.mov", "public.mov"}} {
		line := r.findLog(captureFollowWarning)
		for _, l := range r.logLines(captureFollowWarning) {
			if l["table"] == w[0] {
				line = l
			}
		}
		if line == nil || line["table"] != w[0] || line["listed"] != w[1] || line["oid"] == nil {
			t.Errorf("no warning naming %s (listed as %s) and its OID: %v", w[0], w[1], line)
		}
	}

	// A session restart inside the process: a table removed from the
	// publication by hand makes the session restart to add it back.
	mustExec(t, conn, "ALTER PUBLICATION "+cfg.Publication+" DROP TABLE trig")
	r.waitLogCount("streaming", 2, time.Minute)
	write("rn2", "rn", ins, 4)
	write("rn2", "rn", upd, 2)
	write("fr_other.mov", "mov", ins, 4)
	write("fr_other.mov", "mov", upd, 2)
	catchUp(t, cfg, conn, col, col, time.Minute)
	if r.exited() {
		t.Fatalf("walrelay exited after the session restart:\n%s", r.cfg.logTail(30))
	}
	if code, _ := r.term(); code != 0 {
		t.Fatalf("walrelay exited %d on SIGTERM", code)
	}

	// The next start with the old names fails, naming the new ones.
	write("rn2", "rn", ins, 5)
	old := spawnRelay(t, cfg)
	if code := old.waitExit(time.Minute); code == 0 {
		t.Fatalf("walrelay started with postgres.tables naming renamed tables")
	}
	out := errorLine(old.output())
	requireWords(t, "the error of a start with the old names", out, "public.rn", "public.rn2", "fr_other.mov")

	cfg.set("postgres.tables", []string{"public.rn2", "fr_other.mov", "public.trig", markerTable})
	startRelay(t, cfg)
	write("rn2", "rn", upd, 3)
	write("fr_other.mov", "mov", ins, 5)
	catchUp(t, cfg, conn, col, col, time.Minute)

	for logical, ts := range topics {
		var recs []*rec
		for _, rc := range col.recs {
			if (rc.Topic == ts[0] || rc.Topic == ts[1]) && !rc.Tombstone && rc.Env != nil && rc.Env.Op != "r" {
				recs = append(recs, rc)
			}
		}
		recs, _, conflicts := dedupe(recs)
		for _, c := range conflicts {
			t.Errorf("%s: %s", logical, c)
		}
		sortByID(recs)
		var got []string
		for _, rc := range recs {
			got = append(got, fmt.Sprintf("%s v=%s", rc.Key, fmtAny(rc.Env.After["v"])))
		}
		if strings.Join(got, "; ") != strings.Join(want[logical], "; ") {
			t.Errorf("%s: Kafka holds, in commit order:\n  %s\nwant every change written:\n  %s",
				logical, strings.Join(got, "; "), strings.Join(want[logical], "; "))
		}
	}
}
