package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// debeziumSource is the full name of Debezium's Source record, which its
// Avro converter registers as a schema reference of every value schema.
const debeziumSource = "io.debezium.connector.postgresql.Source"

// TestAvroReferencedLatest: a value subject whose latest version
// references the Source record in another subject, as Debezium's Avro
// converter registers it (a migration from Debezium on its topics), does
// not halt walrelay on "unknown type": walrelay resolves the reference,
// checks its next schema against that version itself, and registers it as
// the next version, its records decoding with the new column. Apicurio 2.4
// cannot run its own compatibility rule against a version with references:
// with a BACKWARD rule on the subject it refuses the schema (42201), and
// walrelay's halt says so; once the rule is gone the schema is registered.
func TestAvroReferencedLatest(t *testing.T) {
	t.Parallel()
	url := externalRegistry(t)
	if !strings.Contains(url, "/apis/ccompat/") {
		t.Skipf("WALRELAY_TEST_REGISTRY_URL %s is not Apicurio's ccompat API", url)
	}
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE ref1 (id int PRIMARY KEY, a text);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.ref1", markerTable)
	cfg.set("format", "avro")
	cfg.set("schema_registry.url", url)
	topic := cfg.topic("public.ref1")
	subject, sourceSubject := topic+"-value", topic+".Source"
	native := strings.Replace(strings.TrimRight(url, "/"), "/apis/ccompat/v7", "/apis/registry/v2/groups/default/artifacts", 1)
	t.Cleanup(func() {
		for _, s := range []string{topic + "-key", subject, sourceSubject, cfg.topic(markerTable) + "-key", cfg.topic(markerTable) + "-value"} {
			if status, err := httpJSON(http.MethodDelete, native+"/"+s, nil, nil); err != nil || status >= 300 && status != 404 {
				t.Logf("delete artifact %s: %d %v", s, status, err)
			}
		}
	})
	col := newAvroCollector(t, brokers, url, cfg.topics()...)
	relay := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO ref1 VALUES (1, 'one')")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	relay.stop()
	registerReferencing(t, url, subject, sourceSubject)

	mustExec(t, conn, "ALTER TABLE ref1 ADD COLUMN b int; INSERT INTO ref1 VALUES (2, 'two', 22)")
	if status, err := httpJSON(http.MethodPut, url+"/config/"+subject, map[string]string{"compatibility": "BACKWARD"}, nil); err != nil || status != 200 {
		t.Fatalf("PUT /config/%s: %d %v", subject, status, err)
	}
	relay = startRelay(t, cfg)
	const halt = "pipeline halted; restarting from the checkpoint"
	var halted map[string]any
	for deadline := time.Now().Add(time.Minute); halted == nil && len(col.byTopic(topic)) < 2 && time.Now().Before(deadline); {
		col.poll(time.Second)
		halted = relay.findLog(halt)
	}
	if halted != nil {
		msg, _ := halted["error"].(string)
		t.Logf("the registry refused the schema under its BACKWARD rule: %s", msg)
		for _, w := range []string{subject, "BACKWARD-compatible", "references to " + fmt.Sprintf("%q", sourceSubject)} {
			if !strings.Contains(msg, w) {
				t.Errorf("halt message lacks %q:\n%s", w, msg)
			}
		}
		if strings.Contains(msg, "unknown type") {
			t.Errorf("the referencing version did not parse:\n%s", msg)
		}
		// The operator's way out here (walrelay checked compatibility itself): the subject's rule removed.
		if status, err := httpJSON(http.MethodPut, url+"/config/"+subject, map[string]string{"compatibility": "NONE"}, nil); err != nil || status != 200 {
			t.Fatalf("PUT /config/%s NONE: %d %v", subject, status, err)
		}
	}
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	recs := col.byTopic(topic)
	if len(recs) != 2 {
		t.Fatalf("%d records on %s, want 2", len(recs), topic)
	}
	if a, _ := recs[1].ValueMap["after"].(map[string]any); a["a"] != "two" || a["b"] != 22 {
		t.Errorf("record 2 after = %v, want a=two b=22", recs[1].ValueMap["after"])
	}
	if n := len(subjectVersionIDs(t, url, subject)); n != 3 {
		t.Errorf("%d versions of %s, want 3 (walrelay's, the referencing one, walrelay's next)", n, subject)
	}
}

// registerReferencing registers subject's latest schema again, as
// Debezium's Avro converter would: its Source record moved to
// sourceSubject and referenced from the value schema.
func registerReferencing(t *testing.T, url, subject, sourceSubject string) {
	t.Helper()
	var latest struct{ Schema string }
	if status, err := httpJSON(http.MethodGet, url+"/subjects/"+subject+"/versions/latest", nil, &latest); err != nil || status != 200 {
		t.Fatalf("latest of %s: %d %v", subject, status, err)
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(latest.Schema), &env); err != nil {
		t.Fatal(err)
	}
	var source []byte
	for _, f := range env["fields"].([]any) {
		if f := f.(map[string]any); f["name"] == "source" {
			source, _ = json.Marshal(f["type"])
			f["type"] = debeziumSource
		}
	}
	referencing, _ := json.Marshal(env)
	for _, reg := range []struct {
		subject string
		body    map[string]any
	}{
		{sourceSubject, map[string]any{"schema": string(source)}},
		{subject, map[string]any{"schema": string(referencing),
			"references": []map[string]any{{"name": debeziumSource, "subject": sourceSubject, "version": 1}}}},
	} {
		var out map[string]any
		if status, err := httpJSON(http.MethodPost, url+"/subjects/"+reg.subject+"/versions", reg.body, &out); err != nil || status != 200 {
			t.Fatalf("register %s: %d %v %v", reg.subject, status, err, out)
		}
	}
}
