package schema

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"
)

// appendJSONString appends s as a JSON string the way Jackson writes it:
// '"' and '\' backslash-escaped; \b \t \n \f \r for those controls and
// \u00XX (upper-case hex) for the other characters below 0x20; everything
// else, including U+2028/U+2029 and DEL, as is. Each byte of invalid UTF-8
// becomes \ufffd, so the output is always valid JSON and decodes to what
// ranging over s yields.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plainWord(load64(s, i)) {
			i += 8
			continue
		}
		// Byte by byte to the end of this word (a rune may run past it).
		for end := min(i+8, len(s)); i < end; {
			c := s[i]
			switch {
			case c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\':
				i++
				continue
			case c < utf8.RuneSelf:
				dst = appendJSONEscape(append(dst, s[start:i]...), c)
				i++
				start = i
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(append(dst, s[start:i]...), `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONEscape appends the escape of an ASCII byte that needs one: '"',
// '\\' or a control character.
func appendJSONEscape(dst []byte, c byte) []byte {
	const hex = "0123456789ABCDEF"
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\t':
		return append(dst, '\\', 't')
	case '\n':
		return append(dst, '\\', 'n')
	case '\f':
		return append(dst, '\\', 'f')
	case '\r':
		return append(dst, '\\', 'r')
	}
	return append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
}

// Masks for plainWord: every byte 0x01, 0x80, or a byte value repeated.
const (
	ones        = 0x0101010101010101
	highs       = 0x8080808080808080
	quotes      = '"' * ones
	backslashes = '\\' * ones
	spaces      = ' ' * ones
)

// plainWord reports whether none of the eight bytes of w needs attention in
// appendJSONString: each is ASCII, at least ' ', and neither '"' nor '\\'.
// (The classic test for a zero byte, x-ones & ^x & highs, flags every zero
// byte, and may flag a 0x01 byte just above one; a false "not plain" only
// sends the word down the byte-by-byte path.)
func plainWord(w uint64) bool {
	hasZero := func(x uint64) uint64 { return (x - ones) & ^x & highs }
	below := (w - spaces) & ^w & highs // a byte below ' ' (or above it by borrow from one)
	return w&highs == 0 && below == 0 && hasZero(w^quotes) == 0 && hasZero(w^backslashes) == 0
}

// load64 returns the eight bytes of s at i as a little-endian word.
func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// appendJSONBase64 appends b as a JSON string of its standard, padded base64
// (what Jackson writes for binary nodes, and JsonConverter for bytes).
func appendJSONBase64(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendJSONFloat appends f as a JSON number exactly as Jackson writes a
// Java double (bits 64) or float (bits 32): Double.toString or
// Float.toString of Java 19 and later. The digits are those of the shortest
// decimal that reads back as f (when one digit would do, the closer of the
// one- and two-digit ones, as Java picks). They are written as a plain
// decimal with at least one fractional digit when 1e-3 <= |f| < 1e7
// ("10.0", "0.001", "-0.0"), otherwise in scientific notation d.dddE[-]n
// ("1.6777216E7", "1.0E-5", "4.9E-324"). So a schemaless reader always
// sees a floating-point number, never an integer. NaN and ±Inf, which JSON
// numbers cannot carry, become the strings "NaN", "Infinity" and
// "-Infinity", as Jackson writes them by default.
func appendJSONFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	if math.Signbit(f) {
		dst = append(dst, '-')
		f = -f
	}
	if f == 0 {
		return append(dst, "0.0"...)
	}
	var buf [32]byte
	digits, exp := sciDigits(strconv.AppendFloat(buf[:0], f, 'e', -1, bits))
	if len(digits) == 1 && isSubnormal(f, bits) {
		digits, exp = javaTwoDigits(digits, exp, f, bits)
	}
	if exp < -3 || exp >= 7 {
		return appendJavaScientific(dst, digits, exp)
	}
	return appendJavaPlain(dst, digits, exp)
}

// sciDigits splits s, a positive number in Go's 'e' format (d[.ddd]e±dd),
// in place into its significant digits without trailing zeros and the
// decimal exponent of the first digit: s = d.ddd × 10^exp.
func sciDigits(s []byte) (digits []byte, exp int) {
	e := len(s) - 4
	for s[e] != 'e' {
		e--
	}
	for _, c := range s[e+2:] {
		exp = exp*10 + int(c-'0')
	}
	if s[e+1] == '-' {
		exp = -exp
	}
	if e > 1 { // drop the '.' after the first digit
		copy(s[1:], s[2:e])
		e--
	}
	for e > 1 && s[e-1] == '0' {
		e--
	}
	return s[:e], exp
}

// isSubnormal reports whether f > 0 is below the smallest normal number of
// its size: only there can the shortest decimal have one digit while a
// closer two-digit decimal also reads back as f.
func isSubnormal(f float64, bits int) bool {
	if bits == 32 {
		return float32(f) < 0x1p-126
	}
	return f < 0x1p-1022
}

// javaTwoDigits applies Java's rule for a float whose shortest decimal has
// one digit: it picks, of the decimals of one or two digits that read back
// as f, the closest to f (Double.MIN_VALUE is 4.9E-324, not 5E-324). That
// is f rounded to two digits when it reads back as f; a subnormal's
// rounding interval is symmetric, so it does whenever the one-digit
// decimal does. The result is in a new array (the slow path of rare values).
func javaTwoDigits(digits []byte, exp int, f float64, bits int) ([]byte, int) {
	s := strconv.AppendFloat(nil, f, 'e', 1, bits)
	if back, err := strconv.ParseFloat(string(s), bits); err != nil || back != f {
		return digits, exp
	}
	return sciDigits(s)
}

// appendJavaScientific appends digits × 10^exp in Java's computerized
// scientific notation: d.ddd, at least one digit after the point, then E
// and the exponent without '+' or leading zeros.
func appendJavaScientific(dst, digits []byte, exp int) []byte {
	dst = append(dst, digits[0], '.')
	if len(digits) == 1 {
		dst = append(dst, '0')
	} else {
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}

// appendJavaPlain appends digits × 10^exp, -3 <= exp < 7, as a plain
// decimal with at least one digit on each side of the point.
func appendJavaPlain(dst, digits []byte, exp int) []byte {
	if exp < 0 {
		dst = append(dst, '0', '.')
		for i := -1; i > exp; i-- {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	whole := exp + 1
	if len(digits) <= whole {
		dst = append(dst, digits...)
		for i := len(digits); i < whole; i++ {
			dst = append(dst, '0')
		}
		return append(dst, '.', '0')
	}
	dst = append(dst, digits[:whole]...)
	dst = append(dst, '.')
	return append(dst, digits[whole:]...)
}
