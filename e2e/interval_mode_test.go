package e2e

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5"
)

// intervalModeDDL is a table with an interval and an interval[] column.
const intervalModeDDL = `CREATE TABLE ivmode (id int PRIMARY KEY, iv interval, ivs interval[]);`

// intervalModes is the interval tests' table and rows, with
// interval_handling_mode string.
func intervalModes() modeRun {
	return modeRun{ddl: intervalModeDDL, table: "public.ivmode",
		set: map[string]string{"interval_handling_mode": "string"}, rows: intervalModeRows}
}

// intervalModeRows inserts the forms interval_handling_mode string must
// print: mixed and negative components, a fraction, zero, hours past 24,
// NULL, and an array with a NULL element.
func intervalModeRows(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	mustExec(t, conn, `INSERT INTO ivmode VALUES
		(1, '1 year 2 mons 3 days 04:05:06.78', ARRAY['-1 years -2 mons +3 days -04:05:06.78', NULL, '00:00:00.5']::interval[]),
		(2, '-1 years -2 mons +3 days -04:05:06.78', '{}'),
		(3, '0', NULL),
		(4, '00:00:00.5', NULL),
		(5, interval '30 hours', NULL),
		(6, NULL, NULL)`)
}

// intervalModeWant is each row's iv and ivs as Debezium's
// io.debezium.time.Interval strings (nil for NULL).
var intervalModeWant = []struct {
	iv  any
	ivs any
}{
	{"P1Y2M3DT4H5M6.78S", []any{"P-1Y-2M3DT-4H-5M-6.78S", nil, "P0Y0M0DT0H0M0.5S"}},
	{"P-1Y-2M3DT-4H-5M-6.78S", []any{}},
	{"P0Y0M0DT0H0M0S", nil},
	{"P0Y0M0DT0H0M0.5S", nil},
	{"P0Y0M0DT30H0M0S", nil},
	{nil, nil},
}

// TestIntervalModeJSON: interval_handling_mode string writes interval and
// interval[] values as io.debezium.time.Interval strings (the default,
// numeric, writes MicroDuration numbers, so this fails without the key).
func TestIntervalModeJSON(t *testing.T) {
	t.Parallel()
	recs := intervalModes().jsonRecords(t, len(intervalModeWant))
	for i, r := range recs {
		var v struct{ After map[string]json.RawMessage }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		want := intervalModeWant[i]
		for k, w := range map[string]any{"iv": want.iv, "ivs": want.ivs} {
			wj, _ := json.Marshal(w)
			if got := string(v.After[k]); got != string(wj) {
				t.Errorf("record %d (%s): after.%s = %s, want %s", i, r.ID, k, got, wj)
			}
		}
	}
}

// TestIntervalModeAvro: with interval_handling_mode string the registered
// fields are strings named io.debezium.time.Interval (connect.version 1, as
// Debezium's Interval.builder()) and hold the same strings as in JSON.
func TestIntervalModeAvro(t *testing.T) {
	t.Parallel()
	recs := intervalModes().avroRecords(t, len(intervalModeWant))
	for i, r := range recs {
		want := intervalModeWant[i]
		for k, w := range map[string]any{"iv": want.iv, "ivs": want.ivs} {
			if got := r.Env.After[k]; !reflect.DeepEqual(got, w) {
				t.Errorf("record %d (%s): after.%s = %#v, want %#v", i, r.ID, k, got, w)
			}
		}
	}
	env := recs[0].ValueSchema.(*avro.RecordSchema)
	var after *avro.RecordSchema
	for _, f := range env.Fields() {
		if f.Name() == "after" {
			after = resolveRef(f.Type().(*avro.UnionSchema).Types()[1]).(*avro.RecordSchema)
		}
	}
	seen := 0
	for _, f := range after.Fields() {
		if f.Name() != "iv" && f.Name() != "ivs" {
			continue
		}
		seen++
		typ := f.Type().(*avro.UnionSchema).Types()[1]
		if a, ok := typ.(*avro.ArraySchema); ok {
			typ = a.Items().(*avro.UnionSchema).Types()[1]
		}
		p, ok := typ.(*avro.PrimitiveSchema)
		if !ok || p.Type() != avro.String || p.Prop("connect.name") != "io.debezium.time.Interval" ||
			p.Prop("connect.version") != float64(1) {
			t.Errorf("after.%s has type %s, want string with connect.name io.debezium.time.Interval, connect.version 1", f.Name(), typ)
		}
	}
	if seen != 2 {
		t.Errorf("found %d of the fields iv, ivs", seen)
	}
}
