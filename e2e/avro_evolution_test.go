package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/schema/registry"
)

// TestAvroSchemaEvolution: while walrelay streams, ADD COLUMN (without and
// with a default), DROP COLUMN and ALTER COLUMN TYPE to a wider type each
// register a new version of the value subject, and the records after each
// change carry its ID; the key subject keeps one version. Then a narrowing
// ALTER COLUMN TYPE halts the pipeline with the table, column and change
// named and the fix; nothing of it reaches Kafka until the operator allows
// the change for the subject (PUT /config/{subject} on the embedded
// registry, which keeps serving), after which every change arrives, none lost.
func TestAvroSchemaEvolution(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE evo (id int PRIMARY KEY, a int, c int);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.evo", markerTable)
	url := avroConfig(t, cfg)
	relay := startRelay(t, cfg)
	topic := cfg.topic("public.evo")
	col := newAvroCollector(t, brokers, url, cfg.topics()...)

	steps := []string{
		"INSERT INTO evo VALUES (1, 1, 1)",
		"ALTER TABLE evo ADD COLUMN b text; INSERT INTO evo (id, a, c, b) VALUES (2, 2, 2, 'two')",
		"ALTER TABLE evo ADD COLUMN d int NOT NULL DEFAULT 7; INSERT INTO evo (id, a, c, b) VALUES (3, 3, 3, 'three')",
		"ALTER TABLE evo DROP COLUMN a; INSERT INTO evo (id, c, b) VALUES (4, 4, 'four')",
		"ALTER TABLE evo ALTER COLUMN c TYPE bigint; INSERT INTO evo (id, c, b) VALUES (5, 5000000000, 'five')",
	}
	for _, s := range steps {
		mustExec(t, conn, s)
		catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute) // one relation version at a time
	}
	valueIDs := subjectVersionIDs(t, url, topic+"-value")
	keyIDs := subjectVersionIDs(t, url, topic+"-key")
	if len(valueIDs) != len(steps) || len(keyIDs) != 1 {
		t.Fatalf("value subject ids %v (want %d versions), key subject ids %v (want 1)", valueIDs, len(steps), keyIDs)
	}
	recs := col.byTopic(topic)
	if len(recs) != len(steps) {
		t.Fatalf("%d records on %s, want %d", len(recs), topic, len(steps))
	}
	for i, r := range recs {
		if r.Key != fmt.Sprintf("id=%d", i+1) || r.ValueID != valueIDs[i] || r.KeyID != keyIDs[0] {
			t.Errorf("record %d: key %s, value schema %d (version %d has %d), key schema %d (want %d)",
				i, r.Key, r.ValueID, i+1, valueIDs[i], r.KeyID, keyIDs[0])
		}
	}
	after := func(r *avroRec) map[string]any { return r.ValueMap["after"].(map[string]any) }
	if a := after(recs[2]); a["d"] != 7 || a["b"] != "three" {
		t.Errorf("after ADD COLUMN d DEFAULT 7: %v", a)
	}
	if a := after(recs[3]); a["a"] != nil || len(a) != 4 {
		t.Errorf("after DROP COLUMN a: %v", a)
	}
	if a := after(recs[4]); a["c"] != int64(5000000000) {
		t.Errorf("after ALTER c TYPE bigint: c = %#v", a["c"])
	}

	// Narrowing: bigint -> text is not BACKWARD compatible.
	mustExec(t, conn, "ALTER TABLE evo ALTER COLUMN c TYPE text USING c::text; INSERT INTO evo (id, c, b) VALUES (6, 'six', 'six')")
	mustExec(t, conn, "UPDATE evo SET c = 'one' WHERE id = 1")
	halt := relay.waitLog("pipeline halted; restarting from the checkpoint", time.Minute)
	msg, _ := halt["error"].(string)
	for _, want := range []string{"table public.evo", `column "c" changed type from int8`, "to text",
		`"` + topic + `-value" is BACKWARD`, "curl -X PUT", url + "/config/" + topic + "-value", "nothing is lost"} {
		if !strings.Contains(msg, want) {
			t.Errorf("halt message lacks %q:\n%s", want, msg)
		}
	}
	col.poll(2 * time.Second)
	if n := len(col.byTopic(topic)); n != len(steps) {
		t.Fatalf("%d records on %s while halted, want %d", n, topic, len(steps))
	}
	if got := subjectVersionIDs(t, url, topic+"-value"); len(got) != len(steps) {
		t.Fatalf("the incompatible schema was registered: %v", got)
	}

	// The operator allows the change; the retrying pipeline publishes it.
	var resp map[string]string
	status, err := httpJSON("PUT", url+"/config/"+topic+"-value", map[string]string{"compatibility": "NONE"}, &resp)
	if err != nil || status != 200 || resp["compatibility"] != string(registry.None) {
		t.Fatalf("PUT /config: %d %v %v", status, resp, err)
	}
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	valueIDs = subjectVersionIDs(t, url, topic+"-value")
	if len(valueIDs) != len(steps)+1 {
		t.Fatalf("value subject ids after the fix: %v", valueIDs)
	}
	recs = col.byTopic(topic)
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.ID]++
	}
	if len(seen) != len(steps)+2 {
		t.Fatalf("%d distinct events on %s, want %d (5 inserts, then insert 6 and update 1)", len(seen), topic, len(steps)+2)
	}
	last := recs[len(recs)-2:]
	if last[0].Key != "id=6" || after(last[0])["c"] != "six" || last[1].Key != "id=1" || last[1].Env.Op != "u" ||
		after(last[1])["c"] != "one" {
		t.Errorf("after the fix: %s %v, %s %s %v", last[0].Key, after(last[0]), last[1].Key, last[1].Env.Op, after(last[1]))
	}
	for _, r := range last {
		if r.ValueID != valueIDs[len(steps)] {
			t.Errorf("%s: value schema %d, want version %d's %d", r.ID, r.ValueID, len(steps)+1, valueIDs[len(steps)])
		}
	}
}
