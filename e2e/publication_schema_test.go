package e2e

import (
	"testing"
	"time"
)

// TestSchemaPublicationNoCatchup: with a publication made by the owner FOR
// TABLES IN SCHEMA (PostgreSQL 15), the tables of postgres.tables it holds
// through their schema are captured: a restart must not take them for
// tables added to the capture set and snapshot them again.
func TestSchemaPublicationNoCatchup(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, v int);
INSERT INTO app.orders SELECT g, 0 FROM generate_series(1, 3) g;`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "app.orders", markerTable)
	mustExec(t, conn, "CREATE PUBLICATION "+cfg.Publication+" FOR TABLES IN SCHEMA app, public")
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("app.orders"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, time.Minute)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	r = startRelay(t, cfg)
	mustExec(t, conn, "UPDATE app.orders SET v = 1 WHERE id = 1")
	catchUp(t, cfg, conn, col, col, time.Minute)
	if n := len(r.logLines("snapshot started")) + len(r.logLines("incremental snapshot completed")); n != 0 {
		t.Errorf("the second start snapshotted again (%d log lines): the schema's tables were taken as added", n)
	}
	reads := 0
	for _, rc := range col.recs {
		if rc.Topic == cfg.topic("app.orders") && rc.Env != nil && rc.Env.Op == "r" {
			reads++
		}
	}
	if reads != 3 {
		t.Errorf("%d reads of app.orders, want the initial snapshot's 3", reads)
	}
}
