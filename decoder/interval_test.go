package decoder

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// TestConvertInterval covers the forms PostgreSQL prints with
// IntervalStyle=postgres (checked against PostgreSQL 15): years, mons and
// days with their own signs, '+' before a positive part that follows a
// negative one, the clock part with a fraction, a '-' on the clock part that
// negates hours, minutes and seconds together, hours past 24, and the range
// ends. The MicroDuration each gives is in schema's tests.
func TestConvertInterval(t *testing.T) {
	t.Parallel()
	iv := conv(pgtype.IntervalOID, -1)
	const (
		s = int64(1_000_000)
		h = 3600 * s
	)
	type I = event.Interval
	runConvCases(t, []convCase{
		{"zero", iv, "00:00:00", I{}, false},
		{"full", iv, "1 year 2 mons 3 days 04:05:06.789", I{Months: 14, Days: 3, Micros: 4*h + 5*60*s + 6789000}, false},
		{"one mon", iv, "1 mon", I{Months: 1}, false},
		{"years", iv, "2 years", I{Months: 24}, false},
		{"eleven mons", iv, "11 mons", I{Months: 11}, false},
		{"negative parts", iv, "-1 years -2 mons +3 days -04:05:06.78", I{Months: -14, Days: 3, Micros: -(4*h + 5*60*s + 6780000)}, false},
		{"mixed signs", iv, "-1 days +02:00:00", I{Days: -1, Micros: 2 * h}, false},
		{"plus day after minus mon", iv, "-1 mons +1 day -00:00:01", I{Months: -1, Days: 1, Micros: -s}, false},
		{"negative clock", iv, "-00:00:01.5", I{Micros: -1500000}, false},
		{"half second", iv, "00:00:00.5", I{Micros: 500000}, false},
		{"microsecond", iv, "00:00:00.000001", I{Micros: 1}, false},
		{"plus clock", iv, "1 day +00:00:01", I{Days: 1, Micros: s}, false},
		{"hours past 24", iv, "30:00:00", I{Micros: 30 * h}, false},
		{"big hours", iv, "1000:00:00", I{Micros: 1000 * h}, false},
		{"max time", iv, "2562047788:00:54.775807", I{Micros: math.MaxInt64}, false},
		{"min time", iv, "-2562047788:00:54.775808", I{Micros: math.MinInt64}, false},
		{"min fields", iv, "-178956970 years -8 mons -2147483648 days", I{Months: math.MinInt32, Days: math.MinInt32}, false},
		{"max fields", iv, "178956970 years 7 mons 2147483647 days", I{Months: math.MaxInt32, Days: math.MaxInt32}, false},
		{"178000000 years", iv, "178000000 years", I{Months: 2_136_000_000}, false},
		{"time past int64", iv, "2562047788:00:54.775808", nil, true},
		{"time below int64", iv, "-2562047788:00:54.775809", nil, true},
		{"hours past int64", iv, "9999999999:00:00", nil, true},
		{"months past int32", iv, "178956971 years", nil, true},
		{"days past int32", iv, "2147483648 days", nil, true},
		{"unknown unit", iv, "1 week", nil, true},
		{"verbose style", iv, "@ 1 year", nil, true},
		{"empty", iv, "", nil, true},
		{"dangling number", iv, "3", nil, true},
		{"iso style rejected", iv, "P1Y", nil, true},
		{"sql standard rejected", iv, "1-2", nil, true},
		{"minutes 60", iv, "00:60:00", nil, true},
		{"seven fraction digits", iv, "00:00:00.1234567", nil, true},
		{"clock junk", iv, "00:00:00x", nil, true},
	})
}

// TestConvertIntervalArray: interval[] elements are quoted when they hold
// spaces; each becomes an event.Interval.
func TestConvertIntervalArray(t *testing.T) {
	t.Parallel()
	ivs := arrayConverter(conv(pgtype.IntervalOID, -1), arrayDelimiter(pgtype.IntervalOID))
	runConvCases(t, []convCase{
		{"interval[]", ivs, `{"1 year 2 mons 3 days 04:05:06.78",NULL,00:00:00.5,"-1 years -2 mons +3 days -04:05:06.78"}`,
			[]any{event.Interval{Months: 14, Days: 3, Micros: 14706780000}, nil, event.Interval{Micros: 500000},
				event.Interval{Months: -14, Days: 3, Micros: -14706780000}}, false},
		{"bad element", ivs, `{"1 fortnight"}`, nil, true},
	})
}

// pgIntervalText prints iv as PostgreSQL 15's EncodeInterval does for
// IntervalStyle=postgres: nonzero year/mon/day parts (plural unless 1, '+'
// before a positive part that follows a negative one), then the clock part
// when it is nonzero or nothing else was printed.
func pgIntervalText(iv event.Interval) string {
	var b []byte
	zero, before := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !zero {
			b = append(b, ' ')
		}
		if before && v > 0 {
			b = append(b, '+')
		}
		b = append(strconv.AppendInt(b, v, 10), ' ')
		b = append(b, unit...)
		if v != 1 {
			b = append(b, 's')
		}
		before, zero = v < 0, false
	}
	part(int64(iv.Months/12), "year")
	part(int64(iv.Months%12), "mon")
	part(int64(iv.Days), "day")
	if !zero && iv.Micros == 0 {
		return string(b)
	}
	if !zero {
		b = append(b, ' ')
	}
	us := uint64(iv.Micros)
	if iv.Micros < 0 {
		b, us = append(b, '-'), -us
	} else if before {
		b = append(b, '+')
	}
	b = appendPadded(b, int64(us/usPerHour), 2)
	b = append(b, ':')
	b = appendPadded(b, int64(us/usPerMinute%60), 2)
	b = append(b, ':')
	b = appendPadded(b, int64(us/usPerSecond%60), 2)
	if frac := int64(us % usPerSecond); frac != 0 {
		digits := 6
		for ; frac%10 == 0; frac /= 10 {
			digits--
		}
		b = appendPadded(append(b, '.'), frac, digits)
	}
	return string(b)
}

// randomInterval draws fields from small, large and extreme values.
func randomInterval(r *rand.Rand) event.Interval {
	pick32 := func() int32 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return int32(r.IntN(25) - 12)
		case 2:
			return int32(r.Int64N(1<<20) - 1<<19)
		}
		return int32(r.Uint32())
	}
	var us int64
	switch r.IntN(4) {
	case 1:
		us = r.Int64N(2*usPerDay) - usPerDay
	case 2:
		us = r.Int64N(1<<52) - 1<<51
	case 3:
		us = int64(r.Uint64())
	}
	return event.Interval{Months: pick32(), Days: pick32(), Micros: us}
}

// TestIntervalTextRoundTrip parses pgIntervalText's output for random
// intervals (TestPGIntervalText checks that text against PostgreSQL).
func TestIntervalTextRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		want := randomInterval(r)
		text := pgIntervalText(want)
		got, err := parseInterval([]byte(text))
		if err != nil || got != want {
			t.Fatalf("parseInterval(%q) = %+v, %v; want %+v", text, got, err, want)
		}
	}
}

// TestPGIntervalText has PostgreSQL print random intervals and checks that
// its text is pgIntervalText's and parses back to the same fields.
func TestPGIntervalText(t *testing.T) {
	dsn := pgDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["IntervalStyle"] = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		want := randomInterval(r)
		if want.Micros > 1<<52 || want.Micros < -1<<52 {
			want.Micros >>= 12 // exact through interval * float8
		}
		var text string
		err := conn.QueryRow(ctx, `SELECT (make_interval(months => $1, days => $2) + $3::int8 * interval '1 microsecond')::text`,
			want.Months, want.Days, want.Micros).Scan(&text)
		if err != nil {
			t.Fatalf("%+v: %v", want, err)
		}
		if p := pgIntervalText(want); p != text {
			t.Errorf("%+v: PostgreSQL prints %q, pgIntervalText %q", want, text, p)
		}
		if got, err := parseInterval([]byte(text)); err != nil || got != want {
			t.Errorf("parseInterval(%q) = %+v, %v; want %+v", text, got, err, want)
		}
	}
}

// FuzzInterval: parseInterval never panics, accepts what PostgreSQL would
// print for any fields (pgIntervalText) and gives those fields back, and
// whatever it accepts prints and parses back to the same value.
func FuzzInterval(f *testing.F) {
	for _, s := range []string{"00:00:00", "1 year 2 mons 3 days 04:05:06.78", "-1 years -2 mons +3 days -04:05:06.78",
		"-00:00:01.5", "30:00:00", "2562047788:00:54.775807", "-178956970 years -8 mons -2147483648 days", "1 week"} {
		f.Add(s, int32(0), int32(0), int64(0))
	}
	f.Add("", int32(math.MinInt32), int32(-1), int64(math.MinInt64))
	f.Add("", int32(14), int32(-3), int64(14706780000))
	f.Fuzz(func(t *testing.T, s string, months, days int32, us int64) {
		if got, err := parseInterval([]byte(s)); err == nil {
			text := pgIntervalText(got)
			if again, err := parseInterval([]byte(text)); err != nil || again != got {
				t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, got, text, again, err)
			}
		}
		want := event.Interval{Months: months, Days: days, Micros: us}
		text := pgIntervalText(want)
		if got, err := parseInterval([]byte(text)); err != nil || got != want {
			t.Fatalf("parseInterval(%q) = %+v, %v; want %+v", text, got, err, want)
		}
	})
}
