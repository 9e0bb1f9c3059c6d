package decoder

import (
	"bytes"
	"fmt"
	"math"

	"github.com/walrelay/walrelay/event"
)

// convInterval parses an interval in IntervalStyle=postgres, e.g.
// "1 year 2 mons -3 days +04:05:06.789" or "-00:00:01.5", into
// event.Interval, keeping PostgreSQL's three fields: months (a year is 12),
// days and the time part in µs. Encoders turn it into Debezium's
// MicroDuration or Interval string (interval_handling_mode).
func convInterval(src []byte) (any, error) {
	iv, err := parseInterval(src)
	if err != nil {
		return nil, err
	}
	return iv, nil
}

// parseInterval parses "N unit" pairs (year(s), mon(s), day(s), each number
// with an optional sign) and "[+-]H:MM:SS[.ffffff]" parts separated by
// spaces, as PostgreSQL prints them. A field outside PostgreSQL's range
// (months and days int32, the time part int64 µs) is an error.
func parseInterval(src []byte) (event.Interval, error) {
	var months, days, micros int64
	rest := bytes.TrimSpace(src)
	if len(rest) == 0 {
		return event.Interval{}, fmt.Errorf("invalid interval %q", src)
	}
	for len(rest) > 0 {
		var tok []byte
		tok, rest = nextField(rest)
		if bytes.IndexByte(tok, ':') >= 0 {
			us, err := parseIntervalClock(tok)
			if err != nil || !addInt64(&micros, us) {
				return event.Interval{}, fmt.Errorf("invalid interval %q", src)
			}
			continue
		}
		n, err := parseInt(tok, 32)
		if err != nil || len(rest) == 0 {
			return event.Interval{}, fmt.Errorf("invalid interval %q", src)
		}
		var unit []byte
		unit, rest = nextField(rest)
		switch string(unit) {
		case "year", "years":
			months += n * 12
		case "mon", "mons":
			months += n
		case "day", "days":
			days += n
		default:
			return event.Interval{}, fmt.Errorf("invalid interval %q: unknown unit %q", src, unit)
		}
		// Each step adds at most 12·2^31, so checking here keeps the int64
		// sums exact.
		if !fitsInt32(months) || !fitsInt32(days) {
			return event.Interval{}, fmt.Errorf("interval %q out of range", src)
		}
	}
	return event.Interval{Months: int32(months), Days: int32(days), Micros: micros}, nil
}

// nextField splits s at its first space; the rest has leading spaces trimmed.
func nextField(s []byte) (field, rest []byte) {
	i := bytes.IndexByte(s, ' ')
	if i < 0 {
		return s, nil
	}
	return s[:i], bytes.TrimLeft(s[i+1:], " ")
}

// maxIntervalHours is the most hours an int64 of µs holds.
const maxIntervalHours = math.MaxInt64 / usPerHour

// parseIntervalClock parses "[+-]H+:MM:SS[.ffffff]" (hours unbounded up to
// the int64 µs range) into signed microseconds, exactly: PostgreSQL's
// extremes "2562047788:00:54.775807" and "-2562047788:00:54.775808" are
// math.MaxInt64 and math.MinInt64.
func parseIntervalClock(tok []byte) (int64, error) {
	neg := false
	if len(tok) > 0 && (tok[0] == '-' || tok[0] == '+') {
		neg, tok = tok[0] == '-', tok[1:]
	}
	h, rest := leadingNumber(tok, 12)
	if len(rest) == len(tok) || len(rest) < 6 || rest[0] != ':' || rest[3] != ':' || h > maxIntervalHours {
		return 0, errSyntax
	}
	m, ok1 := twoDigits(rest[1:])
	s, ok2 := twoDigits(rest[4:])
	if !ok1 || !ok2 || m > 59 || s > 59 {
		return 0, errSyntax
	}
	frac, rest, err := parseFraction(rest[6:])
	if err != nil || len(rest) != 0 {
		return 0, errSyntax
	}
	// Below 2^63 + 2^32, so uint64 holds it.
	us := uint64(h)*usPerHour + uint64(m*usPerMinute+s*usPerSecond+frac)
	switch {
	case neg && us <= 1<<63:
		return int64(-us), nil // -(2^63) is math.MinInt64
	case !neg && us <= math.MaxInt64:
		return int64(us), nil
	}
	return 0, errSyntax
}

// addInt64 adds v to *sum and reports false, leaving *sum alone, when the
// result would overflow.
func addInt64(sum *int64, v int64) bool {
	s := *sum + v
	if (v > 0 && s < *sum) || (v < 0 && s > *sum) {
		return false
	}
	*sum = s
	return true
}

func fitsInt32(v int64) bool { return v >= math.MinInt32 && v <= math.MaxInt32 }
