package schema

import (
	"bytes"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/avrogeneric"
	"github.com/walrelay/walrelay/schema/registry"
)

// TestAvroOps: insert, update, delete (+ tombstone) and truncate give the
// records and envelopes Debezium gives, keyed by the Key record.
func TestAvroOps(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	rel := ordersRel()
	old, cur := ordersRow(7, "old"), ordersRow(7, "new")
	cases := []struct {
		op            event.Op
		before, after []any
		records       int
		wantBefore    bool
		wantAfter     bool
		wantKey       bool
	}{
		{event.OpCreate, nil, cur, 1, false, true, true},
		{event.OpUpdate, old, cur, 1, true, true, true},
		{event.OpDelete, old, nil, 2, true, false, true},
		{event.OpTruncate, nil, nil, 1, false, false, false},
		{event.OpRead, nil, cur, 1, false, true, true},
	}
	for _, c := range cases {
		recs := mustEncode(t, ta.enc, change(c.op, rel, c.before, c.after))
		if len(recs) != c.records {
			t.Fatalf("op %s: %d records, want %d", c.op, len(recs), c.records)
		}
		r := recs[0]
		if r.Topic != "app.public.orders" {
			t.Errorf("op %s: topic %q", c.op, r.Topic)
		}
		if (r.Key != nil) != c.wantKey {
			t.Fatalf("op %s: key %x, want key %v", c.op, r.Key, c.wantKey)
		}
		if c.wantKey {
			_, k := ta.decodeWire(t, r.Key)
			if !reflect.DeepEqual(k, map[string]any{"id": int64(7)}) {
				t.Errorf("op %s: key %#v", c.op, k)
			}
		}
		v := ta.decodeValue(t, r.Value)
		if v["op"] != c.op.String() {
			t.Errorf("op %s: envelope op %v", c.op, v["op"])
		}
		if (v["before"] != nil) != c.wantBefore || (v["after"] != nil) != c.wantAfter {
			t.Errorf("op %s: before %v after %v", c.op, v["before"], v["after"])
		}
		if c.wantAfter && v["after"].(map[string]any)["note"] != "new" {
			t.Errorf("op %s: after.note %v", c.op, v["after"].(map[string]any)["note"])
		}
		if h := headerMap(t, r); h[HeaderContentType] != ContentTypeAvro || h[HeaderID] != "00000000016B3748-00000005" ||
			h[HeaderType] != ChangeTypePrefix+c.op.String() {
			t.Errorf("op %s: headers %v", c.op, h)
		}
		if c.records == 2 {
			tomb := recs[1]
			if tomb.Value != nil || !bytes.Equal(tomb.Key, r.Key) || headerMap(t, tomb)[HeaderID] != "00000000016B3748-00000005-T" {
				t.Errorf("tombstone: key %x (delete's %x), value %x, headers %v", tomb.Key, r.Key, tomb.Value, headerMap(t, tomb))
			}
		}
	}
}

// TestAvroEnvelope: source, transaction and the processing times.
func TestAvroEnvelope(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	ch := change(event.OpCreate, ordersRel(), nil, ordersRow(1, "x"))
	ch.Snapshot = "last"
	v := ta.decodeValue(t, mustEncode(t, ta.enc, ch)[0].Value)
	wantSource := map[string]any{
		"version": "0.1.0", "connector": "postgresql", "name": "app", "ts_ms": testCommit.UnixMilli(),
		"snapshot": "last", "db": "appdb", "sequence": `["23803720","23803648"]`,
		"ts_us": testCommit.UnixMicro(), "ts_ns": testCommit.UnixNano(),
		"schema": "public", "table": "orders", "txId": int64(771), "lsn": int64(0x16B3700), "xmin": nil, "origin": nil, "origin_lsn": nil,
	}
	if !reflect.DeepEqual(v["source"], wantSource) {
		t.Errorf("source\n got %#v\nwant %#v", v["source"], wantSource)
	}
	wantTx := map[string]any{"id": "771:23803720", "total_order": int64(5), "data_collection_order": int64(2)}
	if !reflect.DeepEqual(v["transaction"], wantTx) {
		t.Errorf("transaction %#v, want %#v", v["transaction"], wantTx)
	}
	if v["ts_ms"] != testNow.UnixMilli() || v["ts_us"] != testNow.UnixMicro() || v["ts_ns"] != testNow.UnixNano() {
		t.Errorf("ts_ms/us/ns %v %v %v", v["ts_ms"], v["ts_us"], v["ts_ns"])
	}
}

// TestAvroKeyless: a table without key columns has nil keys, no key
// subject and no tombstones.
func TestAvroKeyless(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	rel := ordersRel()
	rel.Columns[0].Key = false
	recs := mustEncode(t, ta.enc, change(event.OpDelete, rel, ordersRow(1, "x"), nil))
	if len(recs) != 1 || recs[0].Key != nil {
		t.Fatalf("%d records, key %x; want one with a nil key", len(recs), recs[0].Key)
	}
	if subjects := ta.store.Subjects(); !reflect.DeepEqual(subjects, []string{"app.public.orders-value"}) {
		t.Errorf("subjects %v", subjects)
	}
}

// TestAvroMessage: a logical decoding message on <prefix>.message.
func TestAvroMessage(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	ch := &event.Change{Op: event.OpMessage, Tx: &event.Tx{Xid: 0, CommitLSN: 0x100}, Ordinal: 1, LSN: 0x100,
		Message: &event.LogicalMessage{Prefix: "events", Content: []byte{1, 2, 3}}}
	recs := mustEncode(t, ta.enc, ch)
	if len(recs) != 1 || recs[0].Topic != "app.message" {
		t.Fatalf("records %v", recs)
	}
	_, k := ta.decodeWire(t, recs[0].Key)
	if !reflect.DeepEqual(avrogeneric.Unwrap(k), map[string]any{"prefix": "events"}) {
		t.Errorf("key %#v", k)
	}
	v := ta.decodeValue(t, recs[0].Value)
	if v["op"] != "m" || !reflect.DeepEqual(v["message"], map[string]any{"prefix": "events", "content": []byte{1, 2, 3}}) {
		t.Errorf("value %#v", v)
	}
	src := v["source"].(map[string]any)
	if src["txId"] != nil || src["ts_ms"] != testNow.UnixMilli() {
		t.Errorf("non-transactional message source: txId %v ts_ms %v", src["txId"], src["ts_ms"])
	}
	if subjects := ta.store.Subjects(); !reflect.DeepEqual(subjects, []string{"app.message-key", "app.message-value"}) {
		t.Errorf("subjects %v", subjects)
	}
}

// TestAvroToast: unchanged TOAST values take the placeholder in the
// column's shape, or null where the type cannot hold it.
func TestAvroToast(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	const ph = DefaultToastPlaceholder
	rel := &event.Relation{OID: 30000, Schema: "public", Table: "toasty", Version: 1, Columns: []event.Column{
		{Name: "id", TypeOID: 23, TypeName: "int4", TypeMod: -1, Key: true},
		{Name: "t", TypeOID: 25, TypeName: "text", TypeMod: -1},
		{Name: "b", TypeOID: 17, TypeName: "bytea", TypeMod: -1},
		{Name: "j", TypeOID: 3802, TypeName: "jsonb", TypeMod: -1},
		arrCol("ta", 1009, 25, "_text", -1),
		arrCol("ia", 1007, 23, "_int4", -1),
		arrCol("la", 1016, 20, "_int8", -1),
		{Name: "n", TypeOID: 1700, TypeName: "numeric", TypeMod: -1},
	}}
	u := event.Unavailable{}
	row := []any{int32(1), u, u, u, u, u, u, u}
	after := ta.decodeValue(t, mustEncode(t, ta.enc, change(event.OpUpdate, rel, nil, row))[0].Value)["after"].(map[string]any)
	var ints []any
	var longs []any
	for _, b := range []byte(ph) {
		ints, longs = append(ints, int(int8(b))), append(longs, int64(int8(b)))
	}
	want := map[string]any{"id": 1, "t": ph, "b": []byte(ph), "j": ph, "ta": []any{ph}, "ia": ints, "la": longs, "n": nil}
	if !reflect.DeepEqual(after, want) {
		t.Errorf("after\n got %#v\nwant %#v", after, want)
	}
}

// TestAvroErrors: values that cannot be encoded fail with an error naming
// the table and column, never a partial record.
func TestAvroErrors(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	rel := ordersRel()
	cases := []struct {
		name string
		row  []any
		want error
		text string
	}{
		{"short row", []any{int64(1)}, ErrRowShape, "1 values for 6 columns"},
		{"NULL key", append([]any{nil}, ordersRow(1, "x")[1:]...), ErrUnsupportedValue, `key column "id"`},
		{"wrong Go type", append(ordersRow(1, "x")[:2:2], 3.5, nil, nil, nil), ErrUnsupportedValue, `column "note"`},
		{"decimal beyond scale", append(ordersRow(1, "x")[:3:3], event.Decimal{Unscaled: big.NewInt(1), Scale: 5}, nil, nil),
			ErrDecimalScale, `column "price"`},
	}
	for _, c := range cases {
		_, err := ta.enc.Encode(change(event.OpCreate, rel, nil, c.row))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), "public.orders") {
			t.Errorf("%s: error %v, want %v mentioning %q and the table", c.name, err, c.want, c.text)
		}
	}
	if _, err := ta.enc.Encode(&event.Change{Op: event.OpCreate}); !errors.Is(err, ErrIncomplete) {
		t.Errorf("change without tx: %v", err)
	}
}

// TestAvroNames: record, namespace and field names are sanitised to valid
// Avro names; colliding field names get a suffix.
func TestAvroNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"app.public.orders": "app.public.orders", "e2e-x.my schema.1tbl": "e2e_x.my_schema._tbl",
		"a..b": "a._.b", "ünï": "_n_", "": "_",
	} {
		if got := avroFullName(in); got != want {
			t.Errorf("avroFullName(%q) = %q, want %q", in, got, want)
		}
	}
	got := fieldNames([]string{"a-b", "a_b", "1x", "ok", "a-b "}, priorFields{})
	want := []string{"a_b_2", "a_b", "_x", "ok", "a_b_"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fieldNames = %q, want %q", got, want)
	}
	ta := newTestAvro(t, registry.Backward)
	rel := &event.Relation{OID: 1, Schema: "my-schema", Table: "Ödd table", Version: 1, Columns: []event.Column{
		{Name: "a-b", TypeOID: 23, TypeName: "int4", TypeMod: -1, Key: true},
		{Name: "a_b", TypeOID: 23, TypeName: "int4", TypeMod: -1},
	}}
	recs := mustEncode(t, ta.enc, change(event.OpCreate, rel, nil, []any{int32(1), int32(2)}))
	_, k := ta.decodeWire(t, recs[0].Key)
	if !reflect.DeepEqual(k, map[string]any{"a_b_2": 1}) {
		t.Errorf("key %#v", k)
	}
	if recs[0].Topic != "app.my-schema._dd_table" {
		t.Errorf("topic %q", recs[0].Topic)
	}
}

func TestParseWire(t *testing.T) {
	t.Parallel()
	b := AppendWire(nil, 0x01020304, []byte("payload"))
	if !bytes.Equal(b[:5], []byte{0, 1, 2, 3, 4}) {
		t.Fatalf("header %x", b[:5])
	}
	id, p, err := ParseWire(b)
	if err != nil || id != 0x01020304 || string(p) != "payload" {
		t.Errorf("ParseWire = %d %q %v", id, p, err)
	}
	for _, bad := range [][]byte{nil, {0, 1, 2, 3}, {1, 0, 0, 0, 1}} {
		if _, _, err := ParseWire(bad); !errors.Is(err, ErrWireFormat) {
			t.Errorf("ParseWire(%x) error %v, want ErrWireFormat", bad, err)
		}
	}
}
