package schema

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// DecimalMode is Debezium's decimal.handling.mode: how numeric and money
// values (and their arrays) are written. The zero value is DecimalPrecise.
type DecimalMode uint8

const (
	// DecimalPrecise: Connect's Decimal (bytes at the column's scale), or
	// VariableScaleDecimal for unconstrained numeric; NaN/±Infinity are null.
	DecimalPrecise DecimalMode = iota
	// DecimalDouble: a double, the value rounded to the nearest one;
	// NaN/±Infinity are the double's NaN/±Infinity.
	DecimalDouble
	// DecimalString: a string in plain notation at the column's scale
	// ("12.50", "0.0000000000" at scale 10), or "NAN", "POSITIVE_INFINITY",
	// "NEGATIVE_INFINITY" (Debezium's names).
	DecimalString
)

// BinaryMode is Debezium's binary.handling.mode: how bytea values (and
// their arrays) are written. The zero value is BinaryBytes. Bit strings
// (io.debezium.data.Bits) are bytes in every mode, as in Debezium.
type BinaryMode uint8

const (
	// BinaryBytes: Avro bytes; base64 in JSON (JsonConverter's form).
	BinaryBytes BinaryMode = iota
	// BinaryBase64: a string, standard base64 with padding.
	BinaryBase64
	// BinaryBase64URL: a string, URL-safe base64 with padding.
	BinaryBase64URL
	// BinaryHex: a string, lower-case hexadecimal.
	BinaryHex
)

var (
	decimalModeNames = []string{"precise", "double", "string"}
	binaryModeNames  = []string{"bytes", "base64", "base64-url-safe", "hex"}
)

// ParseDecimalMode parses a decimal.handling.mode name.
func ParseDecimalMode(s string) (DecimalMode, error) {
	i, err := parseMode(s, decimalModeNames)
	return DecimalMode(i), err
}

// ParseBinaryMode parses a binary.handling.mode name.
func ParseBinaryMode(s string) (BinaryMode, error) {
	i, err := parseMode(s, binaryModeNames)
	return BinaryMode(i), err
}

func parseMode(s string, names []string) (int, error) {
	for i, n := range names {
		if s == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown mode %q", s)
}

func (m DecimalMode) String() string { return decimalModeNames[m] }
func (m BinaryMode) String() string  { return binaryModeNames[m] }

// DecimalModeNames and BinaryModeNames list the accepted names, for messages.
func DecimalModeNames() []string { return decimalModeNames }
func BinaryModeNames() []string  { return binaryModeNames }

// decimalText returns d as Debezium 3.6's string mode does: plain notation
// at the column's scale ("12.50", "0.0000000000" in numeric(20,10), as
// the parity run against Debezium Server 3.6.1 printed), or the name of
// Debezium's special value.
func decimalText(d event.Decimal) string {
	switch d.Special {
	case "NaN":
		return "NAN"
	case "Infinity":
		return "POSITIVE_INFINITY"
	case "-Infinity":
		return "NEGATIVE_INFINITY"
	}
	return d.String()
}

// binaryText renders b as a string in mode m (not BinaryBytes).
func binaryText(b []byte, m BinaryMode) string {
	switch m {
	case BinaryHex:
		return hex.EncodeToString(b)
	case BinaryBase64URL:
		return base64.URLEncoding.EncodeToString(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// isBytea reports whether col holds bytea values (or arrays of them), the
// columns binary.handling.mode applies to.
func isBytea(col *event.Column) bool {
	return col != nil && (col.TypeOID == pgtype.ByteaOID || col.Kind == event.KindArray && col.ElemOID == pgtype.ByteaOID)
}

// withModes returns t (the type of col, or of its elements) as o's
// decimal, binary, interval and time precision modes write it: numeric and
// money as double or string, bytea as string, interval as
// io.debezium.time.Interval string, time and timestamp in ms; array
// elements alike. t is not changed.
func (o *Options) withModes(t *avroType, col *event.Column) *avroType {
	switch {
	case t.kind == kindArray:
		if el := o.withModes(t.elem, col); el != t.elem {
			return &avroType{kind: kindArray, elem: el}
		}
	case t.kind == kindDecimal || t.kind == kindVarDecimal:
		switch o.DecimalMode {
		case DecimalDouble:
			return &avroType{kind: kindDouble}
		case DecimalString:
			return &avroType{kind: kindString}
		}
	case t.kind == kindBytes && t.name == "" && o.BinaryMode != BinaryBytes:
		return &avroType{kind: kindString, bin: o.BinaryMode}
	case t.name == nameMicroDur && o.IntervalMode == IntervalString:
		return &avroType{kind: kindString, name: nameInterval}
	default:
		return o.TimePrecision.temporalType(t, col)
	}
	return t
}
