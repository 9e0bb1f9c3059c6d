package schema

import (
	"bytes"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// avroTypeCase is one column of TestAvroTypes: its description, a value as
// the decoder produces it, what hamba decodes from walrelay's Avro, and the
// field's schema: its Avro type, connect.name and decimal precision/scale.
type avroTypeCase struct {
	col      event.Column
	val      any
	want     any
	typ      avro.Type
	connName string
	prec     int // decimal precision (0: not a decimal)
	scale    int
}

func avroCol(name string, oid uint32, typ string, typmod int32) event.Column {
	return event.Column{Name: name, TypeOID: oid, TypeName: typ, TypeMod: typmod}
}

func arrCol(name string, oid, elem uint32, typ string, typmod int32) event.Column {
	return event.Column{Name: name, TypeOID: oid, TypeName: typ, TypeMod: typmod, Kind: event.KindArray, ElemOID: elem}
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func avroTypeCases() []avroTypeCase {
	big39, _ := new(big.Int).SetString("123456789012345678901234567890123456789", 10)
	return []avroTypeCase{
		{avroCol("c_bool", pgtype.BoolOID, "bool", -1), true, true, avro.Boolean, "", 0, 0},
		{avroCol("c_int2", pgtype.Int2OID, "int2", -1), int16(-32768), -32768, avro.Int, "", 0, 0},
		{avroCol("c_int4", pgtype.Int4OID, "int4", -1), int32(math.MaxInt32), math.MaxInt32, avro.Int, "", 0, 0},
		{avroCol("c_int8", pgtype.Int8OID, "int8", -1), int64(math.MinInt64), int64(math.MinInt64), avro.Long, "", 0, 0},
		{avroCol("c_oid", pgtype.OIDOID, "oid", -1), int64(4294967295), int64(4294967295), avro.Long, "", 0, 0},
		{avroCol("c_float4", pgtype.Float4OID, "float4", -1), float32(-0.25), float32(-0.25), avro.Float, "", 0, 0},
		{avroCol("c_float8", pgtype.Float8OID, "float8", -1), -1e-300, -1e-300, avro.Double, "", 0, 0},
		{avroCol("c_numeric_ps", pgtype.NumericOID, "numeric", numericTypmodOf(10, 3)),
			event.Decimal{Unscaled: big.NewInt(12345678), Scale: 3}, rat("12345.678"), avro.Bytes, nameDecimal, 10, 3},
		{avroCol("c_numeric_raise", pgtype.NumericOID, "numeric", numericTypmodOf(10, 3)),
			event.Decimal{Unscaled: big.NewInt(-5), Scale: 1}, rat("-0.5"), avro.Bytes, nameDecimal, 10, 3},
		// numeric(3,-2) holds up to 99900: 5 digits at scale 0 (auditp 8);
		// numeric(3,5) up to 0.00999: Avro needs precision >= scale.
		{avroCol("c_numeric_neg", pgtype.NumericOID, "numeric", numericTypmodOf(3, -2)),
			event.Decimal{Unscaled: big.NewInt(99900), Scale: 0}, rat("99900"), avro.Bytes, nameDecimal, 5, 0},
		{avroCol("c_numeric_s_gt_p", pgtype.NumericOID, "numeric", numericTypmodOf(3, 5)),
			event.Decimal{Unscaled: big.NewInt(-999), Scale: 5}, rat("-0.00999"), avro.Bytes, nameDecimal, 5, 5},
		{avroCol("c_numeric", pgtype.NumericOID, "numeric", -1),
			event.Decimal{Unscaled: big39, Scale: 9},
			map[string]any{"scale": 9, "value": javaBytesOf(big39)}, avro.Record, nameVarDecimal, 0, 0},
		{avroCol("c_numeric2", pgtype.NumericOID, "numeric", -1),
			event.Decimal{Unscaled: big.NewInt(-150), Scale: 2}, // -1.50: written as -1.5, as Debezium strips zeros
			map[string]any{"scale": 1, "value": []byte{0xf1}}, avro.Record, nameVarDecimal, 0, 0},
		{avroCol("c_numeric_nan", pgtype.NumericOID, "numeric", numericTypmodOf(5, 0)),
			event.Decimal{Special: "NaN"}, nil, avro.Bytes, nameDecimal, 5, 0},
		{avroCol("c_money", moneyOID, "money", -1), event.Decimal{Unscaled: big.NewInt(-150), Scale: 2}, rat("-1.5"),
			avro.Bytes, nameDecimal, 64, 2},
		{avroCol("c_text", pgtype.TextOID, "text", -1), "héllo \"w\"\n☃", "héllo \"w\"\n☃", avro.String, "", 0, 0},
		{avroCol("c_varchar", pgtype.VarcharOID, "varchar", 24), "", "", avro.String, "", 0, 0},
		{avroCol("c_bytea", pgtype.ByteaOID, "bytea", -1), []byte{0xde, 0xad, 0}, []byte{0xde, 0xad, 0}, avro.Bytes, "", 0, 0},
		{avroCol("c_date", pgtype.DateOID, "date", -1), event.Date(-1), -1, avro.Int, nameDate, 0, 0},
		{avroCol("c_date_inf", pgtype.DateOID, "date", -1), "infinity", int(DatePositiveInfinity), avro.Int, nameDate, 0, 0},
		{avroCol("c_time", pgtype.TimeOID, "time", -1), event.MicroTime(86400000000), int64(86400000000), avro.Long, nameMicroTime, 0, 0},
		{avroCol("c_timetz", pgtype.TimetzOID, "timetz", -1), "01:04:05.123456Z", "01:04:05.123456Z", avro.String, nameZonedTime, 0, 0},
		{avroCol("c_timestamp", pgtype.TimestampOID, "timestamp", -1), event.MicroTimestamp(-500000), int64(-500000), avro.Long, nameMicroTS, 0, 0},
		{avroCol("c_timestamp_inf", pgtype.TimestampOID, "timestamp", -1), "-infinity", TimestampNegativeInfinity, avro.Long, nameMicroTS, 0, 0},
		{avroCol("c_timestamptz", pgtype.TimestamptzOID, "timestamptz", -1), "infinity", "infinity", avro.String, nameZonedTS, 0, 0},
		{avroCol("c_interval", pgtype.IntervalOID, "interval", -1), event.Interval{Days: -1, Micros: -1500000}, int64(-86401500000), avro.Long, nameMicroDur, 0, 0},
		{avroCol("c_interval_us", pgtype.IntervalOID, "interval", -1), event.MicroDuration(-86401500000), int64(-86401500000), avro.Long, nameMicroDur, 0, 0},
		{avroCol("c_uuid", pgtype.UUIDOID, "uuid", -1), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", avro.String, nameUUID, 0, 0},
		{avroCol("c_json", pgtype.JSONOID, "json", -1), event.JSON(`{"b": 1}`), `{"b": 1}`, avro.String, nameJSON, 0, 0},
		{avroCol("c_jsonb", pgtype.JSONBOID, "jsonb", -1), event.JSON(`null`), `null`, avro.String, nameJSON, 0, 0},
		{avroCol("c_xml", pgtype.XMLOID, "xml", -1), "<a/>", "<a/>", avro.String, nameXML, 0, 0},
		{event.Column{Name: "c_enum", TypeOID: 91234, TypeName: "mood", TypeMod: -1, Kind: event.KindEnum},
			event.Enum("happy"), "happy", avro.String, nameEnum, 0, 0},
		{avroCol("c_bit1", pgtype.BitOID, "bit", 1), true, true, avro.Boolean, "", 0, 0},
		{avroCol("c_bit5", pgtype.BitOID, "bit", 5), event.Bits{Len: 5, Bytes: []byte{0x16}}, []byte{0x16}, avro.Bytes, nameBits, 0, 0},
		{avroCol("c_varbit", pgtype.VarbitOID, "varbit", -1), event.Bits{Len: 10, Bytes: []byte{0xaa, 0x02}}, []byte{0xaa, 0x02}, avro.Bytes, nameBits, 0, 0},
		{avroCol("c_inet", pgtype.InetOID, "inet", -1), "192.168.0.1/24", "192.168.0.1/24", avro.String, "", 0, 0},
		{event.Column{Name: "c_other", TypeOID: 91235, TypeName: "box3d", TypeMod: -1, Kind: event.KindOther},
			"BOX3D(0 0 0,1 1 1)", "BOX3D(0 0 0,1 1 1)", avro.String, "", 0, 0},
		{arrCol("c_int4_arr", pgtype.Int4ArrayOID, pgtype.Int4OID, "_int4", -1),
			[]any{int32(1), nil, int32(-3)}, []any{1, nil, -3}, avro.Array, "", 0, 0},
		{arrCol("c_int4_2d", pgtype.Int4ArrayOID, pgtype.Int4OID, "_int4", -1),
			[]any{[]any{int32(1), int32(2)}, []any{int32(3), nil}}, []any{1, 2, 3, nil}, avro.Array, "", 0, 0},
		{arrCol("c_text_arr", pgtype.TextArrayOID, pgtype.TextOID, "_text", -1),
			[]any{}, []any{}, avro.Array, "", 0, 0},
		{arrCol("c_num_arr", pgtype.NumericArrayOID, pgtype.NumericOID, "_numeric", numericTypmodOf(5, 2)),
			[]any{event.Decimal{Unscaled: big.NewInt(125), Scale: 2}, event.Decimal{Special: "NaN"}},
			[]any{rat("1.25"), nil}, avro.Array, "", 0, 0},
		{arrCol("c_uuid_arr", pgtype.UUIDArrayOID, pgtype.UUIDOID, "_uuid", -1),
			[]any{"00000000-0000-0000-0000-000000000000"}, []any{"00000000-0000-0000-0000-000000000000"}, avro.Array, "", 0, 0},
		{avroCol("c_null", pgtype.Int4OID, "int4", -1), nil, nil, avro.Int, "", 0, 0},
	}
}

func javaBytesOf(n *big.Int) []byte { return appendBigBytes(nil, n) }

// keyedRel is public.<table> with only its int4 key column id, and a row
// holding id; callers append their columns and values.
func keyedRel(oid uint32, table string, id int32) (*event.Relation, []any) {
	rel := &event.Relation{OID: oid, Schema: "public", Table: table, ReplicaIdentity: event.IdentityDefault, Version: 1,
		Columns: []event.Column{{Name: "id", TypeOID: pgtype.Int4OID, TypeName: "int4", TypeMod: -1, Key: true}}}
	return rel, []any{id}
}

func allTypesRel(cases []avroTypeCase) (*event.Relation, []any) {
	rel, row := keyedRel(20000, "all types", 42)
	for _, c := range cases {
		rel.Columns = append(rel.Columns, c.col)
		row = append(row, c.val)
	}
	return rel, row
}

// TestAvroTypes: every type of the decoder's mapping is written with its
// Debezium schema and decodes, through the schema registered for it, to the
// value it had.
func TestAvroTypes(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	cases := avroTypeCases()
	rel, row := allTypesRel(cases)
	recs := mustEncode(t, ta.enc, change(event.OpCreate, rel, nil, row))
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if recs[0].Topic != "app.public.all_types" {
		t.Errorf("topic %q", recs[0].Topic)
	}
	after := ta.decodeValue(t, recs[0].Value)["after"].(map[string]any)
	valueField := valueFields(t, ta, recs[0].Value)
	for _, c := range cases {
		name := c.col.Name
		got := after[name]
		if !sameDecoded(got, c.want) {
			t.Errorf("%s (%s): decoded %#v, want %#v", name, c.col.TypeName, got, c.want)
		}
		f := valueField[name]
		if f == nil {
			t.Errorf("%s: no field in the Value record", name)
			continue
		}
		checkFieldSchema(t, c, f)
	}
}

// valueFields returns the fields of the Value record of a value's schema.
func valueFields(t *testing.T, ta *testAvro, value []byte) map[string]*avro.Field {
	t.Helper()
	id, _, _ := ParseWire(value)
	text, _ := ta.store.SchemaByID(int(id))
	s, err := registry.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	before := s.(*avro.RecordSchema).Fields()[0].Type().(*avro.UnionSchema).Types()[1].(*avro.RecordSchema)
	out := map[string]*avro.Field{}
	for _, f := range before.Fields() {
		out[f.Name()] = f
	}
	return out
}

func checkFieldSchema(t *testing.T, c avroTypeCase, f *avro.Field) {
	t.Helper()
	u, ok := f.Type().(*avro.UnionSchema)
	if !ok || len(u.Types()) != 2 || u.Types()[0].Type() != avro.Null || !f.HasDefault() || f.Default() != nil {
		t.Errorf("%s: field type %s is not [\"null\", T] with default null", c.col.Name, f.Type())
		return
	}
	typ := u.Types()[1]
	if ref, ok := typ.(*avro.RefSchema); ok {
		typ = ref.Schema()
	}
	if typ.Type() != c.typ {
		t.Errorf("%s: Avro type %s, want %s", c.col.Name, typ.Type(), c.typ)
	}
	var name any
	switch x := typ.(type) {
	case *avro.PrimitiveSchema:
		name = x.Prop("connect.name")
		if d, ok := x.Logical().(*avro.DecimalLogicalSchema); c.prec > 0 && (!ok || d.Precision() != c.prec || d.Scale() != c.scale) {
			t.Errorf("%s: logical type %v, want decimal(%d,%d)", c.col.Name, x.Logical(), c.prec, c.scale)
		}
		checkDecimalParams(t, c, x.Prop("connect.parameters"))
	case *avro.RecordSchema:
		name = x.FullName()
	}
	if c.connName != "" && name != c.connName {
		t.Errorf("%s: connect.name %v, want %s", c.col.Name, name, c.connName)
	}
	if c.connName == "" && name != nil && c.typ != avro.Array {
		t.Errorf("%s: connect.name %v, want none", c.col.Name, name)
	}
}

// sameDecoded compares a decoded value with a want: *big.Rat by value,
// floats with NaN equal to NaN, the rest deeply.
func sameDecoded(got, want any) bool {
	switch w := want.(type) {
	case *big.Rat:
		g, ok := got.(*big.Rat)
		return ok && g.Cmp(w) == 0
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(g, w)
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameDecoded(g[i], w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k := range w {
			if !sameDecoded(g[k], w[k]) {
				return false
			}
		}
		return true
	case float64:
		g, ok := got.(float64)
		return ok && (g == w || math.IsNaN(g) && math.IsNaN(w))
	}
	return reflect.DeepEqual(got, want)
}

func TestEnumAllowedParameter(t *testing.T) {
	t.Parallel()
	col := event.Column{Name: "m", TypeOID: 91234, TypeName: "mood", TypeMod: -1, Kind: event.KindEnum, EnumLabels: "sad,ok,happy"}
	b := newSchemaBuilder()
	got := appendJSONNode(nil, b.node(columnType(&col)))
	want := `{"type":"string","connect.version":1,"connect.parameters":{"allowed":"sad,ok,happy"},"connect.name":"io.debezium.data.Enum"}`
	if string(got) != want {
		t.Fatalf("enum schema\n got %s\nwant %s", got, want)
	}
	col.EnumLabels = ""
	if got := appendJSONNode(nil, b.node(columnType(&col))); strings.Contains(string(got), "allowed") {
		t.Fatalf("labels unknown, yet %s", got)
	}
}

// TestDebeziumNamedStrings: the semantic names and parameters Debezium 3.6
// registers for tsvector, ltree and an unlimited varbit (found by e2e/parity).
func TestDebeziumNamedStrings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		col  event.Column
		want string
	}{
		{avroCol("v", 3614, "tsvector", -1), `{"type":"string","connect.version":1,"connect.name":"io.debezium.data.Tsvector"}`},
		{event.Column{Name: "l", TypeOID: 17500, TypeName: "ltree", TypeMod: -1, Kind: event.KindOther},
			`{"type":"string","connect.version":1,"connect.name":"io.debezium.data.Ltree"}`},
		{avroCol("b", pgtype.VarbitOID, "varbit", -1),
			`{"type":"bytes","connect.version":1,"connect.parameters":{"length":"2147483647"},"connect.name":"io.debezium.data.Bits"}`},
	} {
		if got := appendJSONNode(nil, newSchemaBuilder().node(columnType(&c.col))); string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.col.TypeName, got, c.want)
		}
	}
}

// checkDecimalParams: a fixed-scale decimal's Kafka Connect parameters say
// the same precision and scale as its Avro logical type (Connect's
// AvroConverter rebuilds the Decimal from them).
func checkDecimalParams(t *testing.T, c avroTypeCase, params any) {
	t.Helper()
	if c.prec == 0 || c.connName != nameDecimal {
		return
	}
	m, _ := params.(map[string]any)
	wantPrec := strconv.Itoa(c.prec)
	if c.col.TypeOID == moneyOID {
		wantPrec = "" // AvroData's default precision, not a Connect parameter
	}
	if got, _ := m["connect.decimal.precision"].(string); m["scale"] != strconv.Itoa(c.scale) || got != wantPrec {
		t.Errorf("%s: connect.parameters %v, want scale %d, connect.decimal.precision %s", c.col.Name, m, c.scale, wantPrec)
	}
}
