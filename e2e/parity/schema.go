package main

import (
	"fmt"
	"strings"
)

// column is one column of the parity table: its name, SQL type and the SQL
// literal of its value in rows 1 (typical), 2 (edge) and 3 (special values);
// "" inserts NULL. Row 4 is all NULL.
type column struct {
	name, typ string
	vals      [3]string
}

// columns lists every PostgreSQL type walrelay maps (decoder/doc.go,
// schema/doc.go, schema/avro_doc.go), with the values that caught bugs
// before (e2e/types_test.go): extremes, NaN, ±Infinity, ±infinity, padding,
// precision-limited timestamps.
func columns() []column {
	return []column{
		{"c_int2", "int2", [3]string{"-32768", "32767", "0"}},
		{"c_int4", "int4", [3]string{"2147483647", "-2147483648", "0"}},
		{"c_int8", "int8", [3]string{"9223372036854775807", "-9223372036854775808", "0"}},
		{"c_oid", "oid", [3]string{"4294967295", "0", "12345"}},
		{"c_float4", "float4", [3]string{"1.5", "-0.25", "'-Infinity'"}},
		{"c_float8", "float8", [3]string{"3.141592653589793", "-1e-300", "'NaN'"}},
		{"c_float8_inf", "float8", [3]string{"'Infinity'", "1e308", "'-Infinity'"}},
		{"c_numeric_ps", "numeric(10,3)", [3]string{"12345.678", "-0.5", "'NaN'"}},
		{"c_numeric_s0", "numeric(5,0)", [3]string{"12345", "-1", "0"}},
		{"c_numeric_big", "numeric(38,10)", [3]string{"1234567890123456789012345678.0123456789", "0", "-0.0000000001"}},
		{"c_numeric", "numeric", [3]string{"123456789012345678901234567890.123456789", "-1.50", "'NaN'"}},
		{"c_numeric_inf", "numeric", [3]string{"'Infinity'", "3.14000", "'-Infinity'"}},
		{"c_money", "money", [3]string{"1234.56", "-1.5", "0"}},
		{"c_text", "text", [3]string{`E'h\u00e9llo "w\u00f6rld"\n\ttab\\ \u2603'`, "''", "'x'"}},
		{"c_varchar", "varchar(20)", [3]string{"'short'", "'a''b'", "''"}},
		{"c_char", "char(5)", [3]string{"'ab'", "'abcde'", "''"}},
		{"c_name", "name", [3]string{"'a_name'", "''", "'x'"}},
		{"c_bytea", "bytea", [3]string{`'\xdeadbeef00'`, `'\x'`, `'\x00'`}},
		{"c_bool", "bool", [3]string{"true", "false", "false"}},
		{"c_date", "date", [3]string{"'2024-01-02'", "'1969-12-31'", "'infinity'"}},
		{"c_date_ninf", "date", [3]string{"'0044-03-15 BC'", "'9999-12-31'", "'-infinity'"}},
		{"c_time", "time", [3]string{"'03:04:05.123456'", "'24:00:00'", "'00:00:00'"}},
		{"c_time3", "time(3)", [3]string{"'03:04:05.123'", "'23:59:59.999'", "'00:00:00'"}},
		{"c_timetz", "timetz", [3]string{"'03:04:05.123456+02'", "'23:30:00-01:30'", "'00:00:00+00'"}},
		{"c_timestamp", "timestamp", [3]string{"'2024-01-02 03:04:05.123456'", "'1969-12-31 23:59:59.5'", "'-infinity'"}},
		{"c_timestamp0", "timestamp(0)", [3]string{"'2024-01-02 03:04:05'", "'1900-01-01 00:00:00'", "'infinity'"}},
		{"c_timestamp3", "timestamp(3)", [3]string{"'2024-01-02 03:04:05.123'", "'1969-12-31 23:59:59.999'", "'-infinity'"}},
		{"c_timestamptz", "timestamptz", [3]string{"'2024-01-02 03:04:05.5+02'", "'1999-12-31 23:00:00-02'", "'infinity'"}},
		{"c_timestamptz3", "timestamptz(3)", [3]string{"'2024-01-02 03:04:05.5+02'", "'2024-01-02 03:04:05.123+00'", "'-infinity'"}},
		{"c_timestamptz0", "timestamptz(0)", [3]string{"'2024-01-02 03:04:05+02'", "'0044-03-15 12:00:00+00 BC'", "'infinity'"}},
		{"c_interval", "interval", [3]string{"'1 year 2 mons 3 days 04:05:06.789'", "'-1 days -00:00:01.5'", "'0'"}},
		{"c_uuid", "uuid", [3]string{"'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'"}},
		{"c_json", "json", [3]string{`'{"b": 1,  "a": [1, 2.50], "s": "\u00e9"}'`, `'[]'`, `'null'`}},
		{"c_jsonb", "jsonb", [3]string{`'{"b": 1,  "a": [1, 2.50], "s": "\u00e9"}'`, `'null'`, `'{}'`}},
		{"c_xml", "xml", [3]string{`'<a x="1">b &amp; c</a>'`, "'text only'", "''"}},
		{"c_enum", "mood", [3]string{"'happy'", "'sad'", "'ok'"}},
		{"c_bit1", "bit(1)", [3]string{"B'1'", "B'0'", "B'0'"}},
		{"c_bit5", "bit(5)", [3]string{"B'10110'", "B'00001'", "B'00000'"}},
		{"c_varbit", "varbit", [3]string{"B'1010101010'", "B'110000001'", "B''"}},
		{"c_inet", "inet", [3]string{"'192.168.0.1/24'", "'::1'", "'10.0.0.1'"}},
		{"c_cidr", "cidr", [3]string{"'10.0.0.0/8'", "'2001:db8::/32'", "'0.0.0.0/0'"}},
		{"c_macaddr", "macaddr", [3]string{"'08:00:2B:01:02:03'", "'ff:ff:ff:ff:ff:ff'", "'00:00:00:00:00:00'"}},
		{"c_macaddr8", "macaddr8", [3]string{"'08:00:2b:01:02:03:04:05'", "'ff:ff:ff:ff:ff:ff:ff:ff'", "'00:00:00:00:00:00:00:00'"}},
		{"c_int4range", "int4range", [3]string{"'[1,10)'", "'empty'", "'(,)'"}},
		{"c_int8range", "int8range", [3]string{"'[1,9223372036854775806]'", "'empty'", "'(,5)'"}},
		{"c_numrange", "numrange", [3]string{"'[1.5,2.25)'", "'empty'", "'(,)'"}},
		{"c_tsrange", "tsrange", [3]string{`'["2024-01-02 03:04:05","2024-01-03 00:00:00.5")'`, "'empty'", "'(,)'"}},
		{"c_tstzrange", "tstzrange", [3]string{`'["2024-01-02 03:04:05+02","2024-01-03 00:00:00+00")'`, "'empty'", "'(,)'"}},
		{"c_daterange", "daterange", [3]string{"'[2024-01-02,2024-02-01)'", "'empty'", "'(,)'"}},
		{"c_point", "point", [3]string{"'(1.5,-2)'", "'(0,0)'", "'(1e300,-1e-300)'"}},
		{"c_box", "box", [3]string{"'((0,0),(1,1))'", "'((-1,-2),(3,4))'", "'((0,0),(0,0))'"}},
		{"c_circle", "circle", [3]string{"'<(0,0),2.5>'", "'<(1,-1),0>'", "'<(1,1),1>'"}},
		{"c_line", "line", [3]string{"'{1,-1,0}'", "'{0,1,-2.5}'", "'{1,0,0}'"}},
		{"c_lseg", "lseg", [3]string{"'[(0,0),(1,1)]'", "'[(-1,-2),(3,4)]'", "'[(0,0),(0,0)]'"}},
		{"c_path", "path", [3]string{"'[(0,0),(1,1),(2,0)]'", "'((0,0),(1,1),(2,0))'", "'[(0,0)]'"}},
		{"c_polygon", "polygon", [3]string{"'((0,0),(1,1),(2,0))'", "'((0,0))'", "'((1,1),(2,2),(3,1),(2,0))'"}},
		{"c_tsvector", "tsvector", [3]string{"'a fat cat:3A sat'", "''", "'x'"}},
		{"c_hstore", "hstore", [3]string{`'a=>1, "b c"=>"d,e", n=>NULL'`, "''", `'k=>v'`}},
		{"c_ltree", "ltree", [3]string{"'Top.Science.Astronomy'", "''", "'a'"}},
		{"c_citext", "citext", [3]string{"'MiXeD Case'", "''", "'x'"}},
		{"c_dom_num", "money_amount", [3]string{"12.5", "-99999999.99", "0"}},
		{"c_dom_text", "short_text", [3]string{"'domain text'", "''", "'x'"}},
		{"c_int4_arr", "int4[]", [3]string{"'{1,-2,3}'", "'{}'", "'{NULL}'"}},
		{"c_text_arr", "text[]", [3]string{`'{a,"b c",NULL,"d\"e"}'`, "'{}'", `'{""}'`}},
		{"c_numeric_arr", "numeric(5,1)[]", [3]string{"'{1.5,-2,NULL}'", "'{}'", "'{0.0}'"}},
		{"c_ts3_arr", "timestamp(3)[]", [3]string{`'{"2024-01-02 03:04:05.123","1970-01-01 00:00:00"}'`, "'{}'", `'{NULL}'`}},
		{"c_bytea_arr", "bytea[]", [3]string{`'{"\\xdead","\\x"}'`, "'{}'", "'{NULL}'"}},
		{"c_uuid_arr", "uuid[]", [3]string{"'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'", "'{}'", "'{NULL}'"}},
		{"c_jsonb_arr", "jsonb[]", [3]string{`ARRAY['{"a":1}'::jsonb, '[2]'::jsonb]`, "'{}'", "'{NULL}'"}},
		{"c_enum_arr", "mood[]", [3]string{"'{happy,sad}'", "'{}'", "'{NULL}'"}},
		{"c_int4_2d", "int4[][]", [3]string{"'{{1,2},{3,4}}'", "'{}'", "'{{NULL,1}}'"}},
		{"c_text_2d", "text[][]", [3]string{`'{{"a","b"},{"c",NULL}}'`, "'{}'", `'{{""}}'`}},
	}
}

// postgisColumns are PostGIS geometry and geography columns, added when the
// server has the extension (the values are EWKT).
func postgisColumns() []column {
	return []column{
		{"c_geom", "geometry", [3]string{"'LINESTRING(0 0, 1 1)'", "'POINT EMPTY'", "'SRID=3857;POINT(1 2)'"}},
		{"c_geom_pt", "geometry(Point, 4326)", [3]string{"'SRID=4326;POINT(1 2)'", "'SRID=4326;POINT(-180 90)'", "'SRID=4326;POINT(0 0)'"}},
		{"c_geog", "geography", [3]string{"'SRID=4326;POINT(13.4 52.5)'", "'POINT(0 0)'", "'SRID=4326;LINESTRING(0 0, 1 1)'"}},
	}
}

// bigNumeric is a 5,000-digit numeric (about 2.5 kB, stored out of line in
// toasty.bn), so an update of another column leaves it an unchanged TOAST
// value.
const bigNumeric = "(repeat('9', 5000) || '.5')::numeric"

// geoToastSQL creates toasty_geo: a geometry stored out of line, for an
// unchanged-TOAST geometry (large polygons are TOASTed).
const geoToastSQL = `CREATE TABLE toasty_geo (id int PRIMARY KEY, g geometry, n int);
ALTER TABLE toasty_geo ALTER COLUMN g SET STORAGE EXTERNAL;
ALTER PUBLICATION ` + pubName + ` ADD TABLE toasty_geo`

// geoToastSteps insert a polygon of 8,000 points (about 128 kB, out of
// line) and update another column, so the geometry is an unchanged TOAST
// value that PostgreSQL does not send.
func geoToastSteps() []step {
	return []step{
		{"toasty_geo insert (a 128 kB polygon)", []string{"INSERT INTO toasty_geo VALUES (1, ST_Buffer(ST_MakePoint(0, 0), 10, 2000), 0)"}},
		{"toasty_geo update leaving the geometry unchanged", []string{"UPDATE toasty_geo SET n = 1 WHERE id = 1"}},
	}
}

// usesPostGIS reports whether cols have a PostGIS column.
func usesPostGIS(cols []column) bool {
	for _, c := range cols {
		if strings.HasPrefix(c.typ, "geometry") || c.typ == "geography" {
			return true
		}
	}
	return false
}

// setupSQL creates the types and tables of a parity run in a fresh database:
// alltypes (REPLICA IDENTITY FULL, every column above), toasty (an
// EXTERNAL-storage text column, REPLICA IDENTITY DEFAULT), marker (the
// last write of the workload: once both connectors published its row, they
// published everything before it), keyed, and the extended workload's
// tables (extraSetupSQL); and the publication of all of them.
func setupSQL(cols []column) string {
	defs := []string{"id int PRIMARY KEY"}
	for _, c := range cols {
		defs = append(defs, c.name+" "+c.typ)
	}
	ext := "CREATE EXTENSION IF NOT EXISTS hstore"
	if usesPostGIS(cols) {
		ext += ";\nCREATE EXTENSION IF NOT EXISTS postgis"
	}
	return strings.Join([]string{
		ext,
		"CREATE EXTENSION IF NOT EXISTS ltree",
		"CREATE EXTENSION IF NOT EXISTS citext",
		"CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
		"CREATE DOMAIN money_amount AS numeric(10,2)",
		"CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 100)",
		"CREATE TABLE alltypes (" + strings.Join(defs, ", ") + ")",
		"ALTER TABLE alltypes REPLICA IDENTITY FULL",
		"CREATE TABLE toasty (id int PRIMARY KEY, big text, n int, bn numeric)",
		"ALTER TABLE toasty ALTER COLUMN big SET STORAGE EXTERNAL",
		"ALTER TABLE toasty ALTER COLUMN bn SET STORAGE EXTERNAL",
		"CREATE TABLE marker (id int PRIMARY KEY, note text)",
		keyedSQL,
		extraSetupSQL,
		"CREATE PUBLICATION " + pubName + " FOR TABLE " + strings.Join(tables, ", "),
	}, ";\n")
}

// keyedSQL creates a table whose key has five columns of types with
// Connect logical names, so that a key change's __debezium.newkey and
// oldkey headers show how each connector describes them.
const keyedSQL = `CREATE TABLE keyed (u uuid, p numeric(12,2), n numeric, d date, s smallint, v text,
	PRIMARY KEY (u, p, n, d, s))`

// tables are the captured tables, schema-qualified: the stock ones and the
// extended workload's (extraTables).
var tables = append([]string{"public.alltypes", "public.toasty", "public.marker", "public.keyed"}, extraTables...)

// insertSQL inserts row id with the literals of vals index row (0..2) in
// every column, cast to the column's type; row -1 inserts NULLs.
func insertSQL(cols []column, id, row int) string {
	names, vals := []string{"id"}, []string{fmt.Sprint(id)}
	for _, c := range cols {
		if row < 0 || c.vals[row] == "" {
			continue
		}
		names = append(names, c.name)
		vals = append(vals, "("+c.vals[row]+")::"+c.typ)
	}
	return "INSERT INTO alltypes (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"
}

// updateAllSQL sets every non-key column of row id to row 1's literals
// (index 1), so each column changes.
func updateAllSQL(cols []column, id, row int) string {
	var sets []string
	for _, c := range cols {
		sets = append(sets, c.name+" = ("+c.vals[row]+")::"+c.typ)
	}
	return fmt.Sprintf("UPDATE alltypes SET %s WHERE id = %d", strings.Join(sets, ", "), id)
}
