package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
)

// TestFilterRuleKey: a rule's key: makes the record key of its table's
// events, in the order the rule lists them (as Debezium's
// message.key.columns): every event of a row carries
// {"tenant":...,"id":...} and lands on that key's partition, the delete and
// its tombstone included (REPLICA IDENTITY FULL gives the delete the tenant),
// and an update of the tenant is a key change: a delete and tombstone of
// the old key, then a create under the new one.
func TestFilterRuleKey(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE accounts (id int PRIMARY KEY, tenant int NOT NULL, v text);
		ALTER TABLE accounts REPLICA IDENTITY FULL;`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, `
default: drop
rules:
  - tables: [public.e2e_marker]
  - tables: [public.accounts]
    key: [tenant, id]
`)
	startRelay(t, cfg)
	for _, sql := range []string{
		"INSERT INTO accounts VALUES (1, 7, 'a')",
		"UPDATE accounts SET v = 'b' WHERE id = 1",
		"UPDATE accounts SET tenant = 8 WHERE id = 1",
		"DELETE FROM accounts WHERE id = 1",
	} {
		mustExec(t, conn, sql)
	}
	col := newCollector(t, brokers, cfg.topic(markerTable), cfg.topic("public.accounts"))
	catchUp(t, cfg, conn, col, col, time.Minute)

	recs := byTopic(col.recs)[cfg.topic("public.accounts")]
	// Per key, in order (the two keys of the key change sit on two
	// partitions, so their records interleave in any order).
	got := map[string][]string{}
	partition := map[string]int32{}
	for _, r := range recs {
		got[r.Key] = append(got[r.Key], describeFiltered(r))
		if p, seen := partition[r.Key]; seen && p != r.Partition {
			t.Errorf("key %s on partitions %d and %d", r.Key, p, r.Partition)
		}
		partition[r.Key] = r.Partition
	}
	want := map[string][]string{
		"id=1,tenant=7": {"c public.accounts id=1,tenant=7", "u public.accounts id=1,tenant=7",
			"d public.accounts id=1,tenant=7", "tombstone id=1,tenant=7"},
		"id=1,tenant=8": {"c public.accounts id=1,tenant=8", "d public.accounts id=1,tenant=8", "tombstone id=1,tenant=8"},
	}
	if len(got) != len(want) {
		t.Errorf("keys %v, want id=1,tenant=7 and id=1,tenant=8", got)
	}
	for k, w := range want {
		if strings.Join(got[k], " | ") != strings.Join(w, " | ") {
			t.Errorf("key %s:\n got  %s\n want %s", k, strings.Join(got[k], " | "), strings.Join(w, " | "))
		}
	}
	if len(recs) > 0 && string(recs[0].KeyRaw) != `{"tenant":7,"id":1}` {
		t.Errorf("record key %s, want {\"tenant\":7,\"id\":1}", recs[0].KeyRaw)
	}
}

// TestFilterRuleKeyAvro: with Avro, the key schema of a table with key:
// has exactly those columns, in the order the rule lists them, and every
// event of the row is keyed by them.
func TestFilterRuleKeyAvro(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE accounts (id int PRIMARY KEY, tenant int NOT NULL, v text);
		ALTER TABLE accounts REPLICA IDENTITY FULL;`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	url := avroConfig(t, cfg)
	useRules(t, cfg, "default: drop\nrules:\n  - tables: [public.e2e_marker]\n  - tables: [public.accounts]\n    key: [tenant, id]\n")
	startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO accounts VALUES (1, 7, 'a')")
	mustExec(t, conn, "DELETE FROM accounts WHERE id = 1")
	ac := newAvroCollector(t, brokers, url, cfg.topic(markerTable), cfg.topic("public.accounts"))
	catchUp(t, cfg, conn, ac.collector, ac.collector, time.Minute)
	recs := ac.byTopic(cfg.topic("public.accounts"))
	if len(recs) != 3 {
		t.Fatalf("%d records, want the create, the delete and its tombstone", len(recs))
	}
	for _, r := range recs {
		if r.Key != "id=1,tenant=7" || len(r.KeyMap) != 2 {
			t.Errorf("record %s keyed %s (%v), want id=1,tenant=7", r.ID, r.Key, r.KeyMap)
		}
	}
	s, err := ac.dec.schema(recs[0].KeyID)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, f := range s.(*avro.RecordSchema).Fields() {
		fields = append(fields, f.Name())
	}
	if strings.Join(fields, ",") != "tenant,id" {
		t.Errorf("key schema fields %v, want tenant,id as the rule lists them", fields)
	}
}
