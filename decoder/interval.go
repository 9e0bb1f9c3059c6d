package decoder

import (
	"bytes"
	"fmt"
	"math"

	"github.com/walrelay/walrelay/event"
)

// usPerMonth is Debezium's MicroDuration month: 30.4375 days
// (MicroDuration.DAYS_PER_MONTH_AVG = 365.25 / 12), exactly 2,629,800 s. A
// year is 12 months.
const usPerMonth = 2_629_800 * usPerSecond

// convInterval parses IntervalStyle=postgres output, e.g.
// "1 year 2 mons -3 days +04:05:06.789" or "-00:00:01.5", into
// event.MicroDuration. The arithmetic is exact (Debezium computes in double
// and may differ by a microsecond on fractional seconds); a total beyond
// int64 saturates, as Java's (long) cast of Debezium's double does.
func convInterval(src []byte) (any, error) {
	var months, days, clock int64
	rest := bytes.TrimSpace(src)
	if len(rest) == 0 {
		return nil, fmt.Errorf("invalid interval %q", src)
	}
	for len(rest) > 0 {
		tok := rest
		if i := bytes.IndexByte(rest, ' '); i >= 0 {
			tok, rest = rest[:i], bytes.TrimLeft(rest[i+1:], " ")
		} else {
			rest = nil
		}
		if bytes.IndexByte(tok, ':') >= 0 {
			us, err := parseIntervalClock(tok)
			if err != nil {
				return nil, fmt.Errorf("invalid interval %q", src)
			}
			clock = satAdd(clock, us)
			continue
		}
		n, err := parseInt(tok, 64)
		if err != nil || len(rest) == 0 {
			return nil, fmt.Errorf("invalid interval %q", src)
		}
		unit := rest
		if i := bytes.IndexByte(rest, ' '); i >= 0 {
			unit, rest = rest[:i], bytes.TrimLeft(rest[i+1:], " ")
		} else {
			rest = nil
		}
		switch string(unit) {
		case "year", "years":
			months = satAdd(months, satMul(n, 12))
		case "mon", "mons":
			months = satAdd(months, n)
		case "day", "days":
			days = satAdd(days, n)
		default:
			return nil, fmt.Errorf("invalid interval %q: unknown unit %q", src, unit)
		}
	}
	us := satAdd(satAdd(satMul(months, usPerMonth), satMul(days, usPerDay)), clock)
	return event.MicroDuration(us), nil
}

// parseIntervalClock parses "[+-]H+:MM:SS[.ffffff]" (hours unbounded).
func parseIntervalClock(tok []byte) (int64, error) {
	sign := int64(1)
	if len(tok) > 0 && (tok[0] == '-' || tok[0] == '+') {
		if tok[0] == '-' {
			sign = -1
		}
		tok = tok[1:]
	}
	h, rest := leadingNumber(tok, 12)
	if len(rest) == len(tok) || len(rest) < 6 || rest[0] != ':' || rest[3] != ':' {
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
	us := satAdd(satMul(h, usPerHour), m*usPerMinute+s*usPerSecond+frac)
	return sign * us, nil
}

// satAdd and satMul are int64 arithmetic that saturates instead of wrapping.
func satAdd(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		if (a < 0) != (b < 0) {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return p
}
