package schema

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// modeCase is a column, its value as the decoder produces it, and what
// each mode writes: JSON text, and the value hamba decodes from the Avro.
type modeCase struct {
	col  event.Column
	val  any
	json string
	avro any
}

func decimalModeCases(mode DecimalMode) []modeCase {
	n122 := avroCol("c_num", pgtype.NumericOID, "numeric", numericTypmodOf(12, 2))
	free := avroCol("c_free", pgtype.NumericOID, "numeric", -1)
	money := avroCol("c_money", moneyOID, "money", -1)
	nan := avroCol("c_nan", pgtype.NumericOID, "numeric", -1)
	inf := avroCol("c_inf", pgtype.NumericOID, "numeric", numericTypmodOf(12, 2))
	arr := arrCol("c_arr", pgtype.NumericArrayOID, pgtype.NumericOID, "_numeric", numericTypmodOf(5, 1))
	arrVal := []any{dec(5, 1), nil, event.Decimal{Special: "NaN"}}
	big30 := avroCol("c_big", pgtype.NumericOID, "numeric", -1)
	bigVal := bigDec("123456789012345678901234567890", 10)
	if mode == DecimalDouble {
		return []modeCase{
			{n122, dec(1250, 2), `12.5`, 12.5},
			{free, dec(-15, 1), `-1.5`, -1.5},
			{money, dec(123450, 2), `1234.5`, 1234.5},
			{nan, event.Decimal{Special: "NaN"}, `"NaN"`, math.NaN()},
			{inf, event.Decimal{Special: "-Infinity"}, `"-Infinity"`, math.Inf(-1)},
			{arr, arrVal, `[0.5,null,"NaN"]`, []any{0.5, nil, math.NaN()}},
			{big30, bigVal, `1.2345678901234567E19`, 1.2345678901234567e19},
		}
	}
	return []modeCase{
		{n122, dec(1250, 2), `"12.50"`, "12.50"},
		{free, dec(-15, 1), `"-1.5"`, "-1.5"},
		{money, dec(123450, 2), `"1234.50"`, "1234.50"},
		// Debezium's names of its special values, not PostgreSQL's.
		{nan, event.Decimal{Special: "NaN"}, `"NAN"`, "NAN"},
		{inf, event.Decimal{Special: "-Infinity"}, `"NEGATIVE_INFINITY"`, "NEGATIVE_INFINITY"},
		{arr, arrVal, `["0.5",null,"NAN"]`, []any{"0.5", nil, "NAN"}},
		// Plain notation, as Debezium Server 3.6.1 prints it.
		{avroCol("c_zero", pgtype.NumericOID, "numeric", numericTypmodOf(20, 10)), dec(0, 10), `"0.0000000000"`, "0.0000000000"},
		{avroCol("c_tiny", pgtype.NumericOID, "numeric", numericTypmodOf(20, 10)), dec(-1, 10), `"-0.0000000001"`, "-0.0000000001"},
		{big30, bigVal, `"12345678901234567890.1234567890"`, "12345678901234567890.1234567890"},
	}
}

func binaryModeCases(mode BinaryMode) []modeCase {
	b := []byte{0xde, 0xad, 0xbe, 0xef, 0xff}
	bytea := avroCol("c_bytea", pgtype.ByteaOID, "bytea", -1)
	arr := arrCol("c_arr", pgtype.ByteaArrayOID, pgtype.ByteaOID, "_bytea", -1)
	bits := avroCol("c_bits", pgtype.VarbitOID, "varbit", 12)
	bitsVal := event.Bits{Len: 12, Bytes: []byte{0x0f, 0x01}}
	text := map[BinaryMode]string{BinaryBase64: "3q2+7/8=", BinaryBase64URL: "3q2-7_8=", BinaryHex: "deadbeefff"}[mode]
	return []modeCase{
		{bytea, b, `"` + text + `"`, text},
		{arr, []any{b, nil}, `["` + text + `",null]`, []any{text, nil}},
		// An unchanged TOAST value not sent: the placeholder string.
		{avroCol("c_toast", pgtype.ByteaOID, "bytea", -1), event.Unavailable{},
			`"` + DefaultToastPlaceholder + `"`, DefaultToastPlaceholder},
		{arrCol("c_toast_arr", pgtype.ByteaArrayOID, pgtype.ByteaOID, "_bytea", -1), event.Unavailable{},
			`["` + DefaultToastPlaceholder + `"]`, []any{DefaultToastPlaceholder}},
		// Bit strings stay bytes (io.debezium.data.Bits) in every mode.
		{bits, bitsVal, `"DwE="`, []byte{0x0f, 0x01}},
	}
}

func modesRel(cases []modeCase) (*event.Relation, []any) {
	rel, row := keyedRel(20001, "modes", 1)
	for _, c := range cases {
		rel.Columns = append(rel.Columns, c.col)
		row = append(row, c.val)
	}
	return rel, row
}

// TestValueModesJSON: decimal.handling.mode double/string and
// binary.handling.mode base64/base64-url-safe/hex write the JSON values
// Debezium's JsonConverter prints.
func TestValueModesJSON(t *testing.T) {
	t.Parallel()
	for _, m := range []DecimalMode{DecimalDouble, DecimalString} {
		o := testOptions()
		o.DecimalMode = m
		checkModesJSON(t, m.String(), o, decimalModeCases(m))
	}
	for _, m := range []BinaryMode{BinaryBase64, BinaryBase64URL, BinaryHex} {
		o := testOptions()
		o.BinaryMode = m
		checkModesJSON(t, m.String(), o, binaryModeCases(m))
	}
}

func checkModesJSON(t *testing.T, mode string, o Options, cases []modeCase) {
	t.Helper()
	rel, row := modesRel(cases)
	recs := mustEncode(t, NewJSON(o), change(event.OpCreate, rel, nil, row))
	var v struct{ After map[string]json.RawMessage }
	if err := json.Unmarshal(recs[0].Value, &v); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if got := string(v.After[c.col.Name]); got != c.json {
			t.Errorf("%s: %s = %s, want %s", mode, c.col.Name, got, c.json)
		}
	}
}

// TestValueModesAvro: in those modes the columns are Avro double or string
// fields with no Connect logical type, and decode to the values above.
func TestValueModesAvro(t *testing.T) {
	t.Parallel()
	for _, m := range []DecimalMode{DecimalDouble, DecimalString} {
		o := testOptions()
		o.DecimalMode = m
		want := avro.Double
		if m == DecimalString {
			want = avro.String
		}
		checkModesAvro(t, m.String(), o, decimalModeCases(m), want)
	}
	for _, m := range []BinaryMode{BinaryBase64, BinaryBase64URL, BinaryHex} {
		o := testOptions()
		o.BinaryMode = m
		checkModesAvro(t, m.String(), o, binaryModeCases(m), avro.String)
	}
}

func checkModesAvro(t *testing.T, mode string, o Options, cases []modeCase, want avro.Type) {
	t.Helper()
	ta := newTestAvroWith(t, registry.Backward, o)
	rel, row := modesRel(cases)
	recs := mustEncode(t, ta.enc, change(event.OpCreate, rel, nil, row))
	after := ta.decodeValue(t, recs[0].Value)["after"].(map[string]any)
	fields := valueFields(t, ta, recs[0].Value)
	for _, c := range cases {
		name := c.col.Name
		if got := after[name]; !sameModeValue(got, c.avro) {
			t.Errorf("%s: %s decoded %#v, want %#v", mode, name, got, c.avro)
		}
		typ := fields[name].Type().(*avro.UnionSchema).Types()[1]
		if a, ok := typ.(*avro.ArraySchema); ok {
			typ = a.Items().(*avro.UnionSchema).Types()[1]
		}
		p, ok := typ.(*avro.PrimitiveSchema)
		if c.col.TypeName == "varbit" {
			continue // Bits: checked by TestAvroTypes
		}
		if !ok || p.Type() != want || p.Logical() != nil || p.Prop("connect.name") != nil {
			t.Errorf("%s: %s has type %s, want plain %s", mode, name, typ, want)
		}
	}
}

// sameModeValue compares decoded values with NaN equal to NaN.
func sameModeValue(got, want any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && (g == w || math.IsNaN(g) && math.IsNaN(w))
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameModeValue(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

// TestValueModeNames: the config names round-trip, unknown names fail.
func TestValueModeNames(t *testing.T) {
	t.Parallel()
	for _, n := range DecimalModeNames() {
		if m, err := ParseDecimalMode(n); err != nil || m.String() != n {
			t.Errorf("ParseDecimalMode(%q) = %v, %v", n, m, err)
		}
	}
	for _, n := range BinaryModeNames() {
		if m, err := ParseBinaryMode(n); err != nil || m.String() != n {
			t.Errorf("ParseBinaryMode(%q) = %v, %v", n, m, err)
		}
	}
	if _, err := ParseDecimalMode("exact"); err == nil {
		t.Error("ParseDecimalMode(exact) succeeded")
	}
	if _, err := ParseBinaryMode("base32"); err == nil {
		t.Error("ParseBinaryMode(base32) succeeded")
	}
}

// TestMessageContentBinaryMode: a logical message's content follows
// binary.handling.mode like a bytea column, as in Debezium (JSON and Avro).
func TestMessageContentBinaryMode(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.BinaryMode = BinaryHex
	ch := &event.Change{Op: event.OpMessage, Tx: testTx(), Ordinal: 1, LSN: 0x16B3700,
		Message: &event.LogicalMessage{Transactional: true, Prefix: "p", Content: []byte{0xde, 0xad}}}
	v := decodeObj(t, mustEncode(t, NewJSON(o), ch)[0].Value)
	if got := v["message"].(map[string]any)["content"]; got != "dead" {
		t.Errorf("JSON content = %v, want dead", got)
	}
	ta := newTestAvroWith(t, registry.Backward, o)
	av := ta.decodeValue(t, mustEncode(t, ta.enc, ch)[0].Value)
	if got := av["message"].(map[string]any)["content"]; got != "dead" {
		t.Errorf("Avro content = %#v, want dead", got)
	}
}
