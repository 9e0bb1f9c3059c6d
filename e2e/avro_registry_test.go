package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/schema/registry"
)

// TestAvroRegistryRestart: the embedded registry keeps its schema IDs
// across a walrelay restart (records before and after carry the same IDs,
// and the registry serves the same schema texts under them), and its REST
// API answers as Confluent's does, status codes and error bodies included.
func TestAvroRegistryRestart(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE reg (id int PRIMARY KEY, note text);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.reg", markerTable)
	url := avroConfig(t, cfg)
	topic := cfg.topic("public.reg")
	col := newAvroCollector(t, brokers, url, cfg.topics()...)

	relay := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO reg VALUES (1, 'one')")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	first := col.byTopic(topic)
	if len(first) != 1 {
		t.Fatalf("%d records before the restart", len(first))
	}
	texts := map[uint32]string{}
	for _, id := range []uint32{first[0].KeyID, first[0].ValueID} {
		texts[id] = schemaText(t, url, id)
	}
	subjects := listSubjects(t, url)
	if code, took := relay.term(); code != 0 {
		t.Fatalf("walrelay exited %d after SIGTERM (%s)", code, took)
	}
	if _, err := httpJSON("GET", url+"/subjects", nil, nil); err == nil {
		t.Errorf("the registry still answers after walrelay stopped")
	}

	startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO reg VALUES (2, 'two')")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	all := col.byTopic(topic)
	second := all[len(all)-1]
	if second.Key != "id=2" || second.KeyID != first[0].KeyID || second.ValueID != first[0].ValueID {
		t.Errorf("after restart: %s key schema %d value schema %d, before %d %d",
			second.Key, second.KeyID, second.ValueID, first[0].KeyID, first[0].ValueID)
	}
	for id, text := range texts {
		if got := schemaText(t, url, id); got != text {
			t.Errorf("schema %d changed across the restart:\n%s\n%s", id, text, got)
		}
	}
	if got := listSubjects(t, url); strings.Join(got, ",") != strings.Join(subjects, ",") {
		t.Errorf("subjects %v, before the restart %v", got, subjects)
	}
	if ids := subjectVersionIDs(t, url, topic+"-value"); len(ids) != 1 || ids[0] != first[0].ValueID {
		t.Errorf("value subject versions %v", ids)
	}
	checkRegistryREST(t, url, topic+"-value", texts[first[0].ValueID], first[0].ValueID)
}

func schemaText(t *testing.T, url string, id uint32) string {
	t.Helper()
	var body struct {
		Schema string `json:"schema"`
	}
	if status, err := httpJSON("GET", fmt.Sprintf("%s/schemas/ids/%d", url, id), nil, &body); err != nil || status != 200 {
		t.Fatalf("GET /schemas/ids/%d: %d %v", id, status, err)
	}
	return body.Schema
}

func listSubjects(t *testing.T, url string) []string {
	t.Helper()
	var s []string
	if status, err := httpJSON("GET", url+"/subjects", nil, &s); err != nil || status != 200 {
		t.Fatalf("GET /subjects: %d %v", status, err)
	}
	return s
}

// checkRegistryREST calls the endpoints consumers and operators use on a
// live walrelay and compares status and body with Confluent's.
func checkRegistryREST(t *testing.T, url, subject, text string, id uint32) {
	t.Helper()
	type errBody struct {
		Code    int    `json:"error_code"`
		Message string `json:"message"`
	}
	errCases := []struct {
		method, path string
		body         any
		status, code int
		message      string
	}{
		{"GET", "/subjects/nope/versions", nil, 404, registry.CodeSubjectNotFound, "Subject 'nope' not found."},
		{"GET", "/subjects/" + subject + "/versions/9", nil, 404, registry.CodeVersionNotFound, "Version 9 not found."},
		{"GET", "/subjects/" + subject + "/versions/zero", nil, 422, registry.CodeInvalidVersion, ""},
		{"GET", "/schemas/ids/99999", nil, 404, registry.CodeSchemaNotFound, "Schema 99999 not found"},
		{"POST", "/subjects/" + subject, map[string]string{"schema": `"string"`}, 404, registry.CodeSchemaNotFound, "Schema not found"},
		{"POST", "/subjects/" + subject + "/versions", map[string]string{"schema": `{"type":"record"}`}, 422, registry.CodeInvalidSchema, ""},
		{"POST", "/subjects/" + subject + "/versions", map[string]string{"schema": `"string"`}, 409, registry.CodeIncompatible, ""},
		{"PUT", "/config/" + subject, map[string]string{"compatibility": "SOMETIMES"}, 422, registry.CodeInvalidLevel, ""},
		{"GET", "/config/" + subject, nil, 404, registry.CodeSubjectLevelNotSet, ""},
	}
	for _, c := range errCases {
		var e errBody
		status, err := httpJSON(c.method, url+c.path, c.body, &e)
		if err != nil || status != c.status || e.Code != c.code || c.message != "" && e.Message != c.message {
			t.Errorf("%s %s: %d %+v %v, want %d %d %q", c.method, c.path, status, e, err, c.status, c.code, c.message)
		}
	}
	var found struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
		ID      uint32 `json:"id"`
		Schema  string `json:"schema"`
	}
	if status, err := httpJSON("POST", url+"/subjects/"+subject, map[string]string{"schema": text}, &found); err != nil ||
		status != 200 || found.ID != id || found.Version != 1 || found.Subject != subject || found.Schema != text {
		t.Errorf("lookup: %d %+v %v", status, found, err)
	}
	var latest = found
	if status, err := httpJSON("GET", url+"/subjects/"+subject+"/versions/latest", nil, &latest); err != nil || status != 200 || latest.ID != id {
		t.Errorf("latest: %d %+v %v", status, latest, err)
	}
	var compat map[string]bool
	if status, err := httpJSON("POST", url+"/compatibility/subjects/"+subject+"/versions/latest",
		map[string]string{"schema": text}, &compat); err != nil || status != 200 || !compat["is_compatible"] {
		t.Errorf("compatibility: %d %v %v", status, compat, err)
	}
	var cfg map[string]string
	if status, err := httpJSON("GET", url+"/config", nil, &cfg); err != nil || status != 200 || cfg["compatibilityLevel"] != "BACKWARD" {
		t.Errorf("GET /config: %d %v %v", status, cfg, err)
	}
}
