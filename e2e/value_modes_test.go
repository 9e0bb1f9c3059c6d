package e2e

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5"
)

// valueModesDDL is a table with every column type the decimal and binary
// handling modes change. big is bytea stored out of line uncompressed, so an
// update of another column leaves it an unchanged TOAST value.
const valueModesDDL = `CREATE TABLE modes (id int PRIMARY KEY, n numeric(12,2), z numeric(20,10),
	f numeric, m money, na numeric(5,1)[], b bytea, ba bytea[], big bytea);
	ALTER TABLE modes ALTER COLUMN big SET STORAGE EXTERNAL;`

// valueModes is the value-mode test's table and rows with the given settings.
func valueModes(set map[string]string) modeRun {
	return modeRun{ddl: valueModesDDL, table: "public.modes", set: set, rows: valueModesRows}
}

// valueModesRows inserts two rows (the second with NaN and -Infinity) and
// updates the first so that big is not sent.
func valueModesRows(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	mustExec(t, conn, `INSERT INTO modes VALUES (1, 12.5, 0, 1.50, 1234.5, '{0.5,NULL}', '\xdeadbeefff',
		ARRAY['\x01'::bytea, NULL], (SELECT decode(string_agg(md5(i::text), ''), 'hex') FROM generate_series(1, 1000) i))`)
	mustExec(t, conn, `INSERT INTO modes (id, n, f) VALUES (2, 'NaN', '-Infinity')`)
	mustExec(t, conn, `UPDATE modes SET n = 1 WHERE id = 1`)
}

// TestValueModesJSON: decimal_handling_mode string and binary_handling_mode
// hex write numeric, money and bytea (and their arrays) as Debezium's
// string and hex modes do, the unchanged TOAST bytea as the placeholder.
func TestValueModesJSON(t *testing.T) {
	t.Parallel()
	recs := valueModes(map[string]string{"decimal_handling_mode": "string", "binary_handling_mode": "hex"}).
		jsonRecords(t, 3)
	want := []map[string]string{
		{"n": `"12.50"`, "z": `"0.0000000000"`, "f": `"1.50"`, "m": `"1234.50"`, "na": `["0.5",null]`,
			"b": `"deadbeefff"`, "ba": `["01",null]`},
		{"n": `"NAN"`, "f": `"NEGATIVE_INFINITY"`, "b": `null`},
		{"n": `"1.00"`, "b": `"deadbeefff"`, "big": `"__debezium_unavailable_value"`},
	}
	checkAfterJSON(t, recs, want)
	var v struct{ After map[string]any }
	_ = json.Unmarshal(recs[0].Value, &v)
	if big, _ := v.After["big"].(string); len(big) != 32000 || strings.Trim(big, "0123456789abcdef") != "" {
		t.Errorf("insert: after.big is %d characters, want 32000 lower-case hex digits", len(big))
	}
}

// TestValueModesAvro: decimal_handling_mode double and binary_handling_mode
// base64-url-safe register plain double and string fields (no Connect
// logical type) and write the values Debezium's double and base64-url-safe
// modes give.
func TestValueModesAvro(t *testing.T) {
	t.Parallel()
	recs := valueModes(map[string]string{"decimal_handling_mode": "double", "binary_handling_mode": "base64-url-safe"}).
		avroRecords(t, 3)
	want := []map[string]any{
		{"n": 12.5, "z": 0.0, "f": 1.5, "m": 1234.5, "na": []any{0.5, nil}, "b": "3q2-7_8=", "ba": []any{"AQ==", nil}},
		{"n": math.NaN(), "f": math.Inf(-1), "b": nil},
		{"n": 1.0, "b": "3q2-7_8=", "big": "__debezium_unavailable_value"},
	}
	for i, r := range recs {
		for k, w := range want[i] {
			if got := r.Env.After[k]; !sameFloatOrDeep(got, w) {
				t.Errorf("record %d (%s): after.%s = %#v, want %#v", i, r.ID, k, got, w)
			}
		}
	}
	checkModeFieldTypes(t, recs[0].ValueSchema, map[string]avro.Type{
		"n": avro.Double, "z": avro.Double, "f": avro.Double, "m": avro.Double, "na": avro.Double,
		"b": avro.String, "ba": avro.String, "big": avro.String,
	})
}

// sameFloatOrDeep compares decoded values, NaN equal to NaN.
func sameFloatOrDeep(got, want any) bool {
	if w, ok := want.(float64); ok {
		g, ok := got.(float64)
		return ok && (g == w || math.IsNaN(g) && math.IsNaN(w))
	}
	if w, ok := want.([]any); ok {
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameFloatOrDeep(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

// checkModeFieldTypes checks that each named field of the value's after
// record is ["null", T] (arrays: of ["null", T]) with T a plain primitive.
func checkModeFieldTypes(t *testing.T, s avro.Schema, want map[string]avro.Type) {
	t.Helper()
	for _, f := range afterRecord(s).Fields() {
		w, ok := want[f.Name()]
		if !ok {
			continue
		}
		typ := f.Type().(*avro.UnionSchema).Types()[1]
		if a, ok := typ.(*avro.ArraySchema); ok {
			typ = a.Items().(*avro.UnionSchema).Types()[1]
		}
		p, ok := typ.(*avro.PrimitiveSchema)
		if !ok || p.Type() != w || p.Logical() != nil || p.Prop("connect.name") != nil {
			t.Errorf("after.%s has type %s, want plain %s", f.Name(), typ, w)
		}
	}
}

func resolveRef(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}
