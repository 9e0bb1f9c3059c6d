package decoder

import (
	"fmt"
	"math/big"
	"math/bits"

	"github.com/walrelay/walrelay/event"
)

// numericConverter returns the converter of numeric with the given typmod:
// numeric(p,s) yields Decimals of scale s (a negative s counts as 0, since
// Avro decimals cannot have one); unconstrained numeric keeps the scale of the
// text Postgres sent.
func numericConverter(typmod int32) convertFunc {
	scale, ok := numericScale(typmod)
	if !ok {
		return func(src []byte) (any, error) { return parseDecimal(src, -1) }
	}
	return func(src []byte) (any, error) { return parseDecimal(src, scale) }
}

// numericScale extracts the scale of a numeric typmod ((p << 16 | s) + 4,
// s an 11-bit signed field since Postgres 15). ok is false for -1.
func numericScale(typmod int32) (scale int32, ok bool) {
	if typmod < 4 {
		return 0, false
	}
	s := ((typmod-4)&0x7ff ^ 1024) - 1024
	return max(s, 0), true
}

// parseDecimal parses numeric text output: [-]digits[.digits], or NaN,
// Infinity, -Infinity (Special). With scale >= 0 the result is rescaled to it
// (a value with more fraction digits is an error: Postgres never sends one);
// with scale < 0 it keeps the text's scale.
func parseDecimal(src []byte, scale int32) (any, error) {
	switch string(src) {
	case "NaN":
		return event.Decimal{Special: "NaN"}, nil
	case "Infinity":
		return event.Decimal{Special: "Infinity"}, nil
	case "-Infinity":
		return event.Decimal{Special: "-Infinity"}, nil
	}
	d, err := decimalFromText(src)
	if err != nil {
		return nil, err
	}
	if scale >= 0 && d.Scale != scale {
		if d.Scale > scale {
			return nil, fmt.Errorf("numeric %q has more than %d fraction digits", src, scale)
		}
		d.Unscaled.Mul(d.Unscaled, pow10(scale-d.Scale))
		d.Scale = scale
	}
	return d, nil
}

// maxFastDigits is how many decimal digits always fit in a uint64.
const maxFastDigits = 19

// smallInt holds a big.Int and the one word that backs it, so a decimal of up
// to 19 digits costs one allocation.
type smallInt struct {
	i big.Int
	w [1]big.Word
}

// decimalFromText parses [+-]digits[.digits] into an exact decimal whose scale
// is the number of fraction digits.
func decimalFromText(src []byte) (event.Decimal, error) {
	s := src
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	digits, scale, dot := 0, int32(0), false
	var u uint64
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
			if dot {
				scale++
			}
			u = u*10 + uint64(c-'0') // garbage past maxFastDigits; unused then
		case c == '.' && !dot:
			dot = true
		default:
			return event.Decimal{}, fmt.Errorf("invalid numeric %q", src)
		}
	}
	if digits == 0 {
		return event.Decimal{}, fmt.Errorf("invalid numeric %q", src)
	}
	var n *big.Int
	if digits <= maxFastDigits && bits.UintSize == 64 {
		h := new(smallInt)
		h.w[0] = big.Word(u)
		n = h.i.SetBits(h.w[:])
	} else {
		n = slowDigits(s)
	}
	if neg {
		n.Neg(n)
	}
	return event.Decimal{Unscaled: n, Scale: scale}, nil
}

// slowDigits parses the digits of s (a validated [digits][.digits]) of any
// length.
func slowDigits(s []byte) *big.Int {
	buf := make([]byte, 0, len(s))
	for _, c := range s {
		if c != '.' {
			buf = append(buf, c)
		}
	}
	n, _ := new(big.Int).SetString(string(buf), 10)
	return n
}

var smallPow10 = func() [19]*big.Int {
	var p [19]*big.Int
	v := int64(1)
	for i := range p {
		p[i] = big.NewInt(v)
		v *= 10
	}
	return p
}()

// pow10 returns 10^n (n >= 0); callers must not modify the result.
func pow10(n int32) *big.Int {
	if n < int32(len(smallPow10)) {
		return smallPow10[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// moneyScale is the scale of money values (Debezium's money.fraction.digits
// default; lc_monetary=C formats two fraction digits).
const moneyScale = 2

// convMoney parses money's locale-formatted output, e.g. "$1,234.56",
// "-$1.00" or "($1.00)": it keeps the digits and the decimal point, and a
// leading '-' or enclosing parentheses make it negative. The result has scale
// 2; extra fraction digits (exotic lc_monetary) are rounded half up.
func convMoney(src []byte) (any, error) {
	var buf [48]byte
	out := buf[:0]
	neg := false
	for _, c := range src {
		switch {
		case c >= '0' && c <= '9', c == '.':
			out = append(out, c)
		case c == '-' || c == '(':
			neg = true
		}
	}
	if len(out) > len(buf) {
		return nil, fmt.Errorf("money %q too long", src)
	}
	d, err := decimalFromText(out)
	if err != nil {
		return nil, fmt.Errorf("invalid money %q", src)
	}
	switch {
	case d.Scale < moneyScale:
		d.Unscaled.Mul(d.Unscaled, pow10(moneyScale-d.Scale))
	case d.Scale > moneyScale:
		q, r := new(big.Int).QuoRem(d.Unscaled, pow10(d.Scale-moneyScale), new(big.Int))
		if r.Mul(r, big.NewInt(2)).Cmp(pow10(d.Scale-moneyScale)) >= 0 {
			q.Add(q, big.NewInt(1))
		}
		d.Unscaled = q
	}
	d.Scale = moneyScale
	if neg {
		d.Unscaled.Neg(d.Unscaled)
	}
	return d, nil
}
