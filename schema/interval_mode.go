package schema

import (
	"strconv"

	"github.com/walrelay/walrelay/event"
)

// IntervalMode is Debezium's interval.handling.mode: how interval values
// (and their arrays) are written. The zero value is IntervalNumeric.
type IntervalMode uint8

const (
	// IntervalNumeric: io.debezium.time.MicroDuration, a long of
	// microseconds with a month counted as 30.4375 days
	// (event.Interval.MicroDuration).
	IntervalNumeric IntervalMode = iota
	// IntervalString: io.debezium.time.Interval, a string such as
	// "P1Y2M3DT4H5M6.78S" (see appendIntervalText).
	IntervalString
)

var intervalModeNames = []string{"numeric", "string"}

// nameInterval is the connect.name of IntervalString values.
const nameInterval = "io.debezium.time.Interval"

// ParseIntervalMode parses an interval.handling.mode name.
func ParseIntervalMode(s string) (IntervalMode, error) {
	i, err := parseMode(s, intervalModeNames)
	return IntervalMode(i), err
}

func (m IntervalMode) String() string { return intervalModeNames[m] }

// IntervalModeNames lists the accepted names, for messages.
func IntervalModeNames() []string { return intervalModeNames }

// Microseconds per unit of an interval's time part.
const (
	usPerSecond = 1_000_000
	usPerMinute = 60 * usPerSecond
	usPerHour   = 60 * usPerMinute
)

// appendIntervalText appends iv as Debezium's io.debezium.time.Interval
// does (Interval.toIsoString of pgjdbc's PGInterval fields):
// "P<years>Y<months>M<days>DT<hours>H<minutes>M<seconds>S" with all six
// components printed, each with its own sign. Years and months are
// Months/12 and Months%12, hours (unbounded), minutes and seconds come from
// Micros, all truncated toward zero so they share its sign. Seconds keep up
// to six fraction digits without trailing zeros: "-1 years -2 mons +3 days
// -04:05:06.78" is "P-1Y-2M3DT-4H-5M-6.78S", zero is "P0Y0M0DT0H0M0S".
//
// The seconds are exact. Debezium passes them through a double
// (BigDecimal.valueOf(PGInterval.getSeconds())) and truncates to six digits,
// so for about 1 in 120 fractional values below a minute it prints one
// microsecond less (1.003691 s as "1.00369S").
func appendIntervalText(dst []byte, iv event.Interval) []byte {
	dst = append(dst, 'P')
	dst = strconv.AppendInt(dst, int64(iv.Months/12), 10)
	dst = append(dst, 'Y')
	dst = strconv.AppendInt(dst, int64(iv.Months%12), 10)
	dst = append(dst, 'M')
	dst = strconv.AppendInt(dst, int64(iv.Days), 10)
	dst = append(dst, 'D', 'T')
	dst = strconv.AppendInt(dst, iv.Micros/usPerHour, 10)
	dst = append(dst, 'H')
	dst = strconv.AppendInt(dst, iv.Micros/usPerMinute%60, 10)
	dst = append(dst, 'M')
	sec := iv.Micros % usPerMinute // |sec| < 60 s, so negating is safe
	if sec < 0 {
		dst, sec = append(dst, '-'), -sec
	}
	dst = strconv.AppendInt(dst, sec/usPerSecond, 10)
	if frac := sec % usPerSecond; frac != 0 {
		digits := 6
		for ; frac%10 == 0; frac /= 10 {
			digits--
		}
		var d [6]byte
		for i := digits - 1; i >= 0; i-- {
			d[i], frac = '0'+byte(frac%10), frac/10
		}
		dst = append(append(dst, '.'), d[:digits]...)
	}
	return append(dst, 'S')
}

// intervalText is appendIntervalText as a string.
func intervalText(iv event.Interval) string {
	var buf [64]byte
	return string(appendIntervalText(buf[:0], iv))
}
