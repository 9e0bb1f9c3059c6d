package main

import (
	"strconv"
	"strings"
)

// The extended workload (from the auditp audit): tables and transactions
// beyond alltypes that exercise what a single all-types table cannot:
// unchanged TOAST values of many types under both replica identities,
// arrays of edge values, domains, a generated column, columns added and
// dropped mid-stream, tables without a primary key, REPLICA IDENTITY USING
// INDEX with and without a primary key, NOT NULL columns and defaults,
// TRUNCATE of two tables, messages, and scalar edge values (x_vals).
//
// It has no domain over an enum: Debezium Server 3.6.1 cannot start on a
// database holding one (a NullPointerException in
// TypeRegistry.createTypeBuilderFromResultSet), so no pass could run.

// extraTables are the extended workload's tables, schema-qualified.
var extraTables = []string{"public.x_toast_def", "public.x_toast_full", "public.x_arrays", "public.x_dom",
	"public.x_gen", "public.x_def_later", "public.x_nopk", "public.x_nopk_def", "public.x_riidx", "public.x_riidx_nopk",
	"public.x_tr1", "public.x_tr2", "public.x_vals", "public.x_notnull"}

// extraSetupSQL creates extraTables and their types; setupSQL runs it
// before it creates the publication.
var extraSetupSQL = `CREATE TYPE color AS ENUM ('red','green','blue');
CREATE DOMAIN dom_int AS int4 CHECK (VALUE >= 0);
CREATE DOMAIN dom_ts AS timestamp(3);
CREATE DOMAIN dom_tstz AS timestamptz;
CREATE DOMAIN dom_vc AS varchar(10);
CREATE DOMAIN dom_numu AS numeric;
CREATE DOMAIN dom_num52 AS numeric(5,2);
CREATE DOMAIN dom_intarr AS int4[];
CREATE DOMAIN dom_bytea AS bytea;
CREATE DOMAIN dom_date AS date;
CREATE DOMAIN dom_dom_int AS dom_int;
CREATE DOMAIN dom_uuid AS uuid;
CREATE DOMAIN dom_jsonb AS jsonb;
` + xToastSQL + `
CREATE TABLE x_arrays (id int PRIMARY KEY, a_num numeric[], a_num102 numeric(10,2)[], a_f4 float4[], a_f8 float8[],
  a_i2 int2[], a_i8 int8[], a_bool bool[], a_date date[], a_time time[], a_timetz timetz[], a_ts timestamp[],
  a_tstz timestamptz[], a_interval interval[], a_money money[], a_char char(3)[], a_vc varchar(5)[], a_inet inet[],
  a_cidr cidr[], a_mac macaddr[], a_color color[], a_json json[], a_varbit varbit[], a_bit bit(3)[], a_xml xml[],
  a_tsrange tsrange[], a_oid oid[], a_name name[], a_citext citext[], a_hstore hstore[], a_ltree ltree[]);
ALTER TABLE x_arrays REPLICA IDENTITY FULL;
CREATE TABLE x_dom (id int PRIMARY KEY, d_int dom_int, d_ts dom_ts, d_tstz dom_tstz, d_vc dom_vc, d_numu dom_numu,
  d_num52 dom_num52, d_intarr dom_intarr, d_bytea dom_bytea, d_date dom_date, d_domdom dom_dom_int, d_uuid dom_uuid,
  d_jsonb dom_jsonb, d_arr_dom dom_int[]);
ALTER TABLE x_dom REPLICA IDENTITY FULL;
CREATE TABLE x_gen (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED, c text);
CREATE TABLE x_def_later (id int PRIMARY KEY, a int);
CREATE TABLE x_nopk (a int, b text);
ALTER TABLE x_nopk REPLICA IDENTITY FULL;
CREATE TABLE x_nopk_def (a int, b text);
CREATE TABLE x_riidx (id int PRIMARY KEY, u int NOT NULL, v text);
CREATE UNIQUE INDEX x_riidx_u ON x_riidx (u);
ALTER TABLE x_riidx REPLICA IDENTITY USING INDEX x_riidx_u;
CREATE TABLE x_riidx_nopk (u int NOT NULL, w text NOT NULL, v text);
CREATE UNIQUE INDEX x_riidx_nopk_u ON x_riidx_nopk (u, w);
ALTER TABLE x_riidx_nopk REPLICA IDENTITY USING INDEX x_riidx_nopk_u;
CREATE TABLE x_tr1 (id int PRIMARY KEY);
CREATE TABLE x_tr2 (id int PRIMARY KEY);
CREATE TABLE x_notnull (id int PRIMARY KEY, a int NOT NULL, b text NOT NULL DEFAULT 'x',
  c timestamptz NOT NULL DEFAULT '2020-01-01 00:00:00+00', d int DEFAULT 7, e numeric(5,2) DEFAULT 1.5);
CREATE TABLE x_vals (id int PRIMARY KEY, n numeric, n1 numeric(1,0), f4 float4, f8 float8, m money,
  ts timestamp, ts6 timestamp(6), ts1 timestamp(1), tstz timestamptz, d date, t time, t0 time(0), ttz timetz,
  ttz3 timetz(3), iv interval, iv_ym interval year to month, iv_ds interval day to second(3), bv varbit,
  bv10 varbit(10), b70 bit(70), x xml, u uuid, i inet, c cidr, mac macaddr, mac8 macaddr8, tsv tsvector,
  tsq tsquery, ch1 char, ch char(4), bpc bpchar, vc varchar, i2 int2, c1 "char", js json, jb jsonb, pl pg_lsn,
  xid8v xid8);
ALTER TABLE x_vals REPLICA IDENTITY FULL`

// xToastSQL creates x_toast_def (REPLICA IDENTITY DEFAULT) and x_toast_full
// (FULL), alike: every TOAST-able column stored out of line.
var xToastSQL = func() string {
	var b strings.Builder
	for _, tab := range []string{"x_toast_def", "x_toast_full"} {
		b.WriteString("CREATE TABLE " + tab + " (id int PRIMARY KEY, t text, j jsonb, b bytea, ta text[], ia int[], " +
			"x xml, vc varchar, dt dom_vc, n int);\n")
		for _, c := range []string{"t", "j", "b", "ta", "ia", "x", "vc"} {
			b.WriteString("ALTER TABLE " + tab + " ALTER COLUMN " + c + " SET STORAGE EXTERNAL;\n")
		}
	}
	return b.String() + "ALTER TABLE x_toast_full REPLICA IDENTITY FULL;"
}()

// bigMD5 is about 9.6 kB of text, stored out of line.
const bigMD5 = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 300) g)"

// xToastRow inserts row id into a x_toast table: every out-of-line column
// large (text, jsonb, bytea, text[], int[], xml, varchar), dt and n small.
func xToastRow(tab string, id int) string {
	return "INSERT INTO " + tab + " VALUES (" + strconv.Itoa(id) + ", " + bigMD5 +
		", (SELECT jsonb_agg(md5(g::text)) FROM generate_series(1, 300) g)" +
		", (SELECT decode(string_agg(md5(g::text), ''), 'hex') FROM generate_series(1, 400) g)" +
		", (SELECT array_agg(md5(g::text)) FROM generate_series(1, 300) g)" +
		", (SELECT array_agg(g) FROM generate_series(1, 3000) g)" +
		", ('<a>' || " + bigMD5 + " || '</a>')::xml, " + bigMD5 + ", 'small', 0)"
}

// bothToast applies format (with %s for the table) to both x_toast tables.
func bothToast(format string) []string {
	return []string{strings.ReplaceAll(format, "%s", "x_toast_def"), strings.ReplaceAll(format, "%s", "x_toast_full")}
}

// extraSteps are the extended workload's transactions, streamed after the
// stock ones and before the end marker.
func extraSteps() []step {
	return []step{
		{"x_toast: insert large values", []string{xToastRow("x_toast_def", 1), xToastRow("x_toast_full", 1)}},
		{"x_toast: update n, every TOAST value unchanged", bothToast("UPDATE %s SET n = 1 WHERE id = 1")},
		{"x_toast: update one TOAST column", bothToast("UPDATE %s SET t = 'now small' WHERE id = 1")},
		{"x_toast: key change with unchanged TOAST values", bothToast("UPDATE %s SET id = 5 WHERE id = 1")},
		{"x_toast: delete", bothToast("DELETE FROM %s WHERE id = 5")},
		{"x_arrays: insert edge elements, a NULL row, update", []string{xArraysInsert, xArraysNull,
			"UPDATE x_arrays SET a_num = '{1}', a_color = '{green}' WHERE id = 1"}},
		{"x_dom: insert, update", []string{xDomInsert, "UPDATE x_dom SET d_int = 6 WHERE id = 1"}},
		{"x_gen: insert, update the generating column, update another", []string{xGenInsert,
			"UPDATE x_gen SET a = 22 WHERE id = 1", "UPDATE x_gen SET c = 'y' WHERE id = 1"}},
		{"x_def_later: insert", []string{xDefLaterInsert}},
		{"x_def_later: add columns with defaults", []string{xDefLaterAdd}},
		{"x_def_later: insert, update an old row", []string{xDefLaterInsert2, "UPDATE x_def_later SET a = 10 WHERE id = 1"}},
		{"x_def_later: drop a column", []string{"ALTER TABLE x_def_later DROP COLUMN a"}},
		{"x_def_later: insert, update after the drop", []string{"INSERT INTO x_def_later (id) VALUES (3)",
			"UPDATE x_def_later SET c = 43 WHERE id = 2"}},
		{"x_nopk: two equal rows updated and deleted; x_nopk_def insert", []string{xNopkInsert,
			"UPDATE x_nopk SET b = 'b' WHERE a = 1", "DELETE FROM x_nopk WHERE a = 1", xNopkDefInsert}},
		{"x_riidx: identity index, with a primary key: every kind of change", []string{xRiidxInsert,
			"UPDATE x_riidx SET v = 'b' WHERE id = 1", "UPDATE x_riidx SET u = 11 WHERE id = 1",
			"UPDATE x_riidx SET id = 2 WHERE id = 1", "DELETE FROM x_riidx WHERE id = 2"}},
		{"x_riidx_nopk: identity index, no primary key", []string{xRiidxNopkInsert,
			"UPDATE x_riidx_nopk SET v = 'b' WHERE u = 1", "UPDATE x_riidx_nopk SET u = 2 WHERE u = 1",
			"DELETE FROM x_riidx_nopk WHERE u = 2"}},
		{"x_notnull: insert with defaults, update, delete", []string{xNotnullInsert,
			"UPDATE x_notnull SET a = 2 WHERE id = 1", "DELETE FROM x_notnull WHERE id = 1"}},
		{"x_tr: fill", xTrFill},
		{"x_tr: truncate two tables", []string{"TRUNCATE x_tr1, x_tr2 RESTART IDENTITY"}},
		{"x_tr: insert, truncate, insert in one transaction", []string{"INSERT INTO x_tr1 VALUES (2)", "TRUNCATE x_tr1",
			"INSERT INTO x_tr1 VALUES (3)"}},
		{"non-transactional message", []string{"SELECT pg_logical_emit_message(false, 'nontx', 'non transactional')"}},
		{"binary and empty messages", []string{"SELECT pg_logical_emit_message(true, 'bin', '\\xff00fe'::bytea)",
			"SELECT pg_logical_emit_message(true, '', '')", "INSERT INTO x_tr2 VALUES (9)"}},
		{"x_vals: scalar edge values", xValsInserts},
	}
}

// extraSnapshotFill is what the snapshot pass adds to snapshotFill: the
// extended tables' rows as the stream would leave them before their
// updates, extraSnapshotRows rows in all.
func extraSnapshotFill() []step {
	return []step{
		{"x_toast rows", []string{xToastRow("x_toast_def", 1), xToastRow("x_toast_full", 1)}},
		{"x_arrays rows", []string{xArraysInsert, xArraysNull}},
		{"x_dom row", []string{xDomInsert}},
		{"x_gen row", []string{xGenInsert}},
		{"x_def_later row, columns added, row", []string{xDefLaterInsert, xDefLaterAdd, xDefLaterInsert2}},
		{"x_nopk rows, x_nopk_def row", []string{xNopkInsert, xNopkDefInsert}},
		{"x_riidx rows", []string{xRiidxInsert, xRiidxNopkInsert}},
		{"x_notnull row", []string{xNotnullInsert}},
		{"x_tr rows", xTrFill},
		{"x_vals rows", xValsInserts},
	}
}

// extraSnapshotRows counts extraSnapshotFill's rows: 2 x_toast, 2 x_arrays,
// 1 x_dom, 1 x_gen, 2 x_def_later, 3 x_nopk and x_nopk_def, 2 x_riidx and
// x_riidx_nopk, 1 x_notnull, 2 x_tr, 6 x_vals.
const extraSnapshotRows = 22

// Rows the stream and the snapshot fill share.
const (
	xArraysInsert = `INSERT INTO x_arrays VALUES (1, '{1.5,-2,NaN,0.00000000000000000001,123456789012345678901234567890}',
  '{1.50,-2.00,NULL}', '{0.1,NaN,Infinity,-Infinity,3.4028235e38}', '{0.1,NaN,-Infinity,5e-324,-0}', '{-32768,32767}',
  '{-9223372036854775808,9223372036854775807}', '{t,f,NULL}', '{1970-01-01,1969-12-31,infinity,-infinity,0001-01-01}',
  '{00:00:00,23:59:59.999999,24:00:00}', '{00:00:00+00,12:00:00.5+05:30}',
  '{"1970-01-01 00:00:00","1969-12-31 23:59:59.999999","infinity"}', '{"1970-01-01 00:00:00+00","1969-12-31 23:59:59.5-01"}',
  '{"1 mon","-1 days","1 year 2 mons 3 days 04:05:06.789"}', '{1.5,-2}', '{ab,"",abc}', '{a,"b c"}',
  '{192.168.0.1/24,::1}', '{10.0.0.0/8}', '{08:00:2b:01:02:03}', '{red,blue}', ARRAY['{"a":1}'::json, '[]'::json],
  '{101,""}', '{101,000}', ARRAY['<a/>'::xml], '{"[2024-01-01,2024-01-02)"}', '{1,4294967295}', '{a,b}', '{MiXed,x}',
  ARRAY['a=>1'::hstore], '{a.b,c}')`
	xArraysNull = `INSERT INTO x_arrays (id) VALUES (2)`
	xDomInsert  = `INSERT INTO x_dom VALUES (1, 5, '1969-12-31 23:59:59.999', '1970-01-01 00:00:00.5+00', 'abc', 123.456789,
  123.45, '{1,2}', '\xdead', '1969-07-20', 7, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k":[1,2]}', '{1,2}')`
	xGenInsert       = "INSERT INTO x_gen (id, a, c) VALUES (1, 21, 'x')"
	xDefLaterInsert  = "INSERT INTO x_def_later VALUES (1, 1)"
	xDefLaterInsert2 = "INSERT INTO x_def_later (id, a) VALUES (2, 2)"
	xDefLaterAdd     = "ALTER TABLE x_def_later ADD COLUMN c int DEFAULT 42, ADD COLUMN d text NOT NULL DEFAULT 'dflt', " +
		"ADD COLUMN e timestamptz DEFAULT '2024-01-02 03:04:05+00'"
	xNopkInsert      = "INSERT INTO x_nopk VALUES (1, 'a'), (1, 'a')"
	xNopkDefInsert   = "INSERT INTO x_nopk_def VALUES (1, 'a')"
	xRiidxInsert     = "INSERT INTO x_riidx VALUES (1, 10, 'a')"
	xRiidxNopkInsert = "INSERT INTO x_riidx_nopk VALUES (1, 'w', 'a')"
	xNotnullInsert   = "INSERT INTO x_notnull (id, a) VALUES (1, 1)"
)

// xTrFill fills the truncated tables.
var xTrFill = []string{"INSERT INTO x_tr1 VALUES (1)", "INSERT INTO x_tr2 VALUES (1)"}

// xValsInserts are x_vals rows 1-3 (typical, edge, edge or NULL per column)
// and 4-6 (non-finite and extreme numeric and floating values).
var xValsInserts = []string{
	`INSERT INTO x_vals VALUES (1, 0.00000000000000000000000000000000000001, 9, 0.1, 0.1, '92233720368547758.07',
  '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999', '1969-12-31 23:59:59.9', '1969-12-31 23:59:59.999999+00',
  '1970-01-01', '23:59:59.999999', '23:59:59', '00:00:00.000001+14', '23:59:59.999-15:59', '1 mon', '-1 year',
  '1 day 00:00:00.001', B'1010101010101010101010101010101010101010101010101010101010101010101', B'1',
  B'1000000000000000000000000000000000000000000000000000000000000000000001', '<?xml version="1.0"?><r>é</r>',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '::ffff:1.2.3.4', '::/0', '08-00-2b-01-02-03', '08002b0102030405',
  $$'a b':1A,2B 'c''d':3 e$$, 'a & !b', 'x', 'ab', 'abc ', 'varchar é', -1, 'z', '{"a":1.0,"a":2}', '{"n":1.10}',
  '16/B374D848', '18446744073709551615')`,
	`INSERT INTO x_vals VALUES (2, 1e100, -9, 16777217, 5e-324, '-92233720368547758.08',
  '1969-12-31 23:59:59.000001', '0001-01-01 00:00:00', '1899-12-31 23:59:59.5', '1900-01-01 00:00:00.000001+00',
  '0001-01-01', '00:00:00.000001', '12:00:00', '23:59:59.999999-14', '00:00:00+00', '178000000 years',
  '-1 mons 2 days -00:00:00.5', '00:00:00.5', B'', B'1111111111',
  B'0000000000000000000000000000000000000000000000000000000000000000000000', '', '00000000-0000-0000-0000-000000000001',
  '255.255.255.255/32', '192.168/16', 'ff:ff:ff:ff:ff:fe', 'ff:ff:ff:ff:ff:ff:ff:fe', '', 'x', '', '', '', '', 32767,
  '\001', '"é"', 'null', '0/0', '0')`,
	`INSERT INTO x_vals VALUES (3, -1e-100, 0, 1.17549435e-38, -0.0, 0, '294276-12-31 23:59:59.999999',
  '4713-01-01 00:00:00 BC', '1970-01-01 00:00:00.05', '1969-12-31 23:00:00-01', '4714-11-24 BC', '24:00:00', '00:00:00',
  '24:00:00+00', '12:34:56.789+05:45', '-178000000 years', '2 years 3 mons', '-1 days -00:00:00.001')`,
	`INSERT INTO x_vals (id, n, f4, f8) VALUES (4, 'Infinity', 'NaN', 'Infinity'), (5, '-Infinity', 3.4028235e38,
  1.7976931348623157e308), (6, 'NaN', '-0', 123456789.123456789)`,
}
