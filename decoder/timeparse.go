package decoder

import (
	"errors"
	"strconv"
)

var errSyntax = errors.New("syntax error")

// maxYearDigits bounds the year field (Postgres dates end in 5874897 AD).
const maxYearDigits = 7

// parseDate parses "Y-MM-DD" (a year of 1 to 7 digits) at the start of src
// and returns days since 1970-01-01; bc marks a year before 1 AD (1 BC is
// astronomical year 0).
func parseDate(src []byte, bc bool) (int64, []byte, error) {
	y, rest := leadingNumber(src, maxYearDigits)
	if len(rest) == len(src) || len(rest) < 6 || rest[0] != '-' || rest[3] != '-' {
		return 0, nil, errSyntax
	}
	m, ok1 := twoDigits(rest[1:])
	d, ok2 := twoDigits(rest[4:])
	if !ok1 || !ok2 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, nil, errSyntax
	}
	if bc {
		y = 1 - y
	}
	return daysFromCivil(y, m, d), rest[6:], nil
}

// parseClock parses "HH:MM:SS[.ffffff]" at the start of src into
// microseconds; hours may exceed 23 only as the boundary 24:00:00.
func parseClock(src []byte) (int64, []byte, error) {
	if len(src) < 8 || src[2] != ':' || src[5] != ':' {
		return 0, nil, errSyntax
	}
	h, ok1 := twoDigits(src)
	m, ok2 := twoDigits(src[3:])
	s, ok3 := twoDigits(src[6:])
	if !ok1 || !ok2 || !ok3 || m > 59 || s > 60 || h > 24 {
		return 0, nil, errSyntax
	}
	us := h*usPerHour + m*usPerMinute + s*usPerSecond
	frac, rest, err := parseFraction(src[8:])
	if err != nil {
		return 0, nil, err
	}
	us += frac
	if us > usPerDay {
		return 0, nil, errSyntax
	}
	return us, rest, nil
}

// parseFraction parses an optional ".f" of 1 to 6 digits into microseconds.
func parseFraction(src []byte) (int64, []byte, error) {
	if len(src) == 0 || src[0] != '.' {
		return 0, src, nil
	}
	n, rest := leadingNumber(src[1:], 6)
	digits := len(src) - 1 - len(rest)
	if digits == 0 || (len(rest) > 0 && isDigit(rest[0])) {
		return 0, nil, errSyntax
	}
	for i := digits; i < 6; i++ {
		n *= 10
	}
	return n, rest, nil
}

// parseOffset parses a UTC offset "+HH[:MM[:SS]]" into seconds east of UTC.
func parseOffset(src []byte) (int64, []byte, error) {
	if len(src) < 3 || (src[0] != '+' && src[0] != '-') {
		return 0, nil, errSyntax
	}
	sign := int64(1)
	if src[0] == '-' {
		sign = -1
	}
	h, ok := twoDigits(src[1:])
	if !ok {
		return 0, nil, errSyntax
	}
	secs, rest := h*3600, src[3:]
	for _, unit := range [2]int64{60, 1} {
		if len(rest) < 3 || rest[0] != ':' {
			break
		}
		v, ok := twoDigits(rest[1:])
		if !ok || v > 59 {
			return 0, nil, errSyntax
		}
		secs, rest = secs+v*unit, rest[3:]
	}
	return sign * secs, rest, nil
}

// leadingNumber parses up to max leading digits of src.
func leadingNumber(src []byte, max int) (int64, []byte) {
	var n int64
	i := 0
	for i < len(src) && i < max && isDigit(src[i]) {
		n = n*10 + int64(src[i]-'0')
		i++
	}
	return n, src[i:]
}

func twoDigits(src []byte) (int64, bool) {
	if len(src) < 2 || !isDigit(src[0]) || !isDigit(src[1]) {
		return 0, false
	}
	return int64(src[0]-'0')*10 + int64(src[1]-'0'), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// daysFromCivil converts a proleptic Gregorian date (astronomical year) to
// days since 1970-01-01 (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// appendISODate appends a date as java.time's ISO_LOCAL_DATE does: a year of
// at least four digits, '+' before years past 9999 and '-' before negative
// (astronomical) years.
func appendISODate(b []byte, y, m, d int64) []byte {
	switch {
	case y > 9999:
		b = append(b, '+')
	case y < 0:
		b = append(b, '-')
		y = -y
	}
	b = appendPadded(b, y, 4)
	b = append(b, '-')
	b = appendPadded(b, m, 2)
	b = append(b, '-')
	return appendPadded(b, d, 2)
}

// appendClock appends microseconds since midnight as HH:MM:SS with the
// fraction's trailing zeros trimmed (none when zero), as ISO_LOCAL_TIME does.
func appendClock(b []byte, us int64) []byte {
	b = appendPadded(b, us/usPerHour, 2)
	b = append(b, ':')
	b = appendPadded(b, us/usPerMinute%60, 2)
	b = append(b, ':')
	b = appendPadded(b, us/usPerSecond%60, 2)
	frac := us % usPerSecond
	if frac == 0 {
		return b
	}
	digits := 6
	for frac%10 == 0 {
		frac /= 10
		digits--
	}
	b = append(b, '.')
	return appendPadded(b, frac, digits)
}

// appendClockDigits appends hh:mm:ss and, when digits > 0, exactly digits
// fraction digits (the value never has more: PostgreSQL rounds to the
// column's precision).
func appendClockDigits(b []byte, us int64, digits int) []byte {
	b = appendClock(b, us-us%usPerSecond)
	if digits == 0 {
		return b
	}
	frac := us % usPerSecond
	for i := digits; i < 6; i++ {
		frac /= 10
	}
	b = append(b, '.')
	return appendPadded(b, frac, digits)
}

// appendPadded appends v (not negative: a date, clock or fraction field) in
// decimal with leading zeros to at least width digits. A value that fits
// width is written digit by digit, without strconv: this runs for every
// temporal value of every row.
func appendPadded(b []byte, v int64, width int) []byte {
	switch {
	case width == 2 && v >= 0 && v < 100:
		return append(b, byte('0'+v/10), byte('0'+v%10))
	case width >= 1 && width <= 9 && v >= 0 && v < padLimit[width]:
		var tmp [9]byte
		u := uint32(v)
		for i := width - 1; i >= 0; i-- {
			tmp[i] = byte('0' + u%10)
			u /= 10
		}
		return append(b, tmp[:width]...)
	}
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// padLimit[i] is 10 to the power i: the values appendPadded writes in i
// digits without strconv.
var padLimit = [10]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}
