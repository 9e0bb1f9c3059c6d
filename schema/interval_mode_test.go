package schema

import (
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

const (
	usSec   = int64(1_000_000)
	usDay   = 86400 * usSec
	usMonth = 2_629_800 * usSec // 30.4375 days
)

// TestIntervalMicroDuration: numeric mode's number is Debezium's
// MicroDuration, a month 30.4375 days, saturating at the int64 range (these
// were the decoder's expectations when it produced MicroDuration).
func TestIntervalMicroDuration(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		iv   event.Interval
		want int64
	}{
		{"zero", event.Interval{}, 0},
		{"full", event.Interval{Months: 14, Days: 3, Micros: 4*3600*usSec + 5*60*usSec + 6789000},
			14*usMonth + 3*usDay + 4*3600*usSec + 5*60*usSec + 6789000},
		{"month is 30.4375 days", event.Interval{Months: 1}, 30*usDay + 37800*usSec},
		{"years", event.Interval{Months: 24}, 24 * usMonth},
		{"mixed signs", event.Interval{Days: -1, Micros: 2 * 3600 * usSec}, -usDay + 2*3600*usSec},
		{"negative clock", event.Interval{Micros: -1500000}, -1500000},
		{"negative parts", event.Interval{Months: -14}, -14 * usMonth},
		{"big hours", event.Interval{Micros: 1000 * 3600 * usSec}, 1000 * 3600 * usSec},
		{"saturates", event.Interval{Months: 2_136_000_000}, math.MaxInt64},
		{"saturates low", event.Interval{Months: math.MinInt32, Days: math.MinInt32, Micros: math.MinInt64}, math.MinInt64},
		{"time at max", event.Interval{Micros: math.MaxInt64}, math.MaxInt64},
	} {
		if got := int64(c.iv.MicroDuration()); got != c.want {
			t.Errorf("%s: %+v.MicroDuration() = %d, want %d", c.name, c.iv, got, c.want)
		}
	}
}

// TestIntervalText: string mode's text is Debezium's Interval.toIsoString:
// all six components, each signed, years and months split from Months,
// hours unbounded, seconds without trailing zeros.
func TestIntervalText(t *testing.T) {
	t.Parallel()
	const h, m = 3600 * usSec, 60 * usSec
	for _, c := range []struct {
		iv   event.Interval
		want string
	}{
		{event.Interval{Months: 14, Days: 3, Micros: 4*h + 5*m + 6780000}, "P1Y2M3DT4H5M6.78S"},
		{event.Interval{Months: -14, Days: 3, Micros: -(4*h + 5*m + 6780000)}, "P-1Y-2M3DT-4H-5M-6.78S"},
		{event.Interval{}, "P0Y0M0DT0H0M0S"},
		{event.Interval{Micros: 500000}, "P0Y0M0DT0H0M0.5S"},
		{event.Interval{Micros: 30 * h}, "P0Y0M0DT30H0M0S"},
		{event.Interval{Micros: -1500000}, "P0Y0M0DT0H0M-1.5S"},
		{event.Interval{Micros: -h}, "P0Y0M0DT-1H0M0S"},
		{event.Interval{Micros: 1}, "P0Y0M0DT0H0M0.000001S"},
		{event.Interval{Micros: 10*usSec + 50}, "P0Y0M0DT0H0M10.00005S"},
		{event.Interval{Months: 11}, "P0Y11M0DT0H0M0S"},
		{event.Interval{Months: -11, Days: -1, Micros: usSec}, "P0Y-11M-1DT0H0M1S"},
		{event.Interval{Months: math.MinInt32, Days: math.MinInt32, Micros: math.MinInt64},
			"P-178956970Y-8M-2147483648DT-2562047788H0M-54.775808S"},
		{event.Interval{Months: math.MaxInt32, Days: math.MaxInt32, Micros: math.MaxInt64},
			"P178956970Y7M2147483647DT2562047788H0M54.775807S"},
	} {
		if got := intervalText(c.iv); got != c.want {
			t.Errorf("intervalText(%+v) = %s, want %s", c.iv, got, c.want)
		}
	}
}

var isoInterval = regexp.MustCompile(`^P(-?\d+)Y(-?\d+)M(-?\d+)DT(-?\d+)H(-?\d+)M(-?)(\d+)(?:\.(\d{1,6}))?S$`)

// TestIntervalTextExact: for random intervals the text has the documented
// shape, every component shares the sign of its field, and the components
// add up to the fields exactly.
func TestIntervalTextExact(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		iv := event.Interval{Months: int32(r.Uint32()), Days: int32(r.Uint32()), Micros: int64(r.Uint64()) >> r.IntN(64)}
		text := intervalText(iv)
		p := isoInterval.FindStringSubmatch(text)
		if p == nil || strings.HasSuffix(p[8], "0") {
			t.Fatalf("%+v: %s does not have the shape", iv, text)
		}
		n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
		y, mo, d, hh, mm := n(p[1]), n(p[2]), n(p[3]), n(p[4]), n(p[5])
		frac := n((p[8] + "000000")[:6])
		sec := n(p[7])*usSec + frac
		if p[6] == "-" {
			sec = -sec
		}
		if y*12+mo != int64(iv.Months) || d != int64(iv.Days) || hh*3600*usSec+mm*60*usSec+sec != iv.Micros ||
			!sameSign(y, int64(iv.Months)) || !sameSign(mo, int64(iv.Months)) ||
			!sameSign(hh, iv.Micros) || !sameSign(mm, iv.Micros) || !sameSign(sec, iv.Micros) {
			t.Fatalf("%+v: %s does not add up", iv, text)
		}
	}
}

func sameSign(part, whole int64) bool { return part == 0 || (part < 0) == (whole < 0) }

func intervalModeCases(mode IntervalMode) []modeCase {
	iv := avroCol("c_iv", pgtype.IntervalOID, "interval", -1)
	arr := arrCol("c_ivs", pgtype.IntervalArrayOID, pgtype.IntervalOID, "_interval", -1)
	full := event.Interval{Months: 14, Days: 3, Micros: 14706780000}
	neg := event.Interval{Months: -14, Days: 3, Micros: -14706780000}
	half := event.Interval{Micros: 500000}
	if mode == IntervalNumeric {
		fullUS, negUS := full.MicroDuration(), neg.MicroDuration()
		return []modeCase{
			{iv, full, strconv.FormatInt(int64(fullUS), 10), int64(fullUS)},
			{avroCol("c_neg", pgtype.IntervalOID, "interval", -1), neg, strconv.FormatInt(int64(negUS), 10), int64(negUS)},
			{avroCol("c_null", pgtype.IntervalOID, "interval", -1), nil, `null`, nil},
			{arr, []any{half, nil}, `[500000,null]`, []any{int64(500000), nil}},
		}
	}
	return []modeCase{
		{iv, full, `"P1Y2M3DT4H5M6.78S"`, "P1Y2M3DT4H5M6.78S"},
		{avroCol("c_neg", pgtype.IntervalOID, "interval", -1), neg, `"P-1Y-2M3DT-4H-5M-6.78S"`, "P-1Y-2M3DT-4H-5M-6.78S"},
		{avroCol("c_zero", pgtype.IntervalOID, "interval", -1), event.Interval{}, `"P0Y0M0DT0H0M0S"`, "P0Y0M0DT0H0M0S"},
		{avroCol("c_null", pgtype.IntervalOID, "interval", -1), nil, `null`, nil},
		{arr, []any{half, nil}, `["P0Y0M0DT0H0M0.5S",null]`, []any{"P0Y0M0DT0H0M0.5S", nil}},
		// An unchanged TOAST interval[] not sent: [placeholder].
		{arrCol("c_toast", pgtype.IntervalArrayOID, pgtype.IntervalOID, "_interval", -1), event.Unavailable{},
			`["` + DefaultToastPlaceholder + `"]`, []any{DefaultToastPlaceholder}},
	}
}

// TestIntervalModeJSON: numeric mode prints MicroDuration numbers (as
// before interval_handling_mode existed), string mode Interval strings.
func TestIntervalModeJSON(t *testing.T) {
	t.Parallel()
	for _, m := range []IntervalMode{IntervalNumeric, IntervalString} {
		o := testOptions()
		o.IntervalMode = m
		checkModesJSON(t, m.String(), o, intervalModeCases(m))
	}
	// The zero Options are numeric mode.
	checkModesJSON(t, "default", testOptions(), intervalModeCases(IntervalNumeric))
}

// TestIntervalModeAvro: numeric mode registers long
// io.debezium.time.MicroDuration fields, string mode string
// io.debezium.time.Interval fields (connect.version 1 both, as Debezium's
// schema builders), and the values decode as in the JSON test.
func TestIntervalModeAvro(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mode IntervalMode
		typ  avro.Type
		name string
	}{{IntervalNumeric, avro.Long, nameMicroDur}, {IntervalString, avro.String, nameInterval}} {
		o := testOptions()
		o.IntervalMode = c.mode
		ta := newTestAvroWith(t, registry.Backward, o)
		cases := intervalModeCases(c.mode)
		rel, row := modesRel(cases)
		recs := mustEncode(t, ta.enc, change(event.OpCreate, rel, nil, row))
		after := ta.decodeValue(t, recs[0].Value)["after"].(map[string]any)
		fields := valueFields(t, ta, recs[0].Value)
		for _, mc := range cases {
			name := mc.col.Name
			if got := after[name]; !sameModeValue(got, mc.avro) {
				t.Errorf("%s: %s decoded %#v, want %#v", c.mode, name, got, mc.avro)
			}
			typ := fields[name].Type().(*avro.UnionSchema).Types()[1]
			if a, ok := typ.(*avro.ArraySchema); ok {
				typ = a.Items().(*avro.UnionSchema).Types()[1]
			}
			p, ok := typ.(*avro.PrimitiveSchema)
			if !ok || p.Type() != c.typ || p.Prop("connect.name") != c.name || p.Prop("connect.version") != float64(1) {
				t.Errorf("%s: %s has type %s, want %s named %s, version 1", c.mode, name, typ, c.typ, c.name)
			}
		}
	}
}

// TestIntervalModeNames: the config names round-trip, unknown names fail.
func TestIntervalModeNames(t *testing.T) {
	t.Parallel()
	for _, n := range IntervalModeNames() {
		if m, err := ParseIntervalMode(n); err != nil || m.String() != n {
			t.Errorf("ParseIntervalMode(%q) = %v, %v", n, m, err)
		}
	}
	if _, err := ParseIntervalMode("iso"); err == nil {
		t.Error("ParseIntervalMode(iso) succeeded")
	}
}

// TestIntervalStringSchemaJSON: the registered schema's node is exactly
// AvroData's for Debezium's Interval.builder() (string, version 1, name).
func TestIntervalStringSchemaJSON(t *testing.T) {
	t.Parallel()
	o := Options{IntervalMode: IntervalString}
	got := jsonText(newSchemaBuilder().node(o.withModes(baseType(pgtype.IntervalOID, -1), nil)))
	if want := `{"type":"string","connect.version":1,"connect.name":"io.debezium.time.Interval"}`; got != want {
		t.Errorf("interval node = %s, want %s", got, want)
	}
}
