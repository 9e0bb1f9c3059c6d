package decoder

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// convertFunc turns one value's text form into its event value (see
// event/value.go). It never retains src: the array parser hands it slices of
// a scratch buffer.
type convertFunc func(src []byte) (any, error)

// scalarConverter picks the converter of a non-array type once, when the
// Relation message arrives, so rows pay no per-value type dispatch.
func scalarConverter(td typeDesc, typmod int32) convertFunc {
	switch td.kind {
	case event.KindEnum:
		return convEnum
	case event.KindOther:
		switch td.name {
		case hstoreTypeName:
			return convHStore
		case geometryTypeName:
			return convGeometry
		case geographyTypeName:
			return convGeography
		}
		return convString
	}
	switch td.oid {
	case pgtype.BoolOID:
		return convBool
	case pgtype.Int2OID:
		return convInt16
	case pgtype.Int4OID:
		return convInt32
	case pgtype.Int8OID, pgtype.OIDOID:
		return convInt64
	case pgtype.Float4OID:
		return convFloat32
	case pgtype.Float8OID:
		return convFloat64
	case pgtype.NumericOID:
		return numericConverter(typmod)
	case moneyOID:
		return convMoney
	case pgtype.ByteaOID:
		return convBytea
	case pgtype.DateOID:
		return convDate
	case pgtype.TimeOID:
		return convTime
	case pgtype.TimetzOID:
		return convTimetz
	case pgtype.TimestampOID:
		return convTimestamp
	case pgtype.TimestamptzOID:
		return timestamptzConverter(typmod)
	case pgtype.IntervalOID:
		return convInterval
	case pgtype.JSONOID, pgtype.JSONBOID:
		return convJSON
	case pgtype.PointOID:
		return convPoint
	case pgtype.BitOID, pgtype.VarbitOID:
		if typmod == 1 {
			return convBit1
		}
		return convBits
	}
	return convString // text types, uuid, network, ranges, geometric, xml, ...
}

// arrayDelimiter is the element delimiter of an array of elemOID: ';' for box
// (whose text form contains commas), ',' for everything else built in.
func arrayDelimiter(elemOID uint32) byte {
	if elemOID == pgtype.BoxOID {
		return ';'
	}
	return ','
}

func convString(src []byte) (any, error) { return string(src), nil }
func convEnum(src []byte) (any, error)   { return event.Enum(src), nil }
func convJSON(src []byte) (any, error)   { return event.JSON(src), nil }

func convBool(src []byte) (any, error) {
	if len(src) == 1 {
		switch src[0] {
		case 't':
			return true, nil
		case 'f':
			return false, nil
		}
	}
	return nil, fmt.Errorf("invalid bool %q", src)
}

func convInt16(src []byte) (any, error) {
	n, err := parseInt(src, 16)
	return int16(n), err
}

func convInt32(src []byte) (any, error) {
	n, err := parseInt(src, 32)
	return int32(n), err
}

func convInt64(src []byte) (any, error) {
	n, err := parseInt(src, 64)
	return n, err
}

// parseInt parses a decimal integer of the given bit size without allocating.
func parseInt(src []byte, bitSize int) (int64, error) {
	s := src
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if len(s) == 0 || len(s) > 20 {
		return 0, fmt.Errorf("invalid integer %q", src)
	}
	var u uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("invalid integer %q", src)
		}
		next := u*10 + uint64(c-'0')
		if next/10 != u {
			return 0, fmt.Errorf("integer %q out of range", src)
		}
		u = next
	}
	limit := uint64(1) << (bitSize - 1)
	if (!neg && u >= limit) || (neg && u > limit) {
		return 0, fmt.Errorf("integer %q out of range for %d bits", src, bitSize)
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

func convFloat32(src []byte) (any, error) {
	f, err := strconv.ParseFloat(string(src), 32)
	if err != nil {
		return nil, fmt.Errorf("invalid float4 %q", src)
	}
	return float32(f), nil
}

func convFloat64(src []byte) (any, error) {
	f, err := strconv.ParseFloat(string(src), 64)
	if err != nil {
		return nil, fmt.Errorf("invalid float8 %q", src)
	}
	return f, nil
}

// convBytea decodes bytea's hex output ("\x0a1b"), and the escape output
// (bytea_output = escape) for completeness.
func convBytea(src []byte) (any, error) {
	if len(src) >= 2 && src[0] == '\\' && src[1] == 'x' {
		out := make([]byte, hex.DecodedLen(len(src)-2))
		if _, err := hex.Decode(out, src[2:]); err != nil {
			return nil, fmt.Errorf("invalid bytea hex: %w", err)
		}
		return out, nil
	}
	return unescapeBytea(src)
}

var errByteaEscape = errors.New("invalid bytea escape sequence")

func unescapeBytea(src []byte) ([]byte, error) {
	out := make([]byte, 0, len(src))
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 < len(src) && src[i+1] == '\\' {
			out = append(out, '\\')
			i++
			continue
		}
		if i+3 >= len(src) {
			return nil, errByteaEscape
		}
		o := src[i+1 : i+4]
		if o[0] < '0' || o[0] > '3' || o[1] < '0' || o[1] > '7' || o[2] < '0' || o[2] > '7' {
			return nil, errByteaEscape
		}
		out = append(out, (o[0]-'0')<<6|(o[1]-'0')<<3|(o[2]-'0'))
		i += 3
	}
	return out, nil
}

// convBit1 decodes bit(1) and varbit(1) as a bool, as Debezium does.
func convBit1(src []byte) (any, error) {
	if len(src) == 1 && (src[0] == '0' || src[0] == '1') {
		return src[0] == '1', nil
	}
	return nil, fmt.Errorf("invalid bit(1) %q", src)
}

// convBits decodes bit(n) and varbit into event.Bits the way Debezium does:
// bit i of the value is the i-th character from the right, packed into bytes
// little-endian (bit i in byte i/8, position i%8), with trailing zero bytes
// dropped as java.util.BitSet.toByteArray does (all zeros: no bytes).
func convBits(src []byte) (any, error) {
	n := len(src)
	buf := make([]byte, (n+7)/8)
	top := 0
	for i := 0; i < n; i++ {
		switch src[n-1-i] {
		case '1':
			buf[i/8] |= 1 << (i % 8)
			top = i/8 + 1
		case '0':
		default:
			return nil, fmt.Errorf("invalid bit string %q", src)
		}
	}
	return event.Bits{Len: n, Bytes: buf[:top:top]}, nil
}
