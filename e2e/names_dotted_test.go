package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestDottedSchemaTable: a table whose schema name has a dot, named in
// postgres.tables PostgreSQL-style ("x.y".z), is captured (snapshot and
// stream) on <prefix>.x.y.z, and `walrelay snapshot '"x.y".z'` publishes
// its rows again: the name is not split at its first dot.
func TestDottedSchemaTable(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL+`CREATE SCHEMA "x.y";
		CREATE TABLE "x.y".z (id int PRIMARY KEY, v text);
		INSERT INTO "x.y".z VALUES (1, 'one'), (2, 'two');`)
	cfg := newRelayConfig(t, dsn, brokers, `"x.y".z`, markerTable)
	topic := cfg.TopicPrefix + ".x.y.z"
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, topic, cfg.topic(markerTable))
	mustExec(t, conn, `INSERT INTO "x.y".z VALUES (3, 'three')`)
	catchUp(t, cfg, conn, col, col, time.Minute)

	out, errOut, code := runWalrelay(t, 30*time.Second, "snapshot", "--config", cfg.path, `"x.y".z`)
	if code != 0 || !strings.Contains(out, `snapshot signal for "x.y".z written at `) {
		t.Fatalf("walrelay snapshot: exit %d\n%s%s", code, out, errOut)
	}
	r.waitLog("incremental snapshot completed", time.Minute)
	catchUp(t, cfg, conn, col, col, time.Minute)
	ops := map[string]string{}
	for _, rc := range col.recs {
		if rc.Topic == topic && rc.Env != nil {
			ops[rc.Key] += rc.Env.Op
		}
	}
	for key, want := range map[string]string{"id=1": "rr", "id=2": "rr", "id=3": "cr"} {
		if ops[key] != want {
			t.Errorf("%s on %s: ops %q, want %q (all: %v)", key, topic, ops[key], want, ops)
		}
	}
}
