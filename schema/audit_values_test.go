package schema

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// bothFormats encodes an insert of rel/row with the JSON and the Avro
// encoder and returns after.<field> of each, re-marshalled as canonical JSON
// (Avro bytes become base64, as in the JSON format).
func bothFormats(t *testing.T, rel *event.Relation, row []any, field string) (jsonOut, avroOut string) {
	t.Helper()
	ch := change(event.OpUpdate, rel, nil, row)
	recs := mustEncode(t, NewJSON(testOptions()), ch)
	var env struct{ After map[string]json.RawMessage }
	if err := json.Unmarshal(recs[0].Value, &env); err != nil {
		t.Fatalf("JSON value: %v", err)
	}
	var jv any
	if err := json.Unmarshal(env.After[field], &jv); err != nil {
		t.Fatalf("JSON after.%s: %v", field, err)
	}
	ta := newTestAvro(t, registry.Backward)
	arecs := mustEncode(t, ta.enc, ch)
	av := ta.decodeValue(t, arecs[0].Value)["after"].(map[string]any)[field]
	return canonJSON(t, jv), canonJSON(t, av)
}

func canonJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	return string(b)
}

// TestToastArrayPlaceholder pins audit D5: an unchanged TOAST array is the
// same value in JSON and Avro, Debezium's placeholder list where Debezium
// has one (text-like, int4/date, int8, uuid, bytea) and null elsewhere,
// never the placeholder's bytes as floats, timestamps, int2 or oid values.
func TestToastArrayPlaceholder(t *testing.T) {
	t.Parallel()
	const phInts = `[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,95,118,97,108,117,101]`
	cases := []struct {
		typ  string
		oid  uint32
		elem uint32
		want string
	}{
		{"_text", pgtype.TextArrayOID, pgtype.TextOID, `["__debezium_unavailable_value"]`},
		{"_varchar", pgtype.VarcharArrayOID, pgtype.VarcharOID, `["__debezium_unavailable_value"]`},
		{"_jsonb", pgtype.JSONBArrayOID, pgtype.JSONBOID, `["__debezium_unavailable_value"]`},
		{"_uuid", pgtype.UUIDArrayOID, pgtype.UUIDOID, `["b68a35a7-17ad-35b3-af2a-ae46edb4545a"]`},
		{"_bytea", pgtype.ByteaArrayOID, pgtype.ByteaOID, `["X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="]`},
		{"_int4", pgtype.Int4ArrayOID, pgtype.Int4OID, phInts},
		{"_date", pgtype.DateArrayOID, pgtype.DateOID, phInts},
		{"_int8", pgtype.Int8ArrayOID, pgtype.Int8OID, phInts},
		{"_dom_int4", 40001, pgtype.Int4OID, phInts}, // an array of a domain over int4, as the decoder describes it
		{"_int2", pgtype.Int2ArrayOID, pgtype.Int2OID, `null`},
		{"_oid", 1028, pgtype.OIDOID, `null`},
		{"_float4", pgtype.Float4ArrayOID, pgtype.Float4OID, `null`},
		{"_float8", pgtype.Float8ArrayOID, pgtype.Float8OID, `null`},
		{"_timestamp", pgtype.TimestampArrayOID, pgtype.TimestampOID, `null`},
		{"_numeric", pgtype.NumericArrayOID, pgtype.NumericOID, `null`},
		{"_bool", pgtype.BoolArrayOID, pgtype.BoolOID, `null`},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			t.Parallel()
			rel, row := keyedRel(20001, "toasty", 1)
			rel.Columns = append(rel.Columns, arrCol("c", c.oid, c.elem, c.typ, -1))
			row = append(row, event.Unavailable{})
			j, a := bothFormats(t, rel, row, "c")
			if j != c.want || a != c.want {
				t.Errorf("unchanged TOAST %s: JSON %s, Avro %s; want %s in both", c.typ, j, a, c.want)
			}
		})
	}
}

// TestNameBasedUUID: Debezium's (DBZ-6720) placeholder UUID of the default
// placeholder.
func TestNameBasedUUID(t *testing.T) {
	t.Parallel()
	if got := nameBasedUUID([]byte(DefaultToastPlaceholder)); got != "b68a35a7-17ad-35b3-af2a-ae46edb4545a" {
		t.Fatalf("nameBasedUUID = %s", got)
	}
}

// TestArrayOfDomainBothFormats pins audit D4/D9 on the encoders' side: an
// array of a domain, which the decoder describes as an array of the base
// type (ElemOID, and the domain's typmod), has the base type's elements in
// both formats: numeric(10,2) decimals, dates with Debezium's ±infinity
// numbers, int4 in Avro.
func TestArrayOfDomainBothFormats(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		col      event.Column
		val      any
		want     string
		wantAvro string // Avro decimals decode to a *big.Rat, marshalled as "a/b"
	}{
		{"money2[]", arrCol("c", 40002, pgtype.NumericOID, "_money2", numericTypmodOf(10, 2)),
			[]any{dec(15, 1), nil}, `["AJY=",null]`, `["3/2",null]`},
		{"dom_date[]", arrCol("c", 40003, pgtype.DateOID, "_dom_date", -1),
			[]any{event.Date(19723), "-infinity"}, `[19723,-2147472691]`, ""},
		{"dom_int4[]", arrCol("c", 40004, pgtype.Int4OID, "_dom_int4", -1),
			[]any{int32(1), int32(2)}, `[1,2]`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rel, row := keyedRel(20002, "doms", 1)
			rel.Columns = append(rel.Columns, c.col)
			row = append(row, c.val)
			j, a := bothFormats(t, rel, row, "c")
			wantAvro := c.want
			if c.wantAvro != "" {
				wantAvro = c.wantAvro
			}
			if j != c.want || a != wantAvro {
				t.Errorf("%s: JSON %s, Avro %s; want %s, %s", c.name, j, a, c.want, wantAvro)
			}
		})
	}
}

// TestNegativeScaleBothFormats pins audit D8: numeric(5,-2) holding 12300 is
// 12300 at the advertised scale 0 in both formats.
func TestNegativeScaleBothFormats(t *testing.T) {
	t.Parallel()
	rel, row := keyedRel(20003, "negscale", 1)
	rel.Columns = append(rel.Columns, avroCol("c", pgtype.NumericOID, "numeric", numericTypmodOf(5, -2)))
	row = append(row, dec(12300, 0))
	j, a := bothFormats(t, rel, row, "c")
	if j != `"MAw="` || a != `"12300"` {
		t.Fatalf("numeric(5,-2) 12300: JSON %s, Avro %s; want \"MAw=\" (unscaled 12300) and 12300", j, a)
	}
}

// TestNumericSpecialKey pins audit D6: a numeric key holding NaN/±Infinity
// cannot be keyed in precise mode; both formats refuse it with
// ErrUnrepresentableKey instead of merging the rows into one key (JSON) or
// failing with a generic error (Avro). String mode keys them apart.
func TestNumericSpecialKey(t *testing.T) {
	t.Parallel()
	rel := &event.Relation{OID: 20004, Schema: "public", Table: "nk", ReplicaIdentity: event.IdentityDefault, Version: 1,
		Columns: []event.Column{
			{Name: "n", TypeOID: pgtype.NumericOID, TypeName: "numeric", TypeMod: -1, Key: true},
			{Name: "v", TypeOID: pgtype.TextOID, TypeName: "text", TypeMod: -1},
		}}
	ta := newTestAvro(t, registry.Backward)
	for _, sp := range []string{"NaN", "Infinity", "-Infinity"} {
		ch := change(event.OpCreate, rel, nil, []any{event.Decimal{Special: sp}, "x"})
		for name, enc := range map[string]Encoder{"json": NewJSON(testOptions()), "avro": ta.enc} {
			if _, err := enc.Encode(ch); !errors.Is(err, ErrUnrepresentableKey) {
				t.Errorf("%s key numeric %s: err = %v, want ErrUnrepresentableKey", name, sp, err)
			}
		}
	}
	o := testOptions()
	o.DecimalMode = DecimalString
	keys := map[string]bool{}
	for _, sp := range []string{"NaN", "Infinity", "-Infinity"} {
		recs := mustEncode(t, NewJSON(o), change(event.OpCreate, rel, nil, []any{event.Decimal{Special: sp}, "x"}))
		keys[string(recs[0].Key)] = true
	}
	if len(keys) != 3 {
		t.Fatalf("string mode keys %v, want 3 distinct", keys)
	}
}
