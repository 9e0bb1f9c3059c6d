package schema

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// timeCase is a temporal column under one time.precision.mode: the value
// as decoded, its JSON text, what hamba decodes from the Avro, and the
// field's Avro type, connect.name and logicalType.
type timeCase struct {
	col      event.Column
	val      any
	json     string
	avro     any
	typ      avro.Type
	connName string
	logical  string
}

const (
	ts2024us = int64(1704164645123000) // 2024-01-02 03:04:05.123
	clockUs  = int64(36001123000)      // 10:00:01.123
)

func timeModeCases(m TimePrecisionMode) []timeCase {
	time3 := avroCol("c_time3", pgtype.TimeOID, "time", 3)
	time6 := avroCol("c_time", pgtype.TimeOID, "time", -1)
	ts0 := avroCol("c_ts0", pgtype.TimestampOID, "timestamp", 0)
	ts3 := avroCol("c_ts3", pgtype.TimestampOID, "timestamp", 3)
	ts6 := avroCol("c_ts", pgtype.TimestampOID, "timestamp", -1)
	inf3 := avroCol("c_inf3", pgtype.TimestampOID, "timestamp", 3)
	arr3 := arrCol("c_arr3", pgtype.TimestampArrayOID, pgtype.TimestampOID, "_timestamp", 3)
	date := avroCol("c_date", pgtype.DateOID, "date", -1)
	preEpoch := event.MicroTimestamp(-1500) // 1969-12-31 23:59:59.9985
	// PostgreSQL's last timestamp, 294276-12-31 23:59:59.999(999), past the
	// int64-µs range: its exact ms where ms are written (Debezium's value),
	// else the µs clamp.
	far := event.FarTimestamp(9224318015999999)
	far3 := avroCol("c_far3", pgtype.TimestampOID, "timestamp", 3)
	far6 := avroCol("c_far", pgtype.TimestampOID, "timestamp", -1)
	switch m {
	case TimeConnect:
		return []timeCase{
			{time3, event.MicroTime(clockUs), `36001123`, time.Duration(clockUs) * time.Microsecond, avro.Int, nameConnectTime, "time-millis"},
			{time6, event.MicroTime(clockUs + 456), `36001123`, time.Duration(clockUs) * time.Microsecond, avro.Int, nameConnectTime, "time-millis"},
			{ts3, event.MicroTimestamp(ts2024us), `1704164645123`, time.UnixMilli(1704164645123).UTC(), avro.Long, nameConnectTimestamp, "timestamp-millis"},
			// Truncated to ms, rounding down before 1970 like toEpochMilli.
			{ts6, preEpoch, `-2`, time.UnixMilli(-2).UTC(), avro.Long, nameConnectTimestamp, "timestamp-millis"},
			{far6, far, `9224318015999999`, time.UnixMilli(int64(far)).UTC(), avro.Long, nameConnectTimestamp, "timestamp-millis"},
			{date, event.Date(19724), `19724`, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), avro.Int, nameConnectDate, "date"},
		}
	case TimeAdaptiveMicroseconds:
		return []timeCase{
			{time3, event.MicroTime(clockUs), `36001123000`, clockUs, avro.Long, nameMicroTime, ""},
			{ts3, event.MicroTimestamp(ts2024us), `1704164645123`, int64(1704164645123), avro.Long, nameTimestamp, ""},
		}
	}
	return []timeCase{
		{time3, event.MicroTime(clockUs), `36001123`, 36001123, avro.Int, nameTime, ""},
		{time6, event.MicroTime(clockUs + 456), `36001123456`, clockUs + 456, avro.Long, nameMicroTime, ""},
		{ts0, event.MicroTimestamp(1704164645000000), `1704164645000`, int64(1704164645000), avro.Long, nameTimestamp, ""},
		{ts3, event.MicroTimestamp(ts2024us), `1704164645123`, int64(1704164645123), avro.Long, nameTimestamp, ""},
		{ts6, preEpoch, `-1500`, int64(-1500), avro.Long, nameMicroTS, ""},
		// Debezium's constant in ms, in both formats.
		{inf3, "infinity", `9223372036825200`, TimestampPositiveInfinity / 1000, avro.Long, nameTimestamp, ""},
		{far3, far, `9224318015999999`, int64(far), avro.Long, nameTimestamp, ""},
		{far6, far, `9223372036854775807`, int64(math.MaxInt64), avro.Long, nameMicroTS, ""},
		{arr3, []any{event.MicroTimestamp(ts2024us), nil}, `[1704164645123,null]`, []any{int64(1704164645123), nil}, avro.Array, "", ""},
		{date, event.Date(19724), `19724`, 19724, avro.Int, nameDate, ""},
	}
}

func timeModeRel(cases []timeCase) (*event.Relation, []any) {
	mc := make([]modeCase, len(cases))
	for i, c := range cases {
		mc[i] = modeCase{col: c.col, val: c.val}
	}
	return modesRel(mc)
}

// TestTimePrecisionModes: in each time.precision.mode the JSON numbers, the
// Avro values and the Avro field types are Debezium's: adaptive writes
// time(0..3)/timestamp(0..3) in ms as io.debezium.time.Time/Timestamp,
// adaptive_time_microseconds keeps time in µs, connect uses Kafka Connect's
// Date/Time/Timestamp logical types in ms.
func TestTimePrecisionModes(t *testing.T) {
	t.Parallel()
	for _, m := range []TimePrecisionMode{TimeAdaptive, TimeAdaptiveMicroseconds, TimeConnect} {
		o := testOptions()
		o.TimePrecision = m
		cases := timeModeCases(m)
		rel, row := timeModeRel(cases)
		ch := change(event.OpCreate, rel, nil, row)

		var v struct{ After map[string]json.RawMessage }
		if err := json.Unmarshal(mustEncode(t, NewJSON(o), ch)[0].Value, &v); err != nil {
			t.Fatal(err)
		}
		ta := newTestAvroWith(t, registry.Backward, o)
		rec := mustEncode(t, ta.enc, ch)[0]
		after := ta.decodeValue(t, rec.Value)["after"].(map[string]any)
		fields := valueFields(t, ta, rec.Value)
		for _, c := range cases {
			name := c.col.Name
			if got := string(v.After[name]); got != c.json {
				t.Errorf("%s: JSON %s = %s, want %s", m, name, got, c.json)
			}
			if got := after[name]; !sameDecoded(got, c.avro) {
				t.Errorf("%s: Avro %s = %#v, want %#v", m, name, got, c.avro)
			}
			checkTimeField(t, m, c, fields[name])
		}
	}
}

func checkTimeField(t *testing.T, m TimePrecisionMode, c timeCase, f *avro.Field) {
	t.Helper()
	typ := f.Type().(*avro.UnionSchema).Types()[1]
	if typ.Type() != c.typ {
		t.Errorf("%s: %s has Avro type %s, want %s", m, c.col.Name, typ.Type(), c.typ)
		return
	}
	p, ok := typ.(*avro.PrimitiveSchema)
	if !ok {
		return
	}
	if got := p.Prop("connect.name"); got != c.connName {
		t.Errorf("%s: %s connect.name %v, want %s", m, c.col.Name, got, c.connName)
	}
	var logical string
	if l := p.Logical(); l != nil {
		logical = string(l.Type())
	}
	if logical != c.logical {
		t.Errorf("%s: %s logicalType %q, want %q", m, c.col.Name, logical, c.logical)
	}
}
