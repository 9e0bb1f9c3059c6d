package e2e

import (
	"testing"
	"time"
)

// TestCaptureSetFiltersPublication: without a rules file, postgres.tables is
// the capture set whatever the publication holds (Debezium's
// table.include.list). A publication created FOR ALL TABLES beforehand, and a
// table someone adds to it, publish more; walrelay drops those changes, logs
// the table once, and publishes every change of the listed tables.
func TestCaptureSetFiltersPublication(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE wanted (id int PRIMARY KEY, v text);"+
		"CREATE TABLE unwanted (id int PRIMARY KEY, v text);"+markerDDL+
		"CREATE PUBLICATION walrelay FOR ALL TABLES;")
	cfg := newRelayConfig(t, dsn, brokers, "public.wanted", markerTable)
	wanted, unwanted := cfg.topic("public.wanted"), cfg.topic("public.unwanted")
	col := newCollector(t, brokers, append(cfg.topics(), unwanted)...)
	r := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO wanted VALUES (1, 'a'); INSERT INTO unwanted VALUES (1, 'x');"+
		"BEGIN; INSERT INTO unwanted VALUES (2, 'y'); INSERT INTO wanted VALUES (2, 'b'); UPDATE wanted SET v = 'c' WHERE id = 1; COMMIT;"+
		"DELETE FROM unwanted WHERE id = 1; DELETE FROM wanted WHERE id = 2;")
	catchUp(t, cfg, conn, col, col, time.Minute)
	col.poll(2 * time.Second)
	got := map[string]int{}
	for _, rec := range col.recs {
		switch rec.Topic {
		case unwanted:
			t.Errorf("a change of public.unwanted (not in postgres.tables) was published: %s %s", rec.Key, rec.Value)
		case wanted:
			got[rec.Key]++
		}
	}
	// id=1: create, update; id=2: create, delete, tombstone.
	if got["id=1"] != 2 || got["id=2"] != 3 || len(got) != 2 {
		t.Errorf("public.wanted records per key %v, want id=1: 2, id=2: 3", got)
	}
	const warning = "the publication publishes a table outside postgres.tables: its changes are not captured " +
		"(add it to postgres.tables to capture it, or remove it from the publication)"
	if line := r.findLog(warning); line == nil || line["table"] != "public.unwanted" {
		t.Errorf("no warning naming public.unwanted: %v", line)
	}
	if n := r.countLog(warning); n != 1 {
		t.Errorf("the dropped table was logged %d times, want once", n)
	}
}
