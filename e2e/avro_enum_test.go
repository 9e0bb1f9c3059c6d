package e2e

import (
	"strings"
	"testing"
	"time"
)

// An enum column's Avro schema lists the type's labels as Debezium's
// io.debezium.data.Enum "allowed" parameter, and a label added while
// walrelay streams (ALTER TYPE ... ADD VALUE announces nothing in the
// replication stream) gets a new schema version that lists it, before the
// first record that carries it.
func TestAvroEnumLabels(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TYPE mood AS ENUM ('sad', 'happy');"+
		"CREATE TABLE en (id int PRIMARY KEY, m mood);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.en", markerTable)
	url := avroConfig(t, cfg)
	startRelay(t, cfg)
	topic := cfg.topic("public.en")
	col := newAvroCollector(t, brokers, url, cfg.topics()...)

	mustExec(t, conn, "INSERT INTO en VALUES (1, 'happy')")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	mustExec(t, conn, "ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy'")
	mustExec(t, conn, "INSERT INTO en VALUES (2, 'ok'); UPDATE en SET m = 'sad' WHERE id = 1")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)

	ids := subjectVersionIDs(t, url, topic+"-value")
	if len(ids) != 2 {
		t.Fatalf("value subject ids %v, want 2 versions", ids)
	}
	for i, want := range []string{"sad,happy", "sad,ok,happy"} {
		text := schemaText(t, url, ids[i])
		if !strings.Contains(text, `"connect.parameters":{"allowed":"`+want+`"}`) ||
			!strings.Contains(text, `"connect.name":"io.debezium.data.Enum"`) {
			t.Errorf("version %d lacks allowed %q:\n%s", i+1, want, text)
		}
	}
	recs := col.byTopic(topic)
	want := []struct {
		key, m string
		id     uint32
	}{{"id=1", "happy", ids[0]}, {"id=2", "ok", ids[1]}, {"id=1", "sad", ids[1]}}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		if got := r.ValueMap["after"].(map[string]any)["m"]; r.Key != w.key || got != w.m || r.ValueID != w.id {
			t.Errorf("record %d: %s m=%v schema %d, want %s m=%s schema %d", i, r.Key, got, r.ValueID, w.key, w.m, w.id)
		}
	}
}
