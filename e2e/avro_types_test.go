package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/schema"
)

// TestAvroTypeRoundTrip: on a table with every type of the core issue
// (REPLICA IDENTITY FULL, so updates and deletes carry every column),
// insert, update, delete and truncate reach Kafka in the Confluent wire
// format; every key and value decodes with the schema fetched by its ID from
// walrelay's registry to the value the JSON format documents.
func TestAvroTypeRoundTrip(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	brokers := kafkaBrokers(t)
	conn := connect(t, dsn)
	cases := typeCases() // the same values as the JSON format's
	var cols []string
	for _, c := range cases {
		cols = append(cols, c.col+" "+c.typ)
	}
	mustExec(t, conn, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');"+
		"CREATE TABLE alltypes (id int PRIMARY KEY, "+strings.Join(cols, ", ")+");"+
		"ALTER TABLE alltypes REPLICA IDENTITY FULL;"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.alltypes", markerTable)
	url := avroConfig(t, cfg)
	startRelay(t, cfg)

	insertTypeRows(t, conn, cases)
	texts := textForms(t, conn, cases)
	mustExec(t, conn, "UPDATE alltypes SET c_int2 = 7 WHERE id = 1")
	mustExec(t, conn, "DELETE FROM alltypes WHERE id = 3")
	mustExec(t, conn, "TRUNCATE alltypes")

	col := newAvroCollector(t, brokers, url, cfg.topics()...)
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	recs := col.byTopic(cfg.topic("public.alltypes"))
	var ops []string
	for _, r := range recs {
		if r.Tombstone {
			ops = append(ops, "tombstone "+r.Key)
			continue
		}
		ops = append(ops, r.Env.Op+" "+r.Key)
		if r.Headers["content-type"] != schema.ContentTypeAvro {
			t.Errorf("%s: content-type %q", r.ID, r.Headers["content-type"])
		}
	}
	want := []string{"c id=1", "c id=3", "c id=4", "c id=2", "u id=1", "d id=3", "tombstone id=3", "t null"}
	if strings.Join(ops, ", ") != strings.Join(want, ", ") {
		t.Fatalf("records\n got %s\nwant %s", strings.Join(ops, ", "), strings.Join(want, ", "))
	}
	for i, id := range []int{1, 3, 4, 2} {
		checkTypeRow(t, fmt.Sprintf("id=%d", id), rawImage(t, recs[i], "after"), cases, []int{0, 1, 2, 3}[i], texts)
	}
	upd, del, trunc := recs[4], recs[5], recs[7]
	checkTypeRow(t, "id=1", rawImage(t, upd, "before"), cases, 0, texts)
	after := rawImage(t, upd, "after")
	if string(after["c_int2"]) != "7" {
		t.Errorf("update after.c_int2 = %s, want 7", after["c_int2"])
	}
	after["c_int2"] = json.RawMessage(`-32768`)
	checkTypeRow(t, "id=1", after, cases, 0, texts)
	checkTypeRow(t, "id=3", rawImage(t, del, "before"), cases, 1, texts)
	if del.ValueMap["after"] != nil || trunc.ValueMap["before"] != nil || trunc.ValueMap["after"] != nil || trunc.KeyRaw != nil {
		t.Errorf("delete after %v; truncate key %x before %v after %v", del.ValueMap["after"], trunc.KeyRaw,
			trunc.ValueMap["before"], trunc.ValueMap["after"])
	}
	src := upd.ValueMap["source"].(map[string]any)
	if src["table"] != "alltypes" || src["schema"] != "public" || src["connector"] != "postgresql" {
		t.Errorf("source %v", src)
	}
}
