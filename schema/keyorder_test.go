package schema

import (
	"bytes"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// stockRel is inv.stock(sku text, wh int4, qty int4) with PRIMARY KEY
// (wh, sku): the key's columns in an order other than the table's, as the
// decoder describes it (KeyOrder from pg_index). order nil describes a key
// in column order (sku, wh).
func stockRel(order []int) *event.Relation {
	return &event.Relation{
		OID: 5151, Schema: "inv", Table: "stock", ReplicaIdentity: event.IdentityDefault, Version: 1,
		Columns: []event.Column{
			{Name: "sku", TypeOID: 25, TypeName: "text", TypeMod: -1, Key: true},
			{Name: "wh", TypeOID: 23, TypeName: "int4", TypeMod: -1, Key: true},
			{Name: "qty", TypeOID: 23, TypeName: "int4", TypeMod: -1},
		},
		KeyOrder: order,
	}
}

func stockRow(sku string, wh int32) []any { return []any{sku, wh, int32(10)} }

// TestJSONKeyOrder: the JSON key lists the key's columns in the key's
// order (Debezium's {"wh":1,"sku":"s1"}), for every record of a change, and
// in column order where the key is declared in column order.
func TestJSONKeyOrder(t *testing.T) {
	t.Parallel()
	enc := NewJSON(testOptions())
	for _, tc := range []struct {
		order []int
		want  string
	}{
		{[]int{1, 0}, `{"wh":1,"sku":"s1"}`},
		{nil, `{"sku":"s1","wh":1}`},
	} {
		rel := stockRel(tc.order)
		for _, ch := range []*event.Change{
			change(event.OpCreate, rel, nil, stockRow("s1", 1)),
			change(event.OpDelete, rel, stockRow("s1", 1), nil),
			change(event.OpRead, rel, nil, stockRow("s1", 1)),
		} {
			for i, r := range mustEncode(t, enc, ch) {
				if string(r.Key) != tc.want {
					t.Errorf("order %v, op %c, record %d: key %s, want %s", tc.order, ch.Op, i, r.Key, tc.want)
				}
			}
		}
	}
}

// TestAvroKeyOrder: the Avro Key record's fields, and so the key's binary
// encoding, follow the key's order.
func TestAvroKeyOrder(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	recs := mustEncode(t, ta.enc, change(event.OpCreate, stockRel([]int{1, 0}), nil, stockRow("s1", 1)))
	id, payload, err := ParseWire(recs[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	// int 1 (zig-zag 0x02), then the string "s1" (length 2 as 0x04).
	if want := []byte{0x02, 0x04, 's', '1'}; !bytes.Equal(payload, want) {
		t.Errorf("Avro key payload %x, want %x (wh then sku)", payload, want)
	}
	text, err := ta.store.SchemaByID(int(id))
	if err != nil {
		t.Fatal(err)
	}
	wh, sku := strings.Index(text, `"name":"wh"`), strings.Index(text, `"name":"sku"`)
	if wh < 0 || sku < 0 || wh > sku {
		t.Errorf("key schema %s: want field wh before sku", text)
	}
	_, key := ta.decodeWire(t, recs[0].Key)
	if key["wh"] != int32(1) && key["wh"] != 1 || key["sku"] != "s1" {
		t.Errorf("decoded key %v", key)
	}
}

// TestAvroKeyOrderPlan: two relations that differ only in key order do not
// share a plan, even under the same Version (a snapshot's relation and the
// stream's are both version 1).
func TestAvroKeyOrderPlan(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.None)
	first := mustEncode(t, ta.enc, change(event.OpCreate, stockRel(nil), nil, stockRow("s1", 1)))
	second := mustEncode(t, ta.enc, change(event.OpCreate, stockRel([]int{1, 0}), nil, stockRow("s1", 1)))
	_, p1, _ := ParseWire(first[0].Key)
	_, p2, _ := ParseWire(second[0].Key)
	if want := []byte{0x04, 's', '1', 0x02}; !bytes.Equal(p1, want) {
		t.Errorf("column-order key payload %x, want %x", p1, want)
	}
	if want := []byte{0x02, 0x04, 's', '1'}; !bytes.Equal(p2, want) {
		t.Errorf("key-order key payload %x, want %x (the first relation's plan was reused)", p2, want)
	}
}

// TestKeyOrderHeaders: the __debezium.newkey / oldkey headers of a key
// change describe and value the key in the key's order, in both formats, as
// Debezium Server writes them.
func TestKeyOrderHeaders(t *testing.T) {
	t.Parallel()
	const keySchema = `{"type":"struct","fields":[{"type":"int32","optional":false,"field":"wh"},` +
		`{"type":"string","optional":false,"field":"sku"}],"optional":false,"name":"app.inv.stock.Key"}`
	encoders := map[string]Encoder{
		"json": NewJSON(testOptions()),
		"avro": newTestAvro(t, registry.Backward).enc,
	}
	for name, enc := range encoders {
		rel := stockRel([]int{1, 0})
		old, nw := stockRow("s1", 1), stockRow("s1", 2)
		del := change(event.OpDelete, rel, old, nil)
		del.KeyPeer = nw
		ins := change(event.OpCreate, rel, nil, nw)
		ins.KeyPeer, ins.IDSuffix = old, "-C"
		want := `{"schema":` + keySchema + `,"payload":{"wh":2,"sku":"s1"}}`
		for i, r := range mustEncode(t, enc, del) {
			if h := headerMap(t, r); h[HeaderNewKey] != want {
				t.Errorf("%s: delete record %d: %s = %s, want %s", name, i, HeaderNewKey, h[HeaderNewKey], want)
			}
		}
		want = `{"schema":` + keySchema + `,"payload":{"wh":1,"sku":"s1"}}`
		if h := headerMap(t, mustEncode(t, enc, ins)[0]); h[HeaderOldKey] != want {
			t.Errorf("%s: create: %s = %s, want %s", name, HeaderOldKey, h[HeaderOldKey], want)
		}
	}
}

// TestJSONKeyOrderAllocs: writing a key in key order allocates nothing
// (appendKey runs for every record).
func TestJSONKeyOrderAllocs(t *testing.T) {
	enc := NewJSON(testOptions())
	for _, order := range [][]int{{1, 0}, nil} {
		rel, row := stockRel(order), stockRow("s1", 1)
		p := enc.plans.get(rel)
		buf := make([]byte, 0, 256)
		var err error
		n := testing.AllocsPerRun(100, func() { buf, err = enc.appendKey(buf[:0], rel, p.names, row) })
		if err != nil || n != 0 {
			t.Errorf("order %v: appendKey: %v allocations per key (%v), want 0", order, n, err)
		}
	}
}

// TestAvroKeyOrderUpgrade: a walrelay upgraded from a version that wrote
// keys in column order registers the reordered Key record as a new version
// of the key subject: reordering fields is compatible under BACKWARD (the
// default) and FULL_TRANSITIVE, so the upgrade does not halt.
func TestAvroKeyOrderUpgrade(t *testing.T) {
	t.Parallel()
	for _, level := range []registry.Level{registry.Backward, registry.FullTransitive} {
		ta := newTestAvro(t, level)
		old := mustEncode(t, ta.enc, change(event.OpCreate, stockRel(nil), nil, stockRow("s1", 1)))
		rel := stockRel([]int{1, 0})
		rel.Version = 2
		recs, err := ta.enc.Encode(change(event.OpCreate, rel, nil, stockRow("s1", 1)))
		if err != nil {
			t.Fatalf("%s: key order change after an upgrade: %v", level, err)
		}
		oldID, _, _ := ParseWire(old[0].Key)
		newID, payload, _ := ParseWire(recs[0].Key)
		if oldID == newID || !bytes.Equal(payload, []byte{0x02, 0x04, 's', '1'}) {
			t.Errorf("%s: key schema IDs %d then %d, payload %x: want a new ID and wh first", level, oldID, newID, payload)
		}
	}
}
