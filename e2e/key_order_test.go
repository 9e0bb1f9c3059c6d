package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
)

// keyOrderDDL declares inv.stock's primary key in an order other than its
// columns': Debezium keys it {"wh":..,"sku":..} (pg_index.indkey order).
const keyOrderDDL = `CREATE SCHEMA inv;
CREATE TABLE inv.stock (sku text, wh int, qty int, PRIMARY KEY (wh, sku));
INSERT INTO inv.stock VALUES ('s0', 1, 5), ('s1', 1, 10);`

const keyOrderTable = "inv.stock"

// TestKeyOrderFollowsPrimaryKey: the Debezium audit's D1. For a table whose
// PRIMARY KEY (wh, sku) is declared after sku, every record's key (snapshot
// reads and streamed changes alike) lists wh before sku, as Debezium's does:
// the JSON key bytes, the Avro Key record's field order and binary, the
// partition murmur2 picks from those bytes, and the __debezium.newkey /
// oldkey headers of a key-changing update.
func TestKeyOrderFollowsPrimaryKey(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "avro"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			dsn, brokers, conn := newTestDB(t, keyOrderDDL+markerDDL)
			cfg := newRelayConfig(t, dsn, brokers, keyOrderTable, markerTable)
			var url string
			if format == "avro" {
				url = avroConfig(t, cfg)
			}
			startRelay(t, cfg)
			mustExec(t, conn, "INSERT INTO inv.stock VALUES ('s2', 2, 7)")
			mustExec(t, conn, "UPDATE inv.stock SET qty = 11 WHERE sku = 's1'")
			mustExec(t, conn, "UPDATE inv.stock SET wh = 2 WHERE sku = 's1'") // key change
			mustExec(t, conn, "DELETE FROM inv.stock WHERE sku = 's0'")

			var recs []*rec
			var keyWire func(r *rec) string
			if format == "json" {
				col := newCollector(t, brokers, cfg.topics()...)
				catchUp(t, cfg, conn, col, col, 2*time.Minute)
				recs = byTopic(col.recs)[cfg.topic(keyOrderTable)]
				keyWire = func(r *rec) string { return string(r.KeyRaw) }
			} else {
				col := newAvroCollector(t, brokers, url, cfg.topics()...)
				catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
				for _, ar := range col.byTopic(cfg.topic(keyOrderTable)) {
					recs = append(recs, ar.rec)
					checkAvroKeyFields(t, col.dec, ar)
				}
				keyWire = func(r *rec) string { return fmt.Sprintf("%x", r.KeyRaw[5:]) }
			}
			checkKeyOrderRecords(t, cfg, recs, keyWire, format)
		})
	}
}

// keyOrderWant is each record's expected key as it goes on the wire: JSON
// text, or the Avro binary after the Confluent header (hex): int wh
// (zig-zag), then string sku (zig-zag length, bytes).
var keyOrderWant = map[string]map[string]string{
	"json": {
		"sku=s0,wh=1": `{"wh":1,"sku":"s0"}`,
		"sku=s1,wh=1": `{"wh":1,"sku":"s1"}`,
		"sku=s1,wh=2": `{"wh":2,"sku":"s1"}`,
		"sku=s2,wh=2": `{"wh":2,"sku":"s2"}`,
	},
	"avro": {
		"sku=s0,wh=1": "02047330",
		"sku=s1,wh=1": "02047331",
		"sku=s1,wh=2": "04047331",
		"sku=s2,wh=2": "04047332",
	},
}

// checkKeyOrderRecords checks the records of inv.stock: what was published
// per key, each key's wire bytes and partition, and the key-change headers.
func checkKeyOrderRecords(t *testing.T, cfg *relayConfig, recs []*rec, keyWire func(*rec) string, format string) {
	t.Helper()
	got := map[string][]string{}
	for _, r := range recs {
		what := "tombstone"
		if !r.Tombstone {
			what = r.Env.Op
		}
		if r.KeyChangeCreate {
			what += " -C"
		}
		got[r.Key] = append(got[r.Key], what+keyOrderHeaders(t, r))
		if w := keyWire(r); w != keyOrderWant[format][r.Key] {
			t.Errorf("%s %s: key bytes %s, want %s (primary-key order wh, sku)", r.ID, what, w, keyOrderWant[format][r.Key])
		}
		if want := javaPartition(r.Topic, r.KeyRaw, 3); int(r.Partition) != want {
			t.Errorf("%s: partition %d, murmur2 of the key gives %d", r.ID, r.Partition, want)
		}
	}
	want := map[string][]string{
		"sku=s0,wh=1": {"r", "d", "tombstone"},
		"sku=s1,wh=1": {"r", "u", `d newkey={"wh":2,"sku":"s1"}`, `tombstone newkey={"wh":2,"sku":"s1"}`},
		"sku=s1,wh=2": {`c -C oldkey={"wh":1,"sku":"s1"}`},
		"sku=s2,wh=2": {"c"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records per key:\n got %q\nwant %q", got, want)
	}
}

// keyOrderHeaders describes r's key-change headers (" newkey=<payload>"),
// checking that the Key struct in each lists its fields as wh, sku and
// that the payload's raw text keeps that order.
func keyOrderHeaders(t *testing.T, r *rec) string {
	t.Helper()
	out := ""
	for _, name := range []string{"newkey", "oldkey"} {
		v, ok := r.Headers["__debezium."+name]
		if !ok {
			continue
		}
		var hv struct {
			Schema struct {
				Type, Name string
				Fields     []struct{ Type, Field string }
			}
			Payload json.RawMessage
		}
		if err := json.Unmarshal([]byte(v), &hv); err != nil || hv.Schema.Type != "struct" || !strings.HasSuffix(hv.Schema.Name, ".inv.stock.Key") {
			t.Errorf("__debezium.%s header of %s: %s (%v)", name, r.ID, v, err)
		}
		if f := hv.Schema.Fields; len(f) != 2 || f[0].Field != "wh" || f[0].Type != "int32" || f[1].Field != "sku" || f[1].Type != "string" {
			t.Errorf("__debezium.%s header of %s: Key struct fields %+v, want wh int32, sku string", name, r.ID, f)
		}
		out += " " + name + "=" + string(hv.Payload)
	}
	return out
}

// checkAvroKeyFields checks that the Key schema of ar, as the registry
// serves it, lists wh before sku.
func checkAvroKeyFields(t *testing.T, dec *avroDecoder, ar *avroRec) {
	t.Helper()
	if ar.KeyRaw == nil {
		t.Errorf("%s: null key", ar.ID)
		return
	}
	s, err := dec.schema(ar.KeyID)
	if err != nil {
		t.Fatalf("key schema %d: %v", ar.KeyID, err)
	}
	rs, ok := s.(*avro.RecordSchema)
	if !ok {
		t.Fatalf("key schema %d is %s, not a record", ar.KeyID, s.Type())
	}
	var names []string
	for _, f := range rs.Fields() {
		names = append(names, f.Name())
	}
	if strings.Join(names, ",") != "wh,sku" || !bytes.HasPrefix(ar.KeyRaw, []byte{0}) {
		t.Errorf("%s: key schema %d fields %v, want wh,sku", ar.ID, ar.KeyID, names)
	}
}
