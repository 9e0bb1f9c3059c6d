package e2e

import (
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5"
)

// timeModesDDL has time and timestamp columns of each precision class,
// timestamptz of three precisions, an array and a date.
const timeModesDDL = `CREATE TABLE times (id int PRIMARY KEY, t3 time(3), t time, ts0 timestamp(0),
	ts3 timestamp(3), ts timestamp, tz timestamptz, tz3 timestamptz(3), tz0 timestamptz(0),
	tsa timestamp(3)[], d date);`

// timeModes is the time precision tests' table and rows with the settings.
func timeModes(set map[string]string) modeRun {
	return modeRun{ddl: timeModesDDL, table: "public.times", set: set, rows: timeModesRows}
}

func timeModesRows(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	mustExec(t, conn, `SET TIME ZONE 'UTC'`)
	mustExec(t, conn, `INSERT INTO times VALUES (1, '10:00:01.123', '10:00:01.123456', '2024-01-02 03:04:05',
		'2024-01-02 03:04:05.123', '1969-12-31 23:59:59.9985', '2024-01-02 03:04:05.5+00',
		'2024-01-02 03:04:05.5+00', '2024-01-02 03:04:05+00', ARRAY['2024-01-02 03:04:05.123'::timestamp(3), NULL],
		'2024-01-02')`)
	mustExec(t, conn, `INSERT INTO times (id, ts3) VALUES (2, 'infinity')`)
}

// TestTimePrecisionAdaptive: by default (time.precision.mode=adaptive)
// time(3) and timestamp(0|3) are milliseconds, unqualified time and
// timestamp microseconds, and timestamptz carries exactly its precision in
// fraction digits, as Debezium 2.2+ writes them.
func TestTimePrecisionAdaptive(t *testing.T) {
	t.Parallel()
	recs := timeModes(nil).jsonRecords(t, 2)
	want := []map[string]string{
		{"t3": `36001123`, "t": `36001123456`, "ts0": `1704164645000`, "ts3": `1704164645123`, "ts": `-1500`,
			"tz": `"2024-01-02T03:04:05.500000Z"`, "tz3": `"2024-01-02T03:04:05.500Z"`, "tz0": `"2024-01-02T03:04:05Z"`,
			"tsa": `[1704164645123,null]`, "d": `19724`},
		{"ts3": `9223372036825200`},
	}
	checkAfterJSON(t, recs, want)
}

// TestTimePrecisionConnectAvro: time_precision_mode connect registers Kafka
// Connect's Date, Time and Timestamp logical types and writes milliseconds
// (a pre-1970 microsecond value rounds down).
func TestTimePrecisionConnectAvro(t *testing.T) {
	t.Parallel()
	recs := timeModes(map[string]string{"time_precision_mode": "connect"}).avroRecords(t, 2)
	clock := 10*time.Hour + time.Second + 123*time.Millisecond
	want := map[string]any{
		"t3": clock, "t": clock, "ts0": time.UnixMilli(1704164645000).UTC(), "ts3": time.UnixMilli(1704164645123).UTC(),
		"ts": time.UnixMilli(-2).UTC(), "tz": "2024-01-02T03:04:05.500000Z", "d": time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC),
		"tsa": []any{time.UnixMilli(1704164645123).UTC(), nil},
	}
	for k, w := range want {
		if got := recs[0].Env.After[k]; !sameFloatOrDeep(got, w) {
			t.Errorf("after.%s = %#v, want %#v", k, got, w)
		}
	}
	if got, w := recs[1].Env.After["ts3"], time.UnixMilli(9223372036825200).UTC(); !sameFloatOrDeep(got, w) {
		t.Errorf("infinity: after.ts3 = %#v, want %#v", got, w)
	}
	checkLogicalTypes(t, recs[0].ValueSchema, map[string][2]string{
		"t3": {"org.apache.kafka.connect.data.Time", "time-millis"}, "t": {"org.apache.kafka.connect.data.Time", "time-millis"},
		"ts3": {"org.apache.kafka.connect.data.Timestamp", "timestamp-millis"},
		"d":   {"org.apache.kafka.connect.data.Date", "date"}, "tz": {"io.debezium.time.ZonedTimestamp", ""},
	})
}

// checkLogicalTypes checks the connect.name and logicalType of fields of
// the value's after record.
func checkLogicalTypes(t *testing.T, s avro.Schema, want map[string][2]string) {
	t.Helper()
	for _, f := range afterRecord(s).Fields() {
		w, ok := want[f.Name()]
		if !ok {
			continue
		}
		p, ok := f.Type().(*avro.UnionSchema).Types()[1].(*avro.PrimitiveSchema)
		if !ok {
			t.Errorf("after.%s is %s, not a primitive", f.Name(), f.Type())
			continue
		}
		var logical string
		if l := p.Logical(); l != nil {
			logical = string(l.Type())
		}
		if p.Prop("connect.name") != w[0] || logical != w[1] {
			t.Errorf("after.%s: connect.name %v, logicalType %q; want %s, %q", f.Name(), p.Prop("connect.name"), logical, w[0], w[1])
		}
	}
}
