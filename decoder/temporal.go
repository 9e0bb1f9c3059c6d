package decoder

import (
	"bytes"
	"fmt"
	"math"

	"github.com/walrelay/walrelay/event"
)

// Date and time values arrive in DateStyle=ISO text: "2024-01-02",
// "03:04:05.123456", "2024-01-02 03:04:05.5+00", with " BC" appended to
// years before 1 AD. Offsets are honoured whatever the session TimeZone.

const (
	usPerSecond = 1_000_000
	usPerMinute = 60 * usPerSecond
	usPerHour   = 60 * usPerMinute
	usPerDay    = 24 * usPerHour
)

var (
	infinity    = []byte("infinity")
	negInfinity = []byte("-infinity")
	bcSuffix    = []byte(" BC")
)

// infinityString returns "infinity" or "-infinity" for those inputs.
func infinityString(src []byte) (string, bool) {
	switch {
	case bytes.Equal(src, infinity):
		return "infinity", true
	case bytes.Equal(src, negInfinity):
		return "-infinity", true
	}
	return "", false
}

// convDate yields event.Date, days since 1970-01-01.
func convDate(src []byte) (any, error) {
	if s, ok := infinityString(src); ok {
		return s, nil
	}
	body, bc := bytes.CutSuffix(src, bcSuffix)
	days, rest, err := parseDate(body, bc)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("invalid date %q", src)
	}
	return event.Date(days), nil
}

// convTime yields event.MicroTime, microseconds since midnight.
func convTime(src []byte) (any, error) {
	us, rest, err := parseClock(src)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("invalid time %q", src)
	}
	return event.MicroTime(us), nil
}

// convTimetz yields the time in UTC as an ISO-8601 string, e.g.
// "13:04:05.5Z" for "15:04:05.5+02", like Debezium's ZonedTime. The boundary
// 24:00:00 at UTC is "00:00:00Z", as Debezium writes it (java.time's
// OffsetTime has no hour 24 and would reject "24:00:00Z"); the same holds
// for the elements of timetz[].
func convTimetz(src []byte) (any, error) {
	us, rest, err := parseClock(src)
	if err != nil {
		return nil, fmt.Errorf("invalid timetz %q", src)
	}
	off, rest, err := parseOffset(rest)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("invalid timetz %q", src)
	}
	utc := floorMod(us-off*usPerSecond, usPerDay)
	var buf [24]byte
	b := appendClock(buf[:0], utc)
	return string(append(b, 'Z')), nil
}

// convTimestamp yields event.MicroTimestamp: microseconds since the epoch of
// the wall-clock reading; ±infinity yields "infinity" / "-infinity".
//
// PostgreSQL's timestamps run to 294276-12-31 23:59:59.999999, but int64
// microseconds end at 294247-01-10 04:00:54.775807: a later value is an
// event.FarTimestamp, its milliseconds (which fit), so that encoders writing
// milliseconds give the right date, and encoders writing microseconds clamp
// it to math.MaxInt64 instead of wrapping to a negative year (one before the
// int64 range, which PostgreSQL never sends, clamps to math.MinInt64). Debezium's
// MicroTimestamp gives the same for a whole second, its TimeUnit conversion
// saturating at Long.MAX_VALUE (io.debezium.time.Conversions.toEpochMicros),
// but wraps when the value has a fraction.
func convTimestamp(src []byte) (any, error) {
	if s, ok := infinityString(src); ok {
		return s, nil
	}
	days, us, rest, err := parseTimestamp(src)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("invalid timestamp %q", src)
	}
	return timestampValue(days, us), nil
}

// msPerDay is the milliseconds of a day.
const msPerDay = usPerDay / 1000

// timestampValue returns days*usPerDay + us (us in [0, usPerDay]) as an
// event.MicroTimestamp, or, past the int64 range of microseconds, as an
// event.FarTimestamp of its milliseconds rounded down (math.MaxInt64 when
// even those overflow, which PostgreSQL's range never does).
func timestampValue(days, us int64) any {
	if days < maxEpochDays || days <= (math.MaxInt64-us)/usPerDay {
		return event.MicroTimestamp(epochMicros(days, us))
	}
	if days > (math.MaxInt64-us/1000)/msPerDay {
		return event.FarTimestamp(math.MaxInt64)
	}
	return event.FarTimestamp(days*msPerDay + us/1000)
}

// maxEpochDays bounds the days whose every microsecond fits int64 both ways:
// epochMicros multiplies without a check strictly inside ±maxEpochDays.
const maxEpochDays = math.MaxInt64 / usPerDay

// epochMicros returns days*usPerDay + us (us in [0, usPerDay]) clamped to
// the int64 range. The check is one comparison for any day PostgreSQL can
// send short of the last 29 years of its range.
func epochMicros(days, us int64) int64 {
	if days > -maxEpochDays && days < maxEpochDays {
		return days*usPerDay + us
	}
	if days > 0 {
		if days > (math.MaxInt64-us)/usPerDay {
			return math.MaxInt64
		}
		return days*usPerDay + us
	}
	// days*usPerDay + us = (days+1)*usPerDay - (usPerDay-us), whose product
	// does not underflow when the value fits.
	p, r := days+1, usPerDay-us
	if p < math.MinInt64/usPerDay || p*usPerDay < math.MinInt64+r {
		return math.MinInt64
	}
	return p*usPerDay - r
}

// timestamptzConverter returns the converter of timestamptz(p): the instant
// in UTC as an ISO-8601 string with exactly p fraction digits (6 for an
// unqualified column), as Debezium's ZonedTimestamp formats a ZonedDateTime
// at the column's scale: "2024-01-02T03:04:05.500000Z". With p = 0 it is
// java.time's ISO_OFFSET_DATE_TIME, which prints no fraction for a whole
// second. ±infinity yields "infinity" / "-infinity".
func timestamptzConverter(typmod int32) convertFunc {
	digits := timePrecision(typmod)
	return func(src []byte) (any, error) {
		if s, ok := infinityString(src); ok {
			return s, nil
		}
		days, us, rest, err := parseTimestamp(src)
		if err != nil {
			return nil, fmt.Errorf("invalid timestamptz %q", src)
		}
		off, rest, err := parseOffset(rest)
		if err != nil || len(rest) != 0 {
			return nil, fmt.Errorf("invalid timestamptz %q", src)
		}
		return formatInstant(days, us-off*usPerSecond, digits), nil
	}
}

// timePrecision is the fraction digits of a time or timestamp typmod: 6
// when unqualified (-1), as pgjdbc's TypeInfoCache.getScale reports it.
func timePrecision(typmod int32) int {
	if typmod < 0 || typmod > 6 {
		return 6
	}
	return int(typmod)
}

// parseTimestamp parses "date time", with " BC" at the very end (after a
// timestamptz offset) for years before 1 AD. It returns days since the epoch,
// microseconds since that day's midnight (at most usPerDay, for 24:00:00)
// and what follows the time (a timestamptz offset). Days and time stay
// apart: PostgreSQL's last timestamps do not fit int64 microseconds.
func parseTimestamp(src []byte) (days, us int64, rest []byte, err error) {
	body, bc := bytes.CutSuffix(src, bcSuffix)
	days, rest, err = parseDate(body, bc)
	if err != nil || len(rest) == 0 || rest[0] != ' ' {
		return 0, 0, nil, errSyntax
	}
	us, rest, err = parseClock(rest[1:])
	if err != nil {
		return 0, 0, nil, err
	}
	return days, us, rest, nil
}

// formatInstant formats the instant us microseconds after the midnight that
// starts day days (since the epoch; us may be negative or past a day, as a
// UTC offset leaves it) as UTC ISO-8601 with digits fraction digits (0:
// none). The whole range of PostgreSQL's timestamptz formats exactly, e.g.
// "+294276-12-31T23:59:59.999999Z" as java.time prints year 294276.
func formatInstant(days, us int64, digits int) string {
	if us < 0 || us >= usPerDay {
		d := floorDiv(us, usPerDay)
		days, us = days+d, us-d*usPerDay
	}
	y, m, d := civilFromDays(days)
	var buf [48]byte
	b := appendISODate(buf[:0], y, m, d)
	b = append(b, 'T')
	b = appendClockDigits(b, us, digits)
	return string(append(b, 'Z'))
}
