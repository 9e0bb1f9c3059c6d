package schema

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// col is a column "c" of the built-in type typeName ("_x" for an array of
// x), with its OIDs as the decoder sets them (TypeOID, ElemOID).
func col(typeName string, typmod int32) *event.Column {
	c := &event.Column{Name: "c", TypeName: typeName, TypeMod: typmod, TypeOID: typeOIDOf(typeName)}
	if len(typeName) > 1 && typeName[0] == '_' {
		c.Kind = event.KindArray
		c.ElemOID = typeOIDOf(typeName[1:])
	}
	return c
}

// typeOIDOf is the OID of a built-in type by its pg_type name; 0 if unknown.
func typeOIDOf(name string) uint32 {
	switch name {
	case "money":
		return moneyOID
	case "_money":
		return 791
	case "tsvector":
		return tsvectorOID
	}
	if t, ok := pgtype.NewMap().TypeForName(name); ok {
		return t.OID
	}
	return 0
}

func dec(unscaled int64, scale int32) event.Decimal {
	return event.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

func bigDec(s string, scale int32) event.Decimal {
	u, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return event.Decimal{Unscaled: u, Scale: scale}
}

// TestJSONValues is the golden table of the value mapping: each value is
// encoded as the column "c" of an insert, the envelope is decoded with
// encoding/json, and after.c is compared with the decoded expectation (and the
// raw bytes with the expected text, which is how JsonConverter prints it).
func TestJSONValues(t *testing.T) {
	t.Parallel()
	num12_2 := numericTypmodOf(12, 2)
	ph := `"__debezium_unavailable_value"`
	phInts := `[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,95,118,97,108,117,101]`
	cases := []struct {
		name string
		col  *event.Column
		v    any
		want string
	}{
		{"null", col("text", -1), nil, `null`},
		{"absent", col("text", -1), event.Absent{}, `null`},
		{"bool", col("bool", -1), true, `true`},
		{"bit1", col("bit", 5), false, `false`},
		{"int2", col("int2", -1), int16(-5), `-5`},
		{"int4", col("int4", -1), int32(math.MinInt32), `-2147483648`},
		{"int8", col("int8", -1), int64(math.MaxInt64), `9223372036854775807`},
		{"oid", col("oid", -1), int64(4294967295), `4294967295`},
		{"float4", col("float4", -1), float32(1.1), `1.1`},
		{"float8", col("float8", -1), 0.1, `0.1`},
		{"float8 int", col("float8", -1), 3.0, `3.0`}, // Java's Double.toString, as Debezium
		{"float8 big", col("float8", -1), 1e21, `1.0E21`},
		{"float8 tiny", col("float8", -1), 1e-7, `1.0E-7`},
		{"float8 NaN", col("float8", -1), math.NaN(), `"NaN"`},
		{"float8 +Inf", col("float8", -1), math.Inf(1), `"Infinity"`},
		{"float4 -Inf", col("float4", -1), float32(math.Inf(-1)), `"-Infinity"`},
		{"numeric(12,2)", col("numeric", num12_2), dec(1250, 2), `"BOI="`},
		{"numeric(12,2) rescaled", col("numeric", num12_2), dec(125, 1), `"BOI="`},
		{"numeric(12,2) negative", col("numeric", num12_2), dec(-100, 2), `"nA=="`},
		{"numeric(12,2) zero", col("numeric", num12_2), dec(0, 2), `"AA=="`},
		{"numeric nil unscaled", col("numeric", num12_2), event.Decimal{Scale: 2}, `"AA=="`},
		{"numeric(38,0) big", col("numeric", numericTypmodOf(38, 0)), bigDec("1180591620717411303424", 0), `"QAAAAAAAAAAA"`},
		{"numeric(38,0) big negative", col("numeric", numericTypmodOf(38, 0)), bigDec("-1180591620717411303424", 0), `"wAAAAAAAAAAA"`},
		{"numeric(30,20) rescale overflow", col("numeric", numericTypmodOf(30, 20)), dec(125, 0), `"AqWgWPwpXtAAAA=="`},
		{"numeric(5,-2)", col("numeric", numericTypmodOf(5, -2)), dec(12300, 0), `"MAw="`}, // 12300 at the advertised scale 0 (audit D8)
		{"numeric unconstrained", col("numeric", -1), dec(1234567, 3), `{"scale":3,"value":"EtaH"}`},
		{"numeric unconstrained zero", col("numeric", -1), dec(0, 0), `{"scale":0,"value":"AA=="}`},
		{"numeric unconstrained zeros stripped", col("numeric", -1), dec(314000, 5), `{"scale":2,"value":"ATo="}`},
		{"numeric unconstrained 0.00", col("numeric", -1), dec(0, 2), `{"scale":0,"value":"AA=="}`},
		{"numeric unconstrained 100 keeps its zeros", col("numeric", -1), dec(100, 0), `{"scale":0,"value":"ZA=="}`},
		{"numeric NaN", col("numeric", num12_2), event.Decimal{Special: "NaN"}, `null`},
		{"numeric unconstrained Infinity", col("numeric", -1), event.Decimal{Special: "Infinity"}, `null`},
		{"money", col("money", -1), dec(-100, 2), `"nA=="`},
		{"decimal in domain", col("price_domain", -1), dec(123, 1), `{"scale":1,"value":"ew=="}`},
		{"text", col("text", -1), "héllo \"q\"\n", `"héllo \"q\"\n"`},
		{"varchar", col("varchar", 14), "abc", `"abc"`},
		{"bytea", col("bytea", -1), []byte{0, 1, 2, 255}, `"AAEC/w=="`},
		{"bytea empty", col("bytea", -1), []byte{}, `""`},
		{"date", col("date", -1), event.Date(19724), `19724`},
		{"date before epoch", col("date", -1), event.Date(-1), `-1`},
		{"date infinity", col("date", -1), "infinity", `-2147472692`},
		{"time", col("time", -1), event.MicroTime(3723000001), `3723000001`},
		{"timetz", col("timetz", -1), "15:04:05.999999Z", `"15:04:05.999999Z"`},
		{"timestamp", col("timestamp", -1), event.MicroTimestamp(1704164645123456), `1704164645123456`},
		{"timestamptz", col("timestamptz", -1), "2024-01-02T03:04:05.123456Z", `"2024-01-02T03:04:05.123456Z"`},
		{"interval", col("interval", -1), event.Interval{Months: -1}, `-2629800000000`},
		{"interval µs", col("interval", -1), event.MicroDuration(-2629800000000), `-2629800000000`},
		{"uuid", col("uuid", -1), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
		{"json", col("json", -1), event.JSON(`{"k": "v\n"}`), `"{\"k\": \"v\\n\"}"`},
		{"jsonb", col("jsonb", -1), event.JSON(`[1,2]`), `"[1,2]"`},
		{"enum", &event.Column{Name: "c", TypeName: "mood", Kind: event.KindEnum}, event.Enum("happy"), `"happy"`},
		{"varbit", col("varbit", -1), event.Bits{Len: 10, Bytes: []byte{0xFF, 0x03}}, `"/wM="`},
		{"inet", col("inet", -1), "192.168.0.1/24", `"192.168.0.1/24"`},
		{"range", col("int4range", -1), "[1,10)", `"[1,10)"`},
		{"int4[]", col("_int4", -1), []any{int32(1), nil, int32(3)}, `[1,null,3]`},
		{"int4[][]", col("_int4", -1), []any{[]any{int32(1), int32(2)}, []any{int32(3), int32(4)}}, `[[1,2],[3,4]]`},
		{"text[]", col("_text", -1), []any{"a", "b\"c"}, `["a","b\"c"]`},
		{"text[] empty", col("_text", -1), []any{}, `[]`},
		{"numeric(12,2)[]", col("_numeric", num12_2), []any{dec(1250, 2), nil}, `["BOI=",null]`},
		{"numeric[]", col("_numeric", -1), []any{dec(123, 0)}, `[{"scale":0,"value":"ew=="}]`},
		{"uuid[]", col("_uuid", -1), []any{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}, `["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]`},
		{"toast text", col("text", -1), event.Unavailable{}, ph},
		{"toast jsonb", col("jsonb", -1), event.Unavailable{}, ph},
		{"toast bytea", col("bytea", -1), event.Unavailable{}, `"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="`},
		{"toast text[]", col("_text", -1), event.Unavailable{}, `[` + ph + `]`},
		{"toast jsonb[]", col("_jsonb", -1), event.Unavailable{}, `[` + ph + `]`},
		{"toast int4[]", col("_int4", -1), event.Unavailable{}, phInts},
		{"toast int8[]", col("_int8", -1), event.Unavailable{}, phInts},
		{"toast uuid[]", col("_uuid", -1), event.Unavailable{}, `["b68a35a7-17ad-35b3-af2a-ae46edb4545a"]`}, // DBZ-6720
		{"toast xml", col("xml", -1), event.Unavailable{}, ph},
	}
	e := NewJSON(testOptions())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.appendValue(nil, tc.col, tc.v)
			if err != nil {
				t.Fatalf("appendValue: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("raw = %s, want %s", got, tc.want)
			}
			// Through a whole insert, decoded field by field.
			rel := &event.Relation{Schema: "public", Table: "t", Columns: []event.Column{*tc.col}}
			r := mustEncode(t, e, change(event.OpCreate, rel, nil, []any{tc.v}))[0]
			after := decodeObj(t, r.Value)["after"].(map[string]any)
			if gotJSON, wantJSON := toString(after["c"]), toString(decode(t, []byte(tc.want))); gotJSON != wantJSON {
				t.Errorf("decoded after.c = %s, want %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestJSONValueCustomPlaceholder(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.ToastPlaceholder = "ü"
	e := NewJSON(o)
	for _, tc := range []struct {
		col  *event.Column
		want string
	}{
		{col("text", -1), `"ü"`},
		{col("bytea", -1), `"w7w="`},
		{col("_int4", -1), `[-61,-68]`}, // Java's signed bytes of UTF-8 c3 bc
	} {
		got, err := e.appendValue(nil, tc.col, event.Unavailable{})
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: got %s (%v), want %s", tc.col.TypeName, got, err, tc.want)
		}
	}
}

func TestJSONValueErrors(t *testing.T) {
	t.Parallel()
	e := NewJSON(testOptions())
	_, err := e.appendValue(nil, col("numeric", numericTypmodOf(12, 2)), dec(12345, 3))
	if !errors.Is(err, ErrDecimalScale) {
		t.Errorf("inexact rescale: err = %v, want ErrDecimalScale", err)
	}
	_, err = e.appendValue(nil, col("_text", -1), []any{"ok", struct{}{}})
	if !errors.Is(err, ErrUnsupportedValue) {
		t.Errorf("bad array element: err = %v", err)
	}
	_, err = e.appendValue(nil, col("numeric", -1), &event.Decimal{})
	if !errors.Is(err, ErrUnsupportedValue) {
		t.Errorf("*Decimal: err = %v", err)
	}
}
