package decoder

import (
	"math"
	"math/big"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

func dec(unscaled string, scale int32) event.Decimal {
	n, ok := new(big.Int).SetString(unscaled, 10)
	if !ok {
		panic(unscaled)
	}
	return event.Decimal{Unscaled: n, Scale: scale}
}

// numericTypmod builds the typmod of numeric(p,s).
func numericTypmod(p, s int32) int32 { return (p<<16 | s&0x7ff) + 4 }

func conv(oid uint32, typmod int32) convertFunc {
	return scalarConverter(typeDesc{oid: oid, kind: event.KindBase, typmod: -1}, typmod)
}

type convCase struct {
	name    string
	conv    convertFunc
	in      string
	want    any
	wantErr bool
}

func runConvCases(t *testing.T, cases []convCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.conv([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("convert(%q) = %#v, want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("convert(%q): %v", tc.in, err)
			}
			if !equalValue(got, tc.want) {
				t.Fatalf("convert(%q) = %#v (%T), want %#v (%T)", tc.in, got, got, tc.want, tc.want)
			}
		})
	}
}

// equalValue compares event values, Decimals by value and scale.
func equalValue(a, b any) bool {
	da, ok1 := a.(event.Decimal)
	db, ok2 := b.(event.Decimal)
	if ok1 && ok2 {
		if da.Special != db.Special || da.Scale != db.Scale {
			return false
		}
		if da.Unscaled == nil || db.Unscaled == nil {
			return da.Unscaled == nil && db.Unscaled == nil
		}
		return da.Unscaled.Cmp(db.Unscaled) == 0
	}
	la, ok1 := a.([]any)
	lb, ok2 := b.([]any)
	if ok1 && ok2 {
		if len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !equalValue(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestConvertScalars(t *testing.T) {
	t.Parallel()
	runConvCases(t, []convCase{
		{"bool true", conv(pgtype.BoolOID, -1), "t", true, false},
		{"bool false", conv(pgtype.BoolOID, -1), "f", false, false},
		{"bool bad", conv(pgtype.BoolOID, -1), "true", nil, true},
		{"int2", conv(pgtype.Int2OID, -1), "-32768", int16(-32768), false},
		{"int2 overflow", conv(pgtype.Int2OID, -1), "32768", nil, true},
		{"int4", conv(pgtype.Int4OID, -1), "2147483647", int32(2147483647), false},
		{"int4 overflow", conv(pgtype.Int4OID, -1), "-2147483649", nil, true},
		{"int8 min", conv(pgtype.Int8OID, -1), "-9223372036854775808", int64(-9223372036854775808), false},
		{"int8 overflow", conv(pgtype.Int8OID, -1), "9223372036854775808", nil, true},
		{"int8 garbage", conv(pgtype.Int8OID, -1), "12a", nil, true},
		{"int8 empty", conv(pgtype.Int8OID, -1), "", nil, true},
		{"oid", conv(pgtype.OIDOID, -1), "4294967295", int64(4294967295), false},
		{"float4", conv(pgtype.Float4OID, -1), "1.5", float32(1.5), false},
		{"float4 shortest", conv(pgtype.Float4OID, -1), "0.1", float32(0.1), false},
		{"float8", conv(pgtype.Float8OID, -1), "-2.5e-300", -2.5e-300, false},
		{"float8 bad", conv(pgtype.Float8OID, -1), "x", nil, true},
		{"float8 Infinity", conv(pgtype.Float8OID, -1), "-Infinity", math.Inf(-1), false},
		{"float4 Infinity", conv(pgtype.Float4OID, -1), "Infinity", float32(math.Inf(1)), false},
		{"text", conv(pgtype.TextOID, -1), "héllo", "héllo", false},
		{"varchar", conv(pgtype.VarcharOID, 14), "abc", "abc", false},
		{"bpchar keeps padding", conv(pgtype.BPCharOID, 7), "ab ", "ab ", false},
		{"name", conv(pgtype.NameOID, -1), "pg_class", "pg_class", false},
		{"uuid", conv(pgtype.UUIDOID, -1), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", false},
		{"json", conv(pgtype.JSONOID, -1), `{"a": 1}`, event.JSON(`{"a": 1}`), false},
		{"jsonb", conv(pgtype.JSONBOID, -1), `[1, "x"]`, event.JSON(`[1, "x"]`), false},
		{"bytea hex", conv(pgtype.ByteaOID, -1), `\x00ff10`, []byte{0, 0xff, 0x10}, false},
		{"bytea empty", conv(pgtype.ByteaOID, -1), `\x`, []byte{}, false},
		{"bytea bad hex", conv(pgtype.ByteaOID, -1), `\x0g`, nil, true},
		{"bytea escape", conv(pgtype.ByteaOID, -1), `a\\b\001`, []byte{'a', '\\', 'b', 1}, false},
		{"bytea bad escape", conv(pgtype.ByteaOID, -1), `a\9`, nil, true},
		{"inet", conv(pgtype.InetOID, -1), "192.168.0.1/24", "192.168.0.1/24", false},
		{"cidr", conv(pgtype.CIDROID, -1), "10.0.0.0/8", "10.0.0.0/8", false},
		{"macaddr", conv(pgtype.MacaddrOID, -1), "08:00:2b:01:02:03", "08:00:2b:01:02:03", false},
		{"int4range", conv(pgtype.Int4rangeOID, -1), "[1,10)", "[1,10)", false},
		{"point", conv(pgtype.PointOID, -1), "(1,2)", event.Point{X: 1, Y: 2}, false},
		{"point float8 text", conv(pgtype.PointOID, -1), "(-1.5e+20,Infinity)", event.Point{X: -1.5e20, Y: math.Inf(1)}, false},
		{"point without parens", conv(pgtype.PointOID, -1), "1,2", nil, true},
		{"point one coordinate", conv(pgtype.PointOID, -1), "(1)", nil, true},
		{"xml", conv(pgtype.XMLOID, -1), "<a>b</a>", "<a>b</a>", false},
		{"tsvector", conv(pgtype.TSVectorOID, -1), "'a' 'b'", "'a' 'b'", false},
		{"enum", scalarConverter(typeDesc{oid: 16400, kind: event.KindEnum}, -1), "happy", event.Enum("happy"), false},
		{"unknown type as text", scalarConverter(typeDesc{oid: 16500, kind: event.KindOther}, -1), "(1,x)", "(1,x)", false},
	})
}

func TestConvertNumeric(t *testing.T) {
	t.Parallel()
	fixed := conv(pgtype.NumericOID, numericTypmod(12, 2))
	free := conv(pgtype.NumericOID, -1)
	money := conv(moneyOID, -1)
	runConvCases(t, []convCase{
		{"numeric(12,2)", fixed, "1234.50", dec("123450", 2), false},
		{"numeric(12,2) negative", fixed, "-0.05", dec("-5", 2), false},
		{"numeric(12,2) rescales integer text", fixed, "7", dec("700", 2), false},
		{"numeric(12,2) too many digits", fixed, "1.234", nil, true},
		{"numeric(5,-2) counts as scale 0", conv(pgtype.NumericOID, numericTypmod(5, -2)), "12300", dec("12300", 0), false},
		{"numeric free keeps scale", free, "1.500", dec("1500", 3), false},
		{"numeric free integer", free, "42", dec("42", 0), false},
		{"numeric big", free, "-123456789012345678901234567890.123456789", dec("-123456789012345678901234567890123456789", 9), false},
		{"numeric 19 digits", free, "9999999999999999999", dec("9999999999999999999", 0), false},
		{"numeric 20 digits", free, "18446744073709551616", dec("18446744073709551616", 0), false},
		{"numeric NaN", free, "NaN", event.Decimal{Special: "NaN"}, false},
		{"numeric Infinity", fixed, "Infinity", event.Decimal{Special: "Infinity"}, false},
		{"numeric -Infinity", free, "-Infinity", event.Decimal{Special: "-Infinity"}, false},
		{"numeric garbage", free, "1.2.3", nil, true},
		{"numeric empty", free, "", nil, true},
		{"numeric sign only", free, "-", nil, true},
		{"numeric exponent rejected", free, "1e5", nil, true},
		{"money", money, "$1,234.56", dec("123456", 2), false},
		{"money negative", money, "-$1.00", dec("-100", 2), false},
		{"money parentheses", money, "($3.10)", dec("-310", 2), false},
		{"money no fraction", money, "$5", dec("500", 2), false},
		{"money three digits rounds half up", money, "$1.005", dec("101", 2), false},
		{"money garbage", money, "$", nil, true},
	})
}

func TestConvertTemporal(t *testing.T) {
	t.Parallel()
	runConvCases(t, []convCase{
		{"date epoch", conv(pgtype.DateOID, -1), "1970-01-01", event.Date(0), false},
		{"date", conv(pgtype.DateOID, -1), "2024-02-29", event.Date(19782), false},
		{"date before epoch", conv(pgtype.DateOID, -1), "1969-12-31", event.Date(-1), false},
		{"date BC", conv(pgtype.DateOID, -1), "0001-01-01 BC", event.Date(-719528), false},
		{"date far future", conv(pgtype.DateOID, -1), "10000-01-01", event.Date(2932897), false},
		{"date infinity", conv(pgtype.DateOID, -1), "infinity", "infinity", false},
		{"date -infinity", conv(pgtype.DateOID, -1), "-infinity", "-infinity", false},
		{"date bad month", conv(pgtype.DateOID, -1), "2024-13-01", nil, true},
		{"date garbage", conv(pgtype.DateOID, -1), "2024-01-0x", nil, true},
		{"time", conv(pgtype.TimeOID, -1), "03:04:05.123456", event.MicroTime(11045123456), false},
		{"time short fraction", conv(pgtype.TimeOID, -1), "00:00:01.5", event.MicroTime(1500000), false},
		{"time midnight boundary", conv(pgtype.TimeOID, -1), "24:00:00", event.MicroTime(86400000000), false},
		{"time bad", conv(pgtype.TimeOID, -1), "25:00:00", nil, true},
		{"time 7 fraction digits", conv(pgtype.TimeOID, -1), "00:00:00.1234567", nil, true},
		{"timetz utc", conv(pgtype.TimetzOID, -1), "15:04:05.5+00", "15:04:05.5Z", false},
		{"timetz offset", conv(pgtype.TimetzOID, -1), "15:04:05+02", "13:04:05Z", false},
		{"timetz wraps", conv(pgtype.TimetzOID, -1), "01:00:00+05:30", "19:30:00Z", false},
		{"timetz negative offset wraps", conv(pgtype.TimetzOID, -1), "23:00:00.000001-02", "01:00:00.000001Z", false},
		{"timetz seconds offset", conv(pgtype.TimetzOID, -1), "12:00:00+00:00:30", "11:59:30Z", false},
		{"timetz boundary is midnight", conv(pgtype.TimetzOID, -1), "24:00:00+00", "00:00:00Z", false}, // as Debezium
		{"timetz boundary west", conv(pgtype.TimetzOID, -1), "24:00:00-01", "01:00:00Z", false},
		{"timetz boundary east", conv(pgtype.TimetzOID, -1), "24:00:00+01", "23:00:00Z", false},
		{"timetz missing offset", conv(pgtype.TimetzOID, -1), "12:00:00", nil, true},
		{"timestamp", conv(pgtype.TimestampOID, -1), "2024-01-02 03:04:05.123456", event.MicroTimestamp(1704164645123456), false},
		{"timestamp before epoch", conv(pgtype.TimestampOID, -1), "1969-12-31 23:59:59.5", event.MicroTimestamp(-500000), false},
		{"timestamp BC", conv(pgtype.TimestampOID, -1), "0001-12-31 00:00:00 BC", event.MicroTimestamp(-62135683200000000), false},
		{"timestamp infinity", conv(pgtype.TimestampOID, -1), "infinity", "infinity", false},
		{"timestamp trailing junk", conv(pgtype.TimestampOID, -1), "2024-01-02 03:04:05+00", nil, true},
		{"timestamptz utc", conv(pgtype.TimestamptzOID, -1), "2024-01-02 03:04:05.123456+00", "2024-01-02T03:04:05.123456Z", false},
		{"timestamptz pads to 6 digits", conv(pgtype.TimestamptzOID, -1), "2024-01-02 03:04:05.5+00", "2024-01-02T03:04:05.500000Z", false},
		{"timestamptz whole second", conv(pgtype.TimestamptzOID, -1), "2024-01-02 03:04:05+00", "2024-01-02T03:04:05.000000Z", false},
		{"timestamptz(3) pads to 3", conv(pgtype.TimestamptzOID, 3), "2024-01-02 03:04:05.5+00", "2024-01-02T03:04:05.500Z", false},
		{"timestamptz(1)", conv(pgtype.TimestamptzOID, 1), "1969-12-31 23:59:59.9+00", "1969-12-31T23:59:59.9Z", false},
		{"timestamptz(0) no fraction", conv(pgtype.TimestamptzOID, 0), "2024-01-02 03:04:05+00", "2024-01-02T03:04:05Z", false},
		{"timestamptz offset crosses day", conv(pgtype.TimestamptzOID, -1), "2024-01-01 01:00:00+05:30", "2023-12-31T19:30:00.000000Z", false},
		{"timestamptz LMT offset", conv(pgtype.TimestamptzOID, -1), "1850-01-01 00:00:00-04:56:02", "1850-01-01T04:56:02.000000Z", false},
		{"timestamptz BC", conv(pgtype.TimestamptzOID, 0), "0044-03-15 12:00:00+00 BC", "-0043-03-15T12:00:00Z", false},
		{"timestamptz year 10000", conv(pgtype.TimestamptzOID, 0), "10000-01-01 00:00:00+00", "+10000-01-01T00:00:00Z", false},
		{"timestamptz -infinity", conv(pgtype.TimestamptzOID, -1), "-infinity", "-infinity", false},
		{"timestamptz no offset", conv(pgtype.TimestamptzOID, -1), "2024-01-02 03:04:05", nil, true},
	})
}

func TestConvertBits(t *testing.T) {
	t.Parallel()
	runConvCases(t, []convCase{
		{"bit(1) one", conv(pgtype.BitOID, 1), "1", true, false},
		{"bit(1) zero", conv(pgtype.BitOID, 1), "0", false, false},
		{"varbit(1)", conv(pgtype.VarbitOID, 1), "1", true, false},
		{"bit(1) bad", conv(pgtype.BitOID, 1), "2", nil, true},
		// bit 0 is the rightmost character: 10110 = 0x16.
		{"bit(5)", conv(pgtype.BitOID, 5), "10110", event.Bits{Len: 5, Bytes: []byte{0x16}}, false},
		// 1000000001 = 0x201, little-endian bytes 01 02.
		{"bit(10)", conv(pgtype.BitOID, 10), "1000000001", event.Bits{Len: 10, Bytes: []byte{0x01, 0x02}}, false},
		// high zero bytes are dropped, as BitSet.toByteArray does.
		{"bit(16) small value", conv(pgtype.BitOID, 16), "0000000000000011", event.Bits{Len: 16, Bytes: []byte{0x03}}, false},
		{"bit all zero", conv(pgtype.BitOID, 3), "000", event.Bits{Len: 3, Bytes: []byte{}}, false},
		{"varbit unlimited", conv(pgtype.VarbitOID, -1), "101", event.Bits{Len: 3, Bytes: []byte{0x05}}, false},
		{"varbit empty", conv(pgtype.VarbitOID, -1), "", event.Bits{Len: 0, Bytes: []byte{}}, false},
		{"bits bad", conv(pgtype.VarbitOID, -1), "10a", nil, true},
	})
}

func TestConvertArrays(t *testing.T) {
	t.Parallel()
	ints := arrayConverter(convInt32, ',')
	texts := arrayConverter(convString, ',')
	nums := arrayConverter(numericConverter(numericTypmod(5, 1)), ',')
	boxes := arrayConverter(convString, ';')
	enums := arrayConverter(convEnum, ',')
	runConvCases(t, []convCase{
		{"int4[]", ints, "{1,2,3}", []any{int32(1), int32(2), int32(3)}, false},
		{"empty", ints, "{}", []any{}, false},
		{"null element", ints, "{1,NULL,3}", []any{int32(1), nil, int32(3)}, false},
		{"null any case", ints, "{null}", []any{nil}, false},
		{"nested", ints, "{{1,2},{3,4}}", []any{[]any{int32(1), int32(2)}, []any{int32(3), int32(4)}}, false},
		{"dimension prefix", ints, "[0:1]={7,8}", []any{int32(7), int32(8)}, false},
		{"spaces", ints, " { 1 , 2 } ", []any{int32(1), int32(2)}, false},
		{"quoted strings", texts, `{"a,b","c\"d","e\\f",plain}`, []any{"a,b", `c"d`, `e\f`, "plain"}, false},
		{"quoted NULL is a string", texts, `{"NULL",NULL}`, []any{"NULL", nil}, false},
		{"empty quoted", texts, `{""}`, []any{""}, false},
		{"unquoted escape", texts, `{a\,b}`, []any{"a,b"}, false},
		{"inner spaces kept", texts, `{a b}`, []any{"a b"}, false},
		{"numeric(5,1)[]", nums, "{1.5,-2.0}", []any{dec("15", 1), dec("-20", 1)}, false},
		{"box[] uses ;", boxes, "{(1,1),(0,0);(2,2),(1,1)}", []any{"(1,1),(0,0)", "(2,2),(1,1)"}, false},
		{"enum[]", enums, "{happy,sad}", []any{event.Enum("happy"), event.Enum("sad")}, false},
		{"timetz[] boundary is midnight", arrayConverter(convTimetz, ','), `{24:00:00+00,"12:00:00.5+05:30"}`,
			[]any{"00:00:00Z", "06:30:00.5Z"}, false},
		{"element error", ints, "{1,x}", nil, true},
		{"unterminated", ints, "{1,2", nil, true},
		{"unterminated quote", texts, `{"abc}`, nil, true},
		{"missing brace", ints, "1,2", nil, true},
		{"trailing garbage", ints, "{1}x", nil, true},
		{"empty element", ints, "{1,,2}", nil, true},
		{"too deep", ints, "{{{{{{{1}}}}}}}", nil, true},
	})
}
