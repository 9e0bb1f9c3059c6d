package schema

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// keyChangeHalves returns the two halves of an update of orders from id 7
// to id 8, as the pipeline splits it.
func keyChangeHalves() (del, ins *event.Change) {
	rel := ordersRel()
	old, nw := ordersRow(7, "old"), ordersRow(8, "new")
	del = change(event.OpDelete, rel, old, nil)
	del.KeyPeer = nw
	ins = change(event.OpCreate, rel, nil, nw)
	ins.KeyPeer, ins.IDSuffix = old, "-C"
	return del, ins
}

// TestKeyChangeHeaders: the delete half of a key change and its tombstone
// carry __debezium.newkey, the create half __debezium.oldkey, valued as
// Debezium Server writes them (JSON with the Key struct's schema), in both
// formats; any other change has neither.
func TestKeyChangeHeaders(t *testing.T) {
	t.Parallel()
	const keySchema = `{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"optional":false,"name":"app.public.orders.Key"}`
	encoders := map[string]Encoder{
		"json": NewJSON(testOptions()),
		"avro": newTestAvro(t, registry.Backward).enc,
	}
	for name, enc := range encoders {
		del, ins := keyChangeHalves()
		recs := mustEncode(t, enc, del)
		if len(recs) != 2 {
			t.Fatalf("%s: delete gave %d records, want the delete and its tombstone", name, len(recs))
		}
		want := `{"schema":` + keySchema + `,"payload":{"id":8}}`
		for i, r := range recs {
			h := headerMap(t, r)
			if h[HeaderNewKey] != want {
				t.Errorf("%s: record %d of the delete: %s = %q, want %q", name, i, HeaderNewKey, h[HeaderNewKey], want)
			}
			if _, ok := h[HeaderOldKey]; ok || len(r.Headers) != numHeaders+1 {
				t.Errorf("%s: record %d of the delete has headers %v", name, i, h)
			}
		}
		recs = mustEncode(t, enc, ins)
		h := headerMap(t, recs[0])
		if want := `{"schema":` + keySchema + `,"payload":{"id":7}}`; len(recs) != 1 || h[HeaderOldKey] != want {
			t.Errorf("%s: create half: %d records, %s = %q, want %q", name, len(recs), HeaderOldKey, h[HeaderOldKey], want)
		}
		plain := change(event.OpDelete, ordersRel(), ordersRow(9, "x"), nil)
		for _, r := range mustEncode(t, enc, plain) {
			if len(r.Headers) != numHeaders {
				t.Errorf("%s: a plain delete has headers %v", name, headerMap(t, r))
			}
		}
	}
}

// TestConnectKeySchema: a key of several types is described as
// JsonConverter describes the Connect schema Debezium builds for it: Connect
// type names, logical names with version 1, Decimal parameters, the
// VariableScaleDecimal struct with its doc, the columns' own names.
func TestConnectKeySchema(t *testing.T) {
	t.Parallel()
	rel := &event.Relation{OID: 1, Schema: "s", Table: "t", Version: 1, Columns: []event.Column{
		{Name: "small", TypeOID: pgtype.Int2OID, TypeName: "int2", TypeMod: -1, Key: true},
		{Name: "not key", TypeOID: pgtype.TextOID, TypeName: "text", TypeMod: -1},
		{Name: "u-id", TypeOID: pgtype.UUIDOID, TypeName: "uuid", TypeMod: -1, Key: true},
		{Name: "price", TypeOID: pgtype.NumericOID, TypeName: "numeric", TypeMod: numericTypmodOf(12, 2), Key: true},
		{Name: "n", TypeOID: pgtype.NumericOID, TypeName: "numeric", TypeMod: -1, Key: true},
		{Name: "day", TypeOID: pgtype.DateOID, TypeName: "date", TypeMod: -1, Key: true},
		{Name: "ids", TypeOID: pgtype.Int4ArrayOID, TypeName: "_int4", TypeMod: -1, Kind: event.KindArray, ElemOID: pgtype.Int4OID, Key: true},
	}}
	o := testOptions().withDefaults()
	got := jsonText(connectKeySchema(&o, "app", rel))
	want := `{"type":"struct","fields":[` +
		`{"type":"int16","optional":false,"field":"small"},` +
		`{"type":"string","optional":false,"name":"io.debezium.data.Uuid","version":1,"field":"u-id"},` +
		`{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"price"},` +
		`{"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}],"optional":false,"name":"io.debezium.data.VariableScaleDecimal","version":1,"doc":"Variable scaled decimal","field":"n"},` +
		`{"type":"int32","optional":false,"name":"io.debezium.time.Date","version":1,"field":"day"},` +
		`{"type":"array","items":{"type":"int32","optional":true},"optional":false,"field":"ids"}` +
		`],"optional":false,"name":"app.s.t.Key"}`
	if got != want {
		t.Errorf("Connect key schema:\n got %s\nwant %s", got, want)
	}

	// The payload follows the value modes: a decimal in string mode.
	o.DecimalMode = DecimalString
	price := jsonText(connectKeySchema(&o, "app", rel).get("fields").(jarr)[2])
	if want := `{"type":"string","optional":false,"field":"price"}`; price != want {
		t.Errorf("price in decimal string mode: %s, want %s", price, want)
	}
}
