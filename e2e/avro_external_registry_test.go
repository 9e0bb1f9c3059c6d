package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// externalRegistry returns the URL of a third-party Confluent-compatible
// schema registry (CI starts Apicurio Registry with .ci/apicurio.sh), or
// skips the test.
func externalRegistry(t *testing.T) string {
	t.Helper()
	url := os.Getenv("WALRELAY_TEST_REGISTRY_URL")
	if url == "" {
		t.Skip("WALRELAY_TEST_REGISTRY_URL is not set: no external schema registry (bash .ci/apicurio.sh start DIR starts one)")
	}
	return url
}

// TestAvroExternalRegistry: walrelay with schema_registry.url pointing at a
// registry that is not its own (Apicurio Registry's Confluent-compatible
// API in CI) registers its key and value schemas there; a consumer that
// fetches the schemas by ID from that registry decodes every record with
// the right values; DDL registers the next version under the same subject;
// and a change the subject's compatibility level refuses halts walrelay
// with the error naming the table, the column and the subject, publishing
// nothing of it.
func TestAvroExternalRegistry(t *testing.T) {
	t.Parallel()
	url := externalRegistry(t)
	dsn, brokers, conn := newTestDB(t, "CREATE TYPE xmood AS ENUM ('sad', 'happy');"+
		"CREATE TABLE ext (id int PRIMARY KEY, note text, amount numeric(10,2), m xmood);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.ext", markerTable)
	cfg.set("format", "avro")
	cfg.set("schema_registry.url", url)
	topic := cfg.topic("public.ext")
	col := newAvroCollector(t, brokers, url, cfg.topics()...)
	relay := startRelay(t, cfg)

	mustExec(t, conn, "INSERT INTO ext VALUES (1, 'one', 12.34, 'happy'), (2, NULL, -0.5, 'sad')")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	mustExec(t, conn, "ALTER TABLE ext ADD COLUMN extra text; INSERT INTO ext VALUES (3, 'three', 3, 'sad', 'x')")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)

	recs := col.byTopic(topic)
	want := []string{"id=1 note=one amount=12.34 m=happy", "id=2 note=<nil> amount=-0.5 m=sad",
		"id=3 note=three amount=3 m=sad extra=x"}
	if len(recs) != len(want) {
		t.Fatalf("%d records on %s, want %d", len(recs), topic, len(want))
	}
	for i, r := range recs {
		a := r.ValueMap["after"].(map[string]any)
		got := fmt.Sprintf("%s note=%v amount=%v m=%v", r.Key, a["note"], ratString(a["amount"]), a["m"])
		if e, ok := a["extra"]; ok {
			got += fmt.Sprintf(" extra=%v", e)
		}
		if got != want[i] {
			t.Errorf("record %d: %s, want %s", i, got, want[i])
		}
	}
	values := subjectVersionIDs(t, url, topic+"-value")
	if len(values) != 2 || recs[0].ValueID != values[0] || recs[2].ValueID != values[1] {
		t.Errorf("value subject versions %v; records' value schemas %d, %d", values, recs[0].ValueID, recs[2].ValueID)
	}
	if keys := subjectVersionIDs(t, url, topic+"-key"); len(keys) != 1 || recs[0].KeyID != keys[0] {
		t.Errorf("key subject versions %v; record's key schema %d", keys, recs[0].KeyID)
	}

	// The subject refuses incompatible changes: text -> int is one.
	status, err := httpJSON("PUT", url+"/config/"+topic+"-value", map[string]string{"compatibility": "BACKWARD"}, nil)
	if err != nil || status != 200 {
		t.Fatalf("PUT /config/%s-value: %d %v", topic, status, err)
	}
	mustExec(t, conn, "ALTER TABLE ext ALTER COLUMN note TYPE int USING length(note); INSERT INTO ext (id, note) VALUES (4, 4)")
	// The first halt that names public.ext: an earlier one can be the
	// shared registry's transient error (Apicurio's H2 storage refuses
	// concurrent inserts of one schema's content now and then), after
	// which the session restarted and went on.
	var msg string
	for n := len(relay.logLines("pipeline halted; restarting from the checkpoint")) + 1; !strings.Contains(msg, "table public.ext"); n++ {
		halt := relay.waitLogCount("pipeline halted; restarting from the checkpoint", n, time.Minute)
		msg, _ = halt["error"].(string)
	}
	t.Logf("halt: %s", msg)
	for _, w := range []string{"table public.ext", `column "note"`, topic + "-value"} {
		if !strings.Contains(msg, w) {
			t.Errorf("halt message lacks %q:\n%s", w, msg)
		}
	}
	col.poll(2 * time.Second)
	if n := len(col.byTopic(topic)); n != len(want) {
		t.Errorf("%d records on %s after the refused change, want %d", n, topic, len(want))
	}
}

// ratString renders an Avro decimal (a *big.Rat from hamba/avro) as a
// plain number.
func ratString(v any) string {
	if r, ok := v.(interface{ FloatString(int) string }); ok {
		s := strings.TrimRight(r.FloatString(2), "0")
		return strings.TrimSuffix(s, ".")
	}
	return fmt.Sprint(v)
}
