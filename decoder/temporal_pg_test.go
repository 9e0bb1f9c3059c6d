package decoder

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/walrelay/walrelay/event"
)

const rangeEndsSQL = `CREATE TABLE S.ts_ends (id int PRIMARY KEY, ts timestamp, ts3 timestamp(3), ts0 timestamp(0),
	tstz timestamptz, tstz0 timestamptz(0), atz timestamptz[])`

const rangeEndsInsert = `INSERT INTO S.ts_ends VALUES
	(1, '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999', '294276-12-31 23:59:59',
	    '294276-12-31 23:59:59.999999+00', '294276-12-31 23:59:59+00', '{"294276-12-31 23:59:59+00"}'),
	(2, '294247-01-10 04:00:54.775808', '294247-01-10 04:00:54.776', NULL, '294247-01-10 04:00:54.775808+00', NULL, NULL),
	(3, '294247-01-10 04:00:54.775807', '294247-01-10 04:00:54.775', '4714-11-24 00:00:00 BC', NULL, '4714-11-24 00:00:00+00 BC', NULL)`

// TestPGTimestampRangeEnds streams the audit's rows at the end of
// PostgreSQL's timestamp range (D3) from a real PostgreSQL and reads them
// again as a snapshot does (SELECT in text format through a RowDecoder):
// both paths give the same values, timestamptz exact, timestamp past the
// int64-µs range as its milliseconds (event.FarTimestamp) rather than
// wrapped to year -290278.
func TestPGTimestampRangeEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := startPGStream(t, ctx, rangeEndsSQL, "ts_ends")
	s.exec(strings.ReplaceAll(rangeEndsInsert, "S.", s.schema+"."))
	changes := s.collect(ctx, 1)
	if len(changes) != 3 {
		t.Fatalf("%d changes, want 3", len(changes))
	}
	maxTS := event.MicroTimestamp(math.MaxInt64)
	want := [][]any{
		{int32(1), event.FarTimestamp(9224318015999999), event.FarTimestamp(9224318015999999),
			event.FarTimestamp(9224318015999000), "+294276-12-31T23:59:59.999999Z", "+294276-12-31T23:59:59Z",
			[]any{"+294276-12-31T23:59:59.000000Z"}},
		{int32(2), event.FarTimestamp(9223372036854775), event.FarTimestamp(9223372036854776), nil, "+294247-01-10T04:00:54.775808Z", nil, nil},
		{int32(3), maxTS, event.MicroTimestamp(9223372036854775000), event.MicroTimestamp(-210866803200000000),
			nil, "-4713-11-24T00:00:00Z", nil},
	}
	snap := snapshotRows(t, ctx, s, changes[0].Relation)
	for i, c := range changes {
		checkValues(t, "stream row "+string(rune('1'+i)), c.After, want[i])
		checkValues(t, "snapshot row "+string(rune('1'+i)), snap[i], want[i])
	}
}

// snapshotRows reads ts_ends in text format, UTC and ISO, and decodes its
// rows with a RowDecoder for rel's columns.
func snapshotRows(t *testing.T, ctx context.Context, s *pgStream, rel *event.Relation) [][]any {
	t.Helper()
	s.exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'")
	m := &pglogrepl.RelationMessage{RelationID: rel.OID, Namespace: rel.Schema, RelationName: rel.Table,
		ReplicaIdentity: uint8(rel.ReplicaIdentity)}
	for _, c := range rel.Columns {
		var flags uint8
		if c.Key {
			flags = 1
		}
		m.Columns = append(m.Columns, &pglogrepl.RelationMessageColumn{Flags: flags, Name: c.Name, DataType: c.TypeOID, TypeModifier: c.TypeMod})
	}
	rd, err := NewRowDecoder(ctx, Options{}, m)
	if err != nil {
		t.Fatalf("NewRowDecoder: %v", err)
	}
	res := s.conn.PgConn().ExecParams(ctx, "SELECT * FROM "+s.schema+".ts_ends ORDER BY id", nil, nil, nil, nil).Read()
	if res.Err != nil {
		t.Fatalf("select: %v", res.Err)
	}
	var out [][]any
	for _, values := range res.Rows {
		row, err := rd.DecodeRow(values)
		if err != nil {
			t.Fatalf("DecodeRow: %v", err)
		}
		out = append(out, row)
	}
	return out
}
