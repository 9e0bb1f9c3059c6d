package decoder

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/walrelay/walrelay/event"
)

// pgStream is a real pgoutput stream: a schema of its own, a publication, a
// temporary slot on a replication connection, and a Decoder fed from it.
type pgStream struct {
	t      *testing.T
	conn   *pgx.Conn
	repl   *pgconn.PgConn
	dec    *Decoder
	schema string
}

func pgDSN(t *testing.T) string {
	dsn := os.Getenv("WALRELAY_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("WALRELAY_TEST_PG_DSN not set")
	}
	return dsn
}

// startPGStream creates schema objects with setupSQL (where "S" stands for
// the test's schema), publishes the schema's tables, and starts streaming.
func startPGStream(t *testing.T, ctx context.Context, setupSQL string, tables ...string) *pgStream {
	dsn := pgDSN(t)
	s := &pgStream{t: t, schema: fmt.Sprintf("dec_%s_%d", strings.ToLower(t.Name()), time.Now().UnixNano()%1_000_000_000)}
	var err error
	if s.conn, err = pgx.Connect(ctx, dsn); err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() {
		_, _ = s.conn.Exec(context.Background(), "DROP PUBLICATION IF EXISTS "+s.schema)
		_, _ = s.conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+s.schema+" CASCADE")
		_ = s.conn.Close(context.Background())
	})
	s.exec("CREATE SCHEMA " + s.schema)
	s.exec(strings.ReplaceAll(setupSQL, "S.", s.schema+"."))
	qualified := make([]string, len(tables))
	for i, tb := range tables {
		qualified[i] = s.schema + "." + tb
	}
	s.exec(fmt.Sprintf("CREATE PUBLICATION %s FOR TABLE %s", s.schema, strings.Join(qualified, ", ")))

	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse DSN: %v", err)
	}
	for k, v := range map[string]string{"replication": "database", "TimeZone": "UTC", "DateStyle": "ISO",
		"IntervalStyle": "postgres", "extra_float_digits": "3", "lc_monetary": "C"} {
		cfg.RuntimeParams[k] = v
	}
	if s.repl, err = pgconn.ConnectConfig(ctx, cfg); err != nil {
		t.Fatalf("replication connect: %v", err)
	}
	t.Cleanup(func() { _ = s.repl.Close(context.Background()) })
	slot, err := pglogrepl.CreateReplicationSlot(ctx, s.repl, s.schema, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Temporary: true})
	if err != nil {
		t.Fatalf("create slot: %v", err)
	}
	start, err := pglogrepl.ParseLSN(slot.ConsistentPoint)
	if err != nil {
		t.Fatalf("slot LSN: %v", err)
	}
	err = pglogrepl.StartReplication(ctx, s.repl, s.schema, start, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + s.schema + "'", "messages 'true'"}})
	if err != nil {
		t.Fatalf("start replication: %v", err)
	}
	s.dec = New(Options{Types: NewCatalog(s.conn)})
	return s
}

func (s *pgStream) exec(sql string) {
	s.t.Helper()
	if _, err := s.conn.Exec(context.Background(), sql); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

// collect decodes the stream until n transactions committed and returns
// their changes in stream order.
func (s *pgStream) collect(ctx context.Context, n int) []*event.Change {
	s.t.Helper()
	var out []*event.Change
	for commits := 0; commits < n; {
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		msg, err := s.repl.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			s.t.Fatalf("receive after %d commits: %v", commits, err)
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok {
			s.t.Fatalf("unexpected message %T: %+v", msg, msg)
		}
		switch cd.Data[0] {
		case pglogrepl.PrimaryKeepaliveMessageByteID:
			ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(cd.Data[1:])
			if err == nil && ka.ReplyRequested {
				_ = pglogrepl.SendStandbyStatusUpdate(ctx, s.repl, pglogrepl.StandbyStatusUpdate{WALWritePosition: 0})
			}
		case pglogrepl.XLogDataByteID:
			xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
			if err != nil {
				s.t.Fatalf("XLogData: %v", err)
			}
			r, err := s.dec.Decode(ctx, xld.WALStart, xld.WALData)
			if err != nil {
				s.t.Fatalf("decode: %v", err)
			}
			out = append(out, r.Changes...)
			if r.Kind == KindCommit {
				if r.EndLSN <= r.Tx.CommitLSN {
					s.t.Errorf("commit end LSN %s not after commit LSN %s", r.EndLSN, r.Tx.CommitLSN)
				}
				commits++
			}
		}
	}
	return out
}

const allTypesSQL = `
CREATE TYPE S.mood AS ENUM ('happy', 'sad');
CREATE DOMAIN S.price AS numeric(8,2) CHECK (VALUE >= 0);
CREATE TABLE S.all_types (
	id int8 PRIMARY KEY, c_int2 int2, c_int4 int4, c_int8 int8, c_float4 float4, c_float8 float8,
	c_num numeric(10,3), c_numfree numeric, c_money money, c_text text, c_varchar varchar(10), c_char char(3),
	c_bytea bytea, c_bool bool, c_date date, c_time time, c_timetz timetz, c_ts timestamp, c_tstz timestamptz,
	c_interval interval, c_uuid uuid, c_json json, c_jsonb jsonb, c_int4arr int4[], c_textarr text[],
	c_mood S.mood, c_inet inet, c_cidr cidr, c_macaddr macaddr, c_bit1 bit(1), c_bit5 bit(5), c_varbit varbit,
	c_int4range int4range, c_tstzrange tstzrange, c_point point, c_box box, c_circle circle, c_xml xml,
	c_moods S.mood[], c_price S.price, c_null text)`

const allTypesInsert = `INSERT INTO S.all_types VALUES (
	1, -32768, 2147483647, -9223372036854775808, 1.5, 2.5e-300,
	1234567.891, 3.14000, 1234.56, 'héllo wörld', 'abc', 'ab',
	'\x00ff10', true, '2024-02-29', '03:04:05.123456', '15:04:05.5+02', '2024-01-02 03:04:05.123456',
	'2024-01-02 03:04:05.5+01', '1 year 2 mons 3 days 04:05:06.789', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
	'{"b": 1,  "a": [1,2]}', '{"b": 1, "a": [1,2]}', '{1,NULL,3}', '{"a b","c\"d",NULL,"NULL"}',
	'happy', '192.168.1.5/24', '10.0.0.0/8', '08:00:2B:01:02:03', B'1', B'10110', B'1000000001',
	'[1,10)', '[2024-01-01 00:00+00,2024-01-02 00:00+00)', '(1,2)', '((0,0),(2,2))', '<(1,2),3>', '<a>b</a>',
	'{happy,sad}', 9.5, NULL)`

// TestPGAllTypes streams one row with a column of every supported type from a
// real Postgres and checks each decoded value and column description.
func TestPGAllTypes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := startPGStream(t, ctx, allTypesSQL, "all_types")
	s.exec(strings.ReplaceAll(allTypesInsert, "S.", s.schema+"."))
	changes := s.collect(ctx, 1)
	if len(changes) != 1 || changes[0].Op != event.OpCreate {
		t.Fatalf("changes: %+v", changes)
	}
	c := changes[0]
	s2, us := int64(1_000_000), int64(1)
	want := map[string]any{
		"id": int64(1), "c_int2": int16(-32768), "c_int4": int32(2147483647), "c_int8": int64(-9223372036854775808),
		"c_float4": float32(1.5), "c_float8": 2.5e-300,
		"c_num": dec("1234567891", 3), "c_numfree": dec("314000", 5), "c_money": dec("123456", 2),
		"c_text": "héllo wörld", "c_varchar": "abc", "c_char": "ab ",
		"c_bytea": []byte{0, 0xff, 0x10}, "c_bool": true, "c_date": event.Date(19782),
		"c_time": event.MicroTime(11045123456), "c_timetz": "13:04:05.5Z",
		"c_ts": event.MicroTimestamp(1704164645123456), "c_tstz": "2024-01-02T02:04:05.500000Z",
		"c_interval": event.Interval{Months: 14, Days: 3, Micros: (4*3600+5*60+6)*s2 + 789000*us},
		"c_uuid":     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"c_json":     event.JSON(`{"b": 1,  "a": [1,2]}`), "c_jsonb": event.JSON(`{"a": [1, 2], "b": 1}`),
		"c_int4arr": []any{int32(1), nil, int32(3)}, "c_textarr": []any{"a b", `c"d`, nil, "NULL"},
		"c_mood": event.Enum("happy"), "c_inet": "192.168.1.5/24", "c_cidr": "10.0.0.0/8",
		"c_macaddr": "08:00:2b:01:02:03", "c_bit1": true,
		"c_bit5": event.Bits{Len: 5, Bytes: []byte{0x16}}, "c_varbit": event.Bits{Len: 10, Bytes: []byte{0x01, 0x02}},
		"c_int4range": "[1,10)", "c_tstzrange": `["2024-01-01 00:00:00+00","2024-01-02 00:00:00+00")`,
		"c_point": event.Point{X: 1, Y: 2}, "c_box": "(2,2),(0,0)", "c_circle": "<(1,2),3>", "c_xml": "<a>b</a>",
		"c_moods": []any{event.Enum("happy"), event.Enum("sad")}, "c_price": dec("950", 2), "c_null": nil,
	}
	cols := c.Relation.Columns
	if len(cols) != len(want) || len(c.After) != len(cols) {
		t.Fatalf("%d columns, %d values, want %d", len(cols), len(c.After), len(want))
	}
	for i, col := range cols {
		w, ok := want[col.Name]
		if !ok {
			t.Errorf("unexpected column %s", col.Name)
			continue
		}
		if !equalValue(c.After[i], w) {
			t.Errorf("%s (%s): got %#v (%T), want %#v (%T)", col.Name, col.TypeName, c.After[i], c.After[i], w, w)
		}
	}
	kinds := map[string]event.TypeKind{"c_mood": event.KindEnum, "c_moods": event.KindArray, "c_int4arr": event.KindArray, "c_money": event.KindBase}
	for i, col := range cols {
		if k, ok := kinds[col.Name]; ok && col.Kind != k {
			t.Errorf("%s: kind %d, want %d", col.Name, col.Kind, k)
		}
		if col.Name == "c_mood" && col.TypeName != "mood" || col.Name == "c_moods" && col.TypeName != "_mood" {
			t.Errorf("%s: type name %q", col.Name, col.TypeName)
		}
		if col.Name == "c_price" && (col.TypeOID != 1700 || col.TypeName != "numeric" || col.TypeMod != numericTypmod(8, 2)) {
			t.Errorf("domain column described as %+v, want its base numeric(8,2)", col)
		}
		if (i == 0) != col.Key {
			t.Errorf("%s: Key = %v", col.Name, col.Key)
		}
	}
}

const toastSQL = `
CREATE TABLE S.toast_default (id int PRIMARY KEY, big text, n int);
CREATE TABLE S.toast_full (id int PRIMARY KEY, big text, n int);
ALTER TABLE S.toast_full REPLICA IDENTITY FULL`

// TestPGToastAndIdentity checks unchanged TOAST values and old tuples under
// REPLICA IDENTITY DEFAULT and FULL against a real Postgres.
func TestPGToastAndIdentity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := startPGStream(t, ctx, toastSQL, "toast_default", "toast_full")
	var big string
	// 1000 chained md5s (32 kB): too random to compress below the TOAST threshold.
	err := s.conn.QueryRow(ctx, `SELECT string_agg(md5(i::text || random()::text), '') FROM generate_series(1, 1000) i`).Scan(&big)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range []string{"toast_default", "toast_full"} {
		if _, err := s.conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.%s VALUES (1, $1, 1)", s.schema, tb), big); err != nil {
			t.Fatal(err)
		}
	}
	s.exec(fmt.Sprintf("UPDATE %s.toast_default SET n = 2 WHERE id = 1", s.schema))
	s.exec(fmt.Sprintf("UPDATE %s.toast_full SET n = 2 WHERE id = 1", s.schema))
	s.exec(fmt.Sprintf("UPDATE %s.toast_default SET id = 10 WHERE id = 1", s.schema))
	s.exec(fmt.Sprintf("DELETE FROM %s.toast_default WHERE id = 10", s.schema))
	changes := s.collect(ctx, 6)
	if len(changes) != 6 {
		t.Fatalf("%d changes, want 6", len(changes))
	}
	absent, unavl := event.Absent{}, event.Unavailable{}
	cases := []struct {
		name          string
		op            event.Op
		table         string
		before, after []any
	}{
		{"insert default", event.OpCreate, "toast_default", nil, []any{int32(1), big, int32(1)}},
		{"insert full", event.OpCreate, "toast_full", nil, []any{int32(1), big, int32(1)}},
		{"DEFAULT update: TOAST unavailable", event.OpUpdate, "toast_default", nil, []any{int32(1), unavl, int32(2)}},
		{"FULL update: TOAST from old tuple", event.OpUpdate, "toast_full",
			[]any{int32(1), big, int32(1)}, []any{int32(1), big, int32(2)}},
		{"DEFAULT key change: key tuple", event.OpUpdate, "toast_default",
			[]any{int32(1), absent, absent}, []any{int32(10), unavl, int32(2)}},
		{"DEFAULT delete: key tuple", event.OpDelete, "toast_default", []any{int32(10), absent, absent}, nil},
	}
	for i, tc := range cases {
		c := changes[i]
		if c.Op != tc.op || c.Relation.Table != tc.table {
			t.Errorf("%s: op %v on %s", tc.name, c.Op, c.Relation.Table)
			continue
		}
		checkValues(t, tc.name+" Before", c.Before, tc.before)
		checkValues(t, tc.name+" After", c.After, tc.after)
	}
	if changes[3].Relation.ReplicaIdentity != event.IdentityFull || changes[2].Relation.ReplicaIdentity != event.IdentityDefault {
		t.Errorf("replica identities %q %q", changes[3].Relation.ReplicaIdentity, changes[2].Relation.ReplicaIdentity)
	}
}

// TestPGRelationVersion checks that DDL bumps the relation version and that
// later changes keep it.
func TestPGRelationVersion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := startPGStream(t, ctx, "CREATE TABLE S.v (id int PRIMARY KEY)", "v")
	s.exec(fmt.Sprintf("INSERT INTO %s.v VALUES (1)", s.schema))
	s.exec(fmt.Sprintf("ALTER TABLE %s.v ADD COLUMN note text", s.schema))
	s.exec(fmt.Sprintf("INSERT INTO %s.v VALUES (2, 'x')", s.schema))
	s.exec(fmt.Sprintf("INSERT INTO %s.v VALUES (3, 'y')", s.schema))
	changes := s.collect(ctx, 3)
	if len(changes) != 3 {
		t.Fatalf("%d changes", len(changes))
	}
	r1, r2, r3 := changes[0].Relation, changes[1].Relation, changes[2].Relation
	if r1.Version != 1 || len(r1.Columns) != 1 || r2.Version != 2 || len(r2.Columns) != 2 || r3 != r2 {
		t.Fatalf("versions %d/%d/%d, columns %d/%d, same last relation %v",
			r1.Version, r2.Version, r3.Version, len(r1.Columns), len(r2.Columns), r3 == r2)
	}
	checkValues(t, "third insert", changes[2].After, []any{int32(3), "y"})
}
