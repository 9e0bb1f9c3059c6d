package decoder

import (
	"fmt"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// TestTimestampRangeEnds pins the ends of PostgreSQL's timestamp range
// (4714-11-24 BC to 294276-12-31 23:59:59.999999): timestamptz formats all
// of it exactly, as java.time does; timestamp past the end of int64
// microseconds (294247-01-10 04:00:54.775807) is an event.FarTimestamp of its
// exact milliseconds (which encoders clamp to math.MaxInt64 µs) instead of
// wrapping to year -290278. The audit's values (D3, auditp 9) are here:
// 294276-12-31 23:59:59.999 is 9224318015999999 ms, as Debezium's connect
// mode writes it.
func TestTimestampRangeEnds(t *testing.T) {
	t.Parallel()
	ts, tstz := conv(pgtype.TimestampOID, -1), conv(pgtype.TimestamptzOID, -1)
	maxTS := event.MicroTimestamp(math.MaxInt64)
	runConvCases(t, []convCase{
		{"timestamp last µs of int64", ts, "294247-01-10 04:00:54.775807", maxTS, false},
		{"timestamp one before", ts, "294247-01-10 04:00:54.775806", maxTS - 1, false},
		{"timestamp first µs past int64 is ms", ts, "294247-01-10 04:00:54.775808", event.FarTimestamp(9223372036854775), false},
		{"timestamp next day is ms", ts, "294247-01-11 00:00:00", event.FarTimestamp(9223372108800000), false},
		{"timestamp PostgreSQL maximum is ms", ts, "294276-12-31 23:59:59.999999", event.FarTimestamp(9224318015999999), false},
		{"timestamp(3) PostgreSQL maximum is ms", conv(pgtype.TimestampOID, 3), "294276-12-31 23:59:59.999", event.FarTimestamp(9224318015999999), false},
		{"timestamp(0) PostgreSQL maximum is ms", conv(pgtype.TimestampOID, 0), "294276-12-31 23:59:59", event.FarTimestamp(9224318015999000), false},
		{"timestamp day before the clamp", ts, "294247-01-09 23:59:59.999999", event.MicroTimestamp(9223372022399999999), false},
		{"timestamp PostgreSQL minimum", ts, "4714-11-24 00:00:00 BC", event.MicroTimestamp(-210866803200000000), false},
		{"timestamptz PostgreSQL maximum", tstz, "294276-12-31 23:59:59.999999+00", "+294276-12-31T23:59:59.999999Z", false},
		{"timestamptz(0) PostgreSQL maximum", conv(pgtype.TimestamptzOID, 0), "294276-12-31 23:59:59+00", "+294276-12-31T23:59:59Z", false},
		{"timestamptz(3) PostgreSQL maximum", conv(pgtype.TimestamptzOID, 3), "294276-12-31 23:59:59.999+00", "+294276-12-31T23:59:59.999Z", false},
		{"timestamptz past int64 µs", tstz, "294247-01-10 04:00:54.775808+00", "+294247-01-10T04:00:54.775808Z", false},
		{"timestamptz offset crosses the year", tstz, "294276-12-31 23:59:59.999999-05", "+294277-01-01T04:59:59.999999Z", false},
		{"timestamptz offset back a day", tstz, "294276-01-01 01:00:00+05:30", "+294275-12-31T19:30:00.000000Z", false},
		{"timestamptz PostgreSQL minimum", tstz, "4714-11-24 00:00:00+00 BC", "-4713-11-24T00:00:00.000000Z", false},
		{"timestamptz 24:00 boundary", tstz, "294276-12-30 24:00:00+00", "+294276-12-31T00:00:00.000000Z", false},
		{"timestamptz array at the maximum",
			arrayConverter(conv(pgtype.TimestamptzOID, -1), ','), `{"294276-12-31 23:59:59+00"}`,
			[]any{"+294276-12-31T23:59:59.000000Z"}, false},
	})
}

// TestEpochMicros checks the clamped product against exact arithmetic at
// and around the days where int64 microseconds end, both ways.
func TestEpochMicros(t *testing.T) {
	t.Parallel()
	lo, hi := big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
	for _, base := range []int64{0, maxEpochDays, -maxEpochDays, math.MinInt64 / usPerDay} {
		for dd := int64(-2); dd <= 2; dd++ {
			for _, us := range []int64{0, 1, 14454775806, 14454775807, 14454775808, 71945224191, 71945224192, usPerDay - 1, usPerDay} {
				days := base + dd
				want := new(big.Int).Mul(big.NewInt(days), big.NewInt(usPerDay))
				want.Add(want, big.NewInt(us))
				switch {
				case want.Cmp(hi) > 0:
					want = hi
				case want.Cmp(lo) < 0:
					want = lo
				}
				if got := epochMicros(days, us); got != want.Int64() {
					t.Errorf("epochMicros(%d, %d) = %d, want %s", days, us, got, want)
				}
			}
		}
	}
}

// FuzzTimestamp checks, for every input parseTimestamp accepts, that
// timestamp is the clamped exact count of microseconds and that timestamptz
// names the same instant as Go's time package at every precision.
func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{
		"2024-01-02 03:04:05.123456+00", "294276-12-31 23:59:59.999999+00", "294247-01-10 04:00:54.775808-15:59:59",
		"4714-11-24 00:00:00+00 BC", "0001-01-01 00:00:00+14 BC", "9999999-12-31 24:00:00-12", "1969-12-31 23:59:59.5+00:00:01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		days, us, rest, err := parseTimestamp([]byte(s))
		if err != nil {
			return
		}
		off, tail, err := parseOffset(rest)
		if err != nil || len(tail) != 0 {
			return
		}
		checkMicros(t, s, days, us)
		utc := us - off*usPerSecond
		secs := days*86400 + floorDiv(utc, usPerSecond)
		want := time.Unix(secs, floorMod(utc, usPerSecond)*1000).UTC()
		for digits := 0; digits <= 6; digits++ {
			if got, w := formatInstant(days, utc, digits), javaInstant(want, digits); got != w {
				t.Fatalf("%q at %d digits: %q, want %q", s, digits, got, w)
			}
		}
	})
}

func checkMicros(t *testing.T, s string, days, us int64) {
	t.Helper()
	exact := new(big.Int).Mul(big.NewInt(days), big.NewInt(usPerDay))
	exact.Add(exact, big.NewInt(us))
	want := int64(math.MaxInt64)
	switch {
	case exact.IsInt64():
		want = exact.Int64()
	case exact.Sign() < 0:
		want = math.MinInt64
	}
	if got := epochMicros(days, us); got != want {
		t.Fatalf("%q: %d µs, want %d", s, got, want)
	}
}

// javaInstant formats t as ISO_OFFSET_DATE_TIME at UTC with digits
// fraction digits (the fraction truncated, as the value has no more).
func javaInstant(t time.Time, digits int) string {
	y := t.Year()
	sign := ""
	switch {
	case y > 9999:
		sign = "+"
	case y < 0:
		sign, y = "-", -y
	}
	s := fmt.Sprintf("%s%04d-%02d-%02dT%02d:%02d:%02d", sign, y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second())
	if digits > 0 {
		s += fmt.Sprintf(".%06d", t.Nanosecond()/1000)[:digits+1]
	}
	return s + "Z"
}
