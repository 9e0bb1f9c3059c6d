package schema

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// decimalRepr is how Debezium's precise mode represents a Decimal column.
type decimalRepr struct {
	variable bool  // VariableScaleDecimal {scale, value}: unconstrained numeric
	scale    int32 // fixed scale (org.apache.kafka.connect.data.Decimal) when !variable
}

// decimalReprOf returns the representation of Decimal values in col, as
// the Avro format types them (baseType): numeric(p,s) and its arrays -> fixed
// scale s, a negative PostgreSQL 15 scale counting as 0 (numericType); money
// and its arrays -> fixed scale 2 (Debezium's money.fraction.digits default);
// unconstrained numeric -> variable scale. The type is the column's, or its
// element's for an array, so a domain (resolved by the decoder to its base
// type, for arrays of domains too) follows its base type. A Decimal in any
// other column (nil col, text form) is variable-scale, since only the value
// itself knows its scale.
func decimalReprOf(col *event.Column) decimalRepr {
	if col == nil {
		return decimalRepr{variable: true}
	}
	oid := col.TypeOID
	if col.Kind == event.KindArray {
		oid = col.ElemOID
	}
	switch oid {
	case moneyOID:
		return decimalRepr{scale: 2}
	case pgtype.NumericOID:
		if _, s, ok := numericTypmod(col.TypeMod); ok {
			return decimalRepr{scale: max(s, 0)}
		}
	}
	return decimalRepr{variable: true}
}

// stripTrailingZeros returns d without the fraction's trailing zeros, as
// Debezium writes a VariableScaleDecimal (BigDecimal.stripTrailingZeros,
// then a negative scale set to 0): 3.14000 -> 3.14, 1.00 -> 1, 0.00 -> 0;
// 100 keeps its zeros.
func stripTrailingZeros(d event.Decimal) event.Decimal {
	if d.Unscaled == nil || d.Scale <= 0 {
		return d
	}
	if d.Unscaled.IsInt64() {
		v, s := d.Unscaled.Int64(), d.Scale
		for s > 0 && v%10 == 0 {
			v, s = v/10, s-1
		}
		if s == d.Scale {
			return d
		}
		return event.Decimal{Unscaled: big.NewInt(v), Scale: s}
	}
	u, s := new(big.Int).Set(d.Unscaled), d.Scale
	ten, q, r := big.NewInt(10), new(big.Int), new(big.Int)
	for s > 0 {
		q.QuoRem(u, ten, r)
		if r.Sign() != 0 {
			break
		}
		u, q = q, u
		s--
	}
	return event.Decimal{Unscaled: u, Scale: s}
}

// numericTypmod decodes a numeric column's atttypmod into precision and scale
// (ok false when unconstrained). Scale may be negative from PostgreSQL 15 on.
func numericTypmod(typmod int32) (precision, scale int32, ok bool) {
	const varhdrsz = 4
	if typmod < varhdrsz {
		return 0, 0, false
	}
	t := typmod - varhdrsz
	precision = (t >> 16) & 0xFFFF
	scale = ((t & 0x7FF) ^ 1024) - 1024
	return precision, scale, true
}

var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// appendUnscaled appends the unscaled value of d at scale as Java's
// BigInteger.toByteArray does: big-endian two's complement, minimal length,
// at least one byte. Raising the scale multiplies; lowering it must be exact
// (Postgres never stores more digits than the column's scale) or it fails with
// ErrDecimalScale. Values that fit an int64 take an allocation-free path.
func appendUnscaled(dst []byte, d event.Decimal, scale int32) ([]byte, error) {
	u := d.Unscaled
	if u == nil {
		return append(dst, 0), nil
	}
	if u.IsInt64() {
		if v, ok := rescaleInt64(u.Int64(), d.Scale, scale); ok {
			return appendInt64Bytes(dst, v), nil
		}
	}
	x, err := rescaleBig(u, d.Scale, scale)
	if err != nil {
		return dst, fmt.Errorf("%s at scale %d: %w", d.String(), scale, err)
	}
	return appendBigBytes(dst, x), nil
}

// rescaleInt64 rescales v from scale from to scale to; ok is false when the
// result overflows, the factor is too large, or the division is inexact (the
// big path then decides).
func rescaleInt64(v int64, from, to int32) (int64, bool) {
	switch k := int64(to) - int64(from); {
	case k == 0:
		return v, true
	case k > 0 && k < int64(len(pow10)):
		p := pow10[k]
		if v > math.MaxInt64/p || v < math.MinInt64/p {
			return 0, false
		}
		return v * p, true
	case k < 0 && -k < int64(len(pow10)):
		p := pow10[-k]
		if v%p != 0 {
			return 0, false
		}
		return v / p, true
	}
	return 0, false
}

// rescaleBig rescales u from scale from to scale to with big integers.
func rescaleBig(u *big.Int, from, to int32) (*big.Int, error) {
	k := int64(to) - int64(from)
	if k == 0 {
		return u, nil
	}
	abs := k
	if abs < 0 {
		abs = -abs
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(abs), nil)
	if k > 0 {
		return p.Mul(u, p), nil
	}
	q, r := new(big.Int).QuoRem(u, p, new(big.Int))
	if r.Sign() != 0 {
		return nil, ErrDecimalScale
	}
	return q, nil
}

// appendInt64Bytes appends v as BigInteger.valueOf(v).toByteArray() would:
// drop leading bytes that only repeat the sign.
func appendInt64Bytes(dst []byte, v int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	i := 0
	for i < 7 {
		if v >= 0 && b[i] == 0x00 && b[i+1]&0x80 == 0 ||
			v < 0 && b[i] == 0xFF && b[i+1]&0x80 != 0 {
			i++
			continue
		}
		break
	}
	return append(dst, b[i:]...)
}

// appendBigBytes appends x as BigInteger.toByteArray: the minimal big-endian
// two's complement form. For x < 0 it is the complement of |x|-1, with a 0xFF
// sign byte when that complement's top bit is clear.
func appendBigBytes(dst []byte, x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			dst = append(dst, 0)
		}
		return append(dst, b...)
	}
	m := new(big.Int).Neg(x)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		dst = append(dst, 0xFF)
	}
	return append(dst, b...)
}
