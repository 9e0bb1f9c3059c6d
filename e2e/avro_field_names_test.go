package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAvroFieldNamesStable: the scale audit's D4 against the embedded
// registry. See checkFieldNamesStable.
func TestAvroFieldNamesStable(t *testing.T) {
	t.Parallel()
	checkFieldNamesStable(t, false)
}

// TestAvroFieldNamesStableExternal: the same against the external registry
// (Apicurio's ccompat API in CI), which must hand back the pg.column
// properties it was given.
func TestAvroFieldNamesStableExternal(t *testing.T) {
	t.Parallel()
	checkFieldNamesStable(t, true)
}

// checkFieldNamesStable: a table with column "x-y" (Avro field x_y) gains a
// column "x_y" while walrelay streams; field x_y keeps carrying "x-y" and
// "x_y" becomes x_y_2. walrelay is then stopped, a column "x.y" is added
// and a row written, and the restarted walrelay, whose first view of the
// table is that new definition, keeps x_y and x_y_2 and names "x.y" x_y_3;
// after one more restart without DDL, a row carries the same value schema.
// The registry records each renamed field's column in pg.column.
func checkFieldNamesStable(t *testing.T, external bool) {
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE fnames (id int PRIMARY KEY, "x-y" int);`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.fnames", markerTable)
	var url string
	if external {
		url = externalRegistry(t)
		cfg.set("format", "avro")
		cfg.set("schema_registry.url", url)
	} else {
		url = avroConfig(t, cfg)
	}
	topic := cfg.topic("public.fnames")
	col := newAvroCollector(t, brokers, url, cfg.topics()...)
	stop := func(r *relay) {
		t.Helper()
		if code, took := r.term(); code != 0 {
			t.Fatalf("walrelay exited %d after SIGTERM (%s)", code, took)
		}
	}

	relay := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO fnames VALUES (1, 111)")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	mustExec(t, conn, `ALTER TABLE fnames ADD COLUMN "x_y" int; INSERT INTO fnames VALUES (2, 222, 999)`)
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)

	stop(relay)
	mustExec(t, conn, `ALTER TABLE fnames ADD COLUMN "x.y" int; INSERT INTO fnames VALUES (3, 333, 777, 555)`)
	relay = startRelay(t, cfg)
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	stop(relay)
	startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO fnames VALUES (4, 444, 888, 666)")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)

	recs := col.byTopic(topic)
	want := []string{
		"id=1 x_y=111",
		"id=2 x_y=222 x_y_2=999",
		"id=3 x_y=333 x_y_2=777 x_y_3=555",
		"id=4 x_y=444 x_y_2=888 x_y_3=666",
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records on %s, want %d", len(recs), topic, len(want))
	}
	for i, r := range recs {
		if got := afterString(r); got != want[i] {
			t.Errorf("record %d: %s, want %s", i, got, want[i])
		}
	}
	values := subjectVersionIDs(t, url, topic+"-value")
	if len(values) != 3 || recs[2].ValueID != values[2] || recs[3].ValueID != values[2] {
		t.Errorf("value subject versions %v; records' value schemas %d, %d, %d, %d",
			values, recs[0].ValueID, recs[1].ValueID, recs[2].ValueID, recs[3].ValueID)
	}
	text := schemaText(t, url, recs[3].ValueID)
	for _, w := range []string{`"pg.column":"x-y"`, `"pg.column":"x_y"`, `"pg.column":"x.y"`} {
		if !strings.Contains(text, w) {
			t.Errorf("value schema %d lacks %s:\n%s", recs[3].ValueID, w, text)
		}
	}
}

// afterString renders a record's key and after image's fields other than
// id, in the order x_y, x_y_2, x_y_3 (those present).
func afterString(r *avroRec) string {
	a, _ := r.ValueMap["after"].(map[string]any)
	s := r.Key
	for _, f := range []string{"x_y", "x_y_2", "x_y_3"} {
		if v, ok := a[f]; ok {
			s += fmt.Sprintf(" %s=%v", f, v)
		}
	}
	if len(a) != strings.Count(s, "=") {
		s += fmt.Sprintf(" (after has %d fields: %v)", len(a), a)
	}
	return s
}
