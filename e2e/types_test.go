package e2e

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/schema"
)

// typeCase is one column of TestTypeRoundTrip: its SQL type and, per row,
// the SQL literal and the JSON value walrelay must print (see event/value.go
// and schema/doc.go). A want of textForm means Postgres' text form of the
// stored value (SELECT col::text) as a JSON string.
type typeCase struct {
	col, typ string
	vals     [3]string // rows 1 (typical), 3 (edge), 4 (special values); "" = NULL
	wants    [3]any
}

// textForm stands for "the value's text form, as Postgres prints it".
type textFormT struct{}

var textForm textFormT

func typeCases() []typeCase {
	const us = int64(1_000_000)
	day := func(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400 }
	ts := func(y int, m time.Month, d, hh, mm, ss, usec int) int64 {
		return time.Date(y, m, d, hh, mm, ss, usec*1000, time.UTC).UnixMicro()
	}
	big39, _ := new(big.Int).SetString("123456789012345678901234567890123456789", 10)
	return []typeCase{
		{"c_numeric_ps", "numeric(10,3)", [3]string{"12345.678", "-0.5", "NaN"},
			[3]any{decimalB64(big.NewInt(12345678)), decimalB64(big.NewInt(-500)), nil}},
		{"c_numeric", "numeric", [3]string{"123456789012345678901234567890.123456789", "-1.50", "NaN"},
			[3]any{varDecimal(9, big39), varDecimal(1, big.NewInt(-15)), nil}}, // trailing zeros stripped, as Debezium
		{"c_int2", "int2", [3]string{"-32768", "32767", ""}, [3]any{-32768, 32767, nil}},
		{"c_int4", "int4", [3]string{"2147483647", "-2147483648", ""}, [3]any{2147483647, -2147483648, nil}},
		{"c_int8", "int8", [3]string{"9223372036854775807", "-9223372036854775808", ""},
			[3]any{json.Number("9223372036854775807"), json.Number("-9223372036854775808"), nil}},
		{"c_float4", "float4", [3]string{"1.5", "-0.25", "-Infinity"}, [3]any{1.5, -0.25, "-Infinity"}},
		{"c_float8", "float8", [3]string{"3.141592653589793", "-1e-300", "NaN"},
			[3]any{json.Number("3.141592653589793"), json.Number("-1e-300"), "NaN"}},
		{"c_money", "money", [3]string{"1234.56", "-1.5", ""}, [3]any{decimalB64(big.NewInt(123456)), decimalB64(big.NewInt(-150)), nil}},
		{"c_text", "text", [3]string{`E'h\u00e9llo "w\u00f6rld"\n\ttab\\ \u2603'`, "''", ""},
			[3]any{"héllo \"wörld\"\n\ttab\\ ☃", "", nil}},
		{"c_varchar", "varchar(20)", [3]string{"'short'", "'a''b'", ""}, [3]any{"short", "a'b", nil}},
		{"c_bytea", "bytea", [3]string{`'\xdeadbeef00'`, `'\x'`, ""},
			[3]any{b64(0xde, 0xad, 0xbe, 0xef, 0x00), "", nil}},
		{"c_bool", "bool", [3]string{"true", "false", ""}, [3]any{true, false, nil}},
		{"c_date", "date", [3]string{"'2024-01-02'", "'1969-12-31'", "'infinity'"},
			[3]any{day(2024, 1, 2), int64(-1), int64(schema.DatePositiveInfinity)}},
		{"c_time", "time", [3]string{"'03:04:05.123456'", "'24:00:00'", ""},
			[3]any{(3*3600+4*60+5)*us + 123456, 86400 * us, nil}},
		{"c_timetz", "timetz", [3]string{"'03:04:05.123456+02'", "'23:30:00-01:30'", ""},
			[3]any{"01:04:05.123456Z", "01:00:00Z", nil}},
		{"c_timestamp", "timestamp", [3]string{"'2024-01-02 03:04:05.123456'", "'1969-12-31 23:59:59.5'", "'-infinity'"},
			[3]any{ts(2024, 1, 2, 3, 4, 5, 123456), int64(-500000), schema.TimestampNegativeInfinity}},
		{"c_timestamptz", "timestamptz", [3]string{"'2024-01-02 03:04:05.123456+02'", "'1999-12-31 23:00:00-02'", "'infinity'"},
			[3]any{"2024-01-02T01:04:05.123456Z", "2000-01-01T01:00:00.000000Z", "infinity"}},
		{"c_interval", "interval", [3]string{"'1 year 2 mons 3 days 04:05:06.789'", "'-1 days -00:00:01.5'", ""},
			[3]any{14*2_629_800*us + 3*86400*us + (4*3600+5*60+6)*us + 789_000, -86400*us - 1_500_000, nil}},
		{"c_uuid", "uuid", [3]string{"'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "'00000000-0000-0000-0000-000000000000'", ""},
			[3]any{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000", nil}},
		{"c_json", "json", [3]string{`'{"b": 1,  "a": [1, 2.50], "s": "\u00e9"}'`, `'[]'`, ""}, [3]any{textForm, textForm, nil}},
		{"c_jsonb", "jsonb", [3]string{`'{"b": 1,  "a": [1, 2.50], "s": "\u00e9"}'`, `'null'`, ""}, [3]any{textForm, textForm, nil}},
		{"c_int4_arr", "int4[]", [3]string{"'{1,-2,3}'", "'{}'", ""}, [3]any{[]any{1, -2, 3}, []any{}, nil}},
		{"c_text_arr", "text[]", [3]string{`'{a,"b c",NULL,"d\"e"}'`, "'{}'", ""}, [3]any{[]any{"a", "b c", nil, `d"e`}, []any{}, nil}},
		{"c_enum", "mood", [3]string{"'happy'", "'sad'", ""}, [3]any{"happy", "sad", nil}},
		{"c_inet", "inet", [3]string{"'192.168.0.1/24'", "'::1'", ""}, [3]any{textForm, textForm, nil}},
		{"c_cidr", "cidr", [3]string{"'10.0.0.0/8'", "'2001:db8::/32'", ""}, [3]any{textForm, textForm, nil}},
		{"c_macaddr", "macaddr", [3]string{"'08:00:2B:01:02:03'", "'ff:ff:ff:ff:ff:ff'", ""}, [3]any{textForm, textForm, nil}},
		{"c_bit1", "bit(1)", [3]string{"B'1'", "B'0'", ""}, [3]any{true, false, nil}},
		{"c_bit5", "bit(5)", [3]string{"B'10110'", "B'00001'", ""}, [3]any{b64(0x16), b64(0x01), nil}},
		{"c_varbit", "varbit", [3]string{"B'1010101010'", "B'110000001'", ""}, [3]any{b64(0xaa, 0x02), b64(0x81, 0x01), nil}},
		{"c_int4range", "int4range", [3]string{"'[1,10)'", "'empty'", ""}, [3]any{textForm, textForm, nil}},
		{"c_point", "point", [3]string{"'(1.5,-2)'", "'(0,0)'", ""}, [3]any{debeziumPoint(1.5, -2), debeziumPoint(0, 0), nil}},
		{"c_box", "box", [3]string{"'((0,0),(1,1))'", "'((-1,-2),(3,4))'", ""}, [3]any{textForm, textForm, nil}},
		{"c_circle", "circle", [3]string{"'<(0,0),2.5>'", "'<(1,-1),0>'", ""}, [3]any{textForm, textForm, nil}},
		{"c_xml", "xml", [3]string{`'<a x="1">b &amp; c</a>'`, "'text only'", ""}, [3]any{textForm, textForm, nil}},
	}
}

// TestTypeRoundTrip: rows holding every type of issue 2 (typical values,
// edge values, special values, and all NULLs) arrive in Kafka with the
// documented JSON value in every column of "after".
func TestTypeRoundTrip(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	brokers := kafkaBrokers(t)
	conn := connect(t, dsn)
	cases := typeCases()
	var cols []string
	for _, c := range cases {
		cols = append(cols, c.col+" "+c.typ)
	}
	mustExec(t, conn, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');"+
		"CREATE TABLE alltypes (id int PRIMARY KEY, "+strings.Join(cols, ", ")+");"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.alltypes", markerTable)
	startRelay(t, cfg)

	insertTypeRows(t, conn, cases)
	texts := textForms(t, conn, cases)

	col := newCollector(t, brokers, cfg.topics()...)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	after := map[string]map[string]json.RawMessage{}
	for _, r := range col.recs {
		if r.Topic != cfg.topic("public.alltypes") || r.Tombstone {
			continue
		}
		if r.Env.Op != "c" || r.Env.Before != nil {
			t.Errorf("%s: op %q before %v, want an insert", r.ID, r.Env.Op, r.Env.Before)
		}
		after[r.Key] = rawAfter(t, r)
	}
	for row, id := range []int{1, 3, 4, 2} {
		key := fmt.Sprintf("id=%d", id)
		got, ok := after[key]
		if !ok {
			t.Errorf("no insert event for alltypes %s", key)
			continue
		}
		checkTypeRow(t, key, got, cases, row, texts)
	}
}

// insertTypeRows inserts id 1 (typical values), 3 (edge values), 4 (special
// values) and 2 (all NULL).
func insertTypeRows(t *testing.T, conn *pgx.Conn, cases []typeCase) {
	t.Helper()
	for row, id := range []int{1, 3, 4} {
		names, vals := []string{"id"}, []string{fmt.Sprint(id)}
		for _, c := range cases {
			if c.vals[row] != "" {
				names, vals = append(names, c.col), append(vals, "("+literal(c.vals[row])+")::"+c.typ)
			}
		}
		mustExec(t, conn, "INSERT INTO alltypes ("+strings.Join(names, ", ")+") VALUES ("+strings.Join(vals, ", ")+")")
	}
	mustExec(t, conn, "INSERT INTO alltypes (id) VALUES (2)")
}

// checkTypeRow compares one row's "after" with the cases' wants for row
// (0, 1, 2; 3 = all NULL).
func checkTypeRow(t *testing.T, key string, got map[string]json.RawMessage, cases []typeCase, row int, texts [3]map[string]string) {
	t.Helper()
	if len(got) != len(cases)+1 || "id="+string(got["id"]) != key {
		t.Errorf("alltypes %s: after has %d columns and id %s, want %d and %s", key, len(got), got["id"], len(cases)+1, key)
	}
	for _, c := range cases {
		var want any
		if row < 3 {
			want = c.wants[row]
		}
		if want == textForm {
			want = texts[row][c.col]
		}
		wantJSON, err := json.Marshal(want)
		if err != nil {
			t.Fatalf("%s: %v", c.col, err)
		}
		if !jsonEqual(got[c.col], wantJSON) {
			t.Errorf("alltypes %s column %s (%s) = %s, want %s", key, c.col, c.typ, got[c.col], wantJSON)
		}
	}
}

// debeziumPoint is io.debezium.data.geometry.Point {x, y, wkb, srid} in
// JSON: wkb is the little-endian OGC WKB of the point (Point.buildWKBPoint).
func debeziumPoint(x, y float64) map[string]any {
	wkb := make([]byte, 21)
	wkb[0] = 1
	binary.LittleEndian.PutUint32(wkb[1:], 1)
	binary.LittleEndian.PutUint64(wkb[5:], math.Float64bits(x))
	binary.LittleEndian.PutUint64(wkb[13:], math.Float64bits(y))
	return map[string]any{"x": x, "y": y, "wkb": base64.StdEncoding.EncodeToString(wkb), "srid": nil}
}

// textForms reads Postgres' text form (the type's output function, as
// format('%s') prints it; inet::text would add a /128) of every column of
// rows 1, 3 and 4.
func textForms(t *testing.T, conn *pgx.Conn, cases []typeCase) [3]map[string]string {
	t.Helper()
	var out [3]map[string]string
	for row, id := range []int{1, 3, 4} {
		out[row] = map[string]string{}
		for _, c := range cases {
			var s *string
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := conn.QueryRow(ctx, "SELECT format('%s', "+c.col+") FROM alltypes WHERE id = $1", id).Scan(&s)
			cancel()
			if err != nil {
				t.Fatalf("text form of %s: %v", c.col, err)
			}
			if s != nil {
				out[row][c.col] = *s
			}
		}
	}
	return out
}

// literal quotes a bare special value ("NaN") as a string literal.
func literal(v string) string {
	switch v {
	case "NaN", "Infinity", "-Infinity":
		return "'" + v + "'"
	}
	return v
}
