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

// appendJSONFloat appends f as a JSON number in the shortest form that reads
// back as the same float of the given bit size (encoding/json's format:
// exponent only below 1e-6 or from 1e21). NaN and ±Inf, which JSON numbers
// cannot carry, become the strings "NaN", "Infinity" and "-Infinity", as
// Jackson writes them by default.
func appendJSONFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Shorten e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
