package e2e

import (
	"testing"
	"time"
)

// TestHStore: an hstore column (an extension type, found by name) is the
// JSON text of an object, as Debezium's default hstore.handling.mode=json
// writes it: in JSON a string, in Avro a string named io.debezium.data.Json.
// The empty hstore is {} and NULL stays null.
func TestHStore(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE EXTENSION IF NOT EXISTS hstore;
		CREATE TABLE attrs_json (id int PRIMARY KEY, h hstore);
		CREATE TABLE attrs_avro (id int PRIMARY KEY, h hstore);`+markerDDL)
	for _, format := range []string{"json", "avro"} {
		t.Run(format, func(t *testing.T) {
			table := "public.attrs_" + format
			cfg := newRelayConfig(t, dsn, brokers, table, markerTable)
			var url string
			if format == "avro" {
				url = avroConfig(t, cfg)
			}
			startRelay(t, cfg)
			mustExec(t, conn, `INSERT INTO `+table+` VALUES (1, 'color=>red, "with \"quote\""=>"a\\b", gone=>NULL'),
				(2, ''), (3, NULL)`)
			var after []map[string]any
			if format == "avro" {
				col := newAvroCollector(t, brokers, url, cfg.topics()...)
				catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
				recs := col.byTopic(cfg.topic(table))
				for _, r := range recs {
					after = append(after, r.Env.After)
				}
				if len(recs) > 0 {
					checkLogicalTypes(t, recs[0].ValueSchema, map[string][2]string{"h": {"io.debezium.data.Json", ""}})
				}
			} else {
				col := newCollector(t, brokers, cfg.topics()...)
				catchUp(t, cfg, conn, col, col, 2*time.Minute)
				for _, r := range byTopic(col.recs)[cfg.topic(table)] {
					after = append(after, r.Env.After)
				}
			}
			// Keys in java.util.HashMap's order, as Debezium prints them.
			want := []any{`{"color":"red","with \"quote\"":"a\\b","gone":null}`, `{}`, nil}
			if len(after) != len(want) {
				t.Fatalf("%d records, want %d", len(after), len(want))
			}
			for i, w := range want {
				if got := after[i]["h"]; got != w {
					t.Errorf("row %d: after.h = %#v, want %#v", i+1, got, w)
				}
			}
		})
	}
}
