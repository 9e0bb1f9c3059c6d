package schema

import (
	"encoding/hex"
	"math/big"
	"math/rand"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// Java BigInteger.valueOf(n).toByteArray() / new BigInteger(s).toByteArray().
var bigIntegerVectors = []struct {
	n    string
	want string // hex
}{
	{"0", "00"},
	{"1", "01"},
	{"127", "7f"},
	{"128", "0080"},
	{"255", "00ff"},
	{"256", "0100"},
	{"32767", "7fff"},
	{"32768", "008000"},
	{"-1", "ff"},
	{"-128", "80"},
	{"-129", "ff7f"},
	{"-255", "ff01"},
	{"-256", "ff00"},
	{"-32768", "8000"},
	{"-32769", "ff7fff"},
	{"9223372036854775807", "7fffffffffffffff"},
	{"-9223372036854775808", "8000000000000000"},
	{"9223372036854775808", "008000000000000000"},
	{"-9223372036854775809", "ff7fffffffffffffff"},
	{"18446744073709551616", "010000000000000000"},
}

func TestTwosComplementVectors(t *testing.T) {
	t.Parallel()
	for _, v := range bigIntegerVectors {
		n, _ := new(big.Int).SetString(v.n, 10)
		if got := hex.EncodeToString(appendBigBytes(nil, n)); got != v.want {
			t.Errorf("appendBigBytes(%s) = %s, want %s", v.n, got, v.want)
		}
		if n.IsInt64() {
			if got := hex.EncodeToString(appendInt64Bytes(nil, n.Int64())); got != v.want {
				t.Errorf("appendInt64Bytes(%s) = %s, want %s", v.n, got, v.want)
			}
		}
		got, err := appendUnscaled(nil, event.Decimal{Unscaled: n}, 0)
		if err != nil || hex.EncodeToString(got) != v.want {
			t.Errorf("appendUnscaled(%s) = %x, %v; want %s", v.n, got, err, v.want)
		}
	}
}

// fromTwosComplement is the reading side (Java's new BigInteger(byte[])).
func fromTwosComplement(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x
}

// TestTwosComplementRoundTrip checks, for random values of every size, that
// the bytes read back to the value and are minimal: dropping the first byte
// would change the value (Java's toByteArray property).
func TestTwosComplementRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		n := new(big.Int).Rand(r, new(big.Int).Lsh(big.NewInt(1), uint(r.Intn(200))))
		if r.Intn(2) == 0 {
			n.Neg(n)
		}
		b := appendBigBytes(nil, n)
		if fromTwosComplement(b).Cmp(n) != 0 {
			t.Fatalf("%s -> %x does not read back", n, b)
		}
		if len(b) > 1 && fromTwosComplement(b[1:]).Cmp(n) == 0 {
			t.Fatalf("%s -> %x is not minimal", n, b)
		}
		if n.IsInt64() {
			if b2 := appendInt64Bytes(nil, n.Int64()); string(b2) != string(b) {
				t.Fatalf("%s: int64 path %x, big path %x", n, b2, b)
			}
		}
	}
}

func TestRescale(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d     event.Decimal
		scale int32
		want  string // the unscaled value at scale, or "" for ErrDecimalScale
	}{
		{dec(125, 1), 2, "1250"},
		{dec(1250, 2), 2, "1250"},
		{dec(1200, 2), 0, "12"},
		{dec(1250, 2), 0, ""},
		{dec(-125, 1), 3, "-12500"},
		{dec(9223372036854775807, 0), 1, "92233720368547758070"},
		{dec(1, 0), 30, "1000000000000000000000000000000"},
		{bigDec("100000000000000000000000", 0), -20, "1000"},
		{bigDec("100000000000000000000001", 0), -20, ""},
	}
	for _, c := range cases {
		b, err := appendUnscaled(nil, c.d, c.scale)
		if c.want == "" {
			if err == nil {
				t.Errorf("%s at scale %d: no error", c.d.String(), c.scale)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s at scale %d: %v", c.d.String(), c.scale, err)
			continue
		}
		if got := fromTwosComplement(b).String(); got != c.want {
			t.Errorf("%s at scale %d = %s, want %s", c.d.String(), c.scale, got, c.want)
		}
	}
}

func TestNumericTypmod(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typmod     int32
		p, s       int32
		ok         bool
		variable   bool
		columnType string
	}{
		{-1, 0, 0, false, true, "numeric"},
		{786438, 12, 2, true, false, "numeric"}, // numeric(12,2) as Postgres stores it
		{numericTypmodOf(5, -2), 5, -2, true, false, "numeric"},
		{numericTypmodOf(1000, 1000), 1000, 1000, true, false, "numeric"},
		{numericTypmodOf(3, 0), 3, 0, true, false, "_numeric"},
	}
	for _, c := range cases {
		p, s, ok := numericTypmod(c.typmod)
		if p != c.p || s != c.s || ok != c.ok {
			t.Errorf("numericTypmod(%d) = %d,%d,%v; want %d,%d,%v", c.typmod, p, s, ok, c.p, c.s, c.ok)
		}
		r := decimalReprOf(col(c.columnType, c.typmod))
		if r.variable != c.variable || !r.variable && r.scale != max(c.s, 0) { // a negative scale counts as 0

			t.Errorf("decimalReprOf(%s, %d) = %+v", c.columnType, c.typmod, r)
		}
	}
	if r := decimalReprOf(&event.Column{TypeOID: moneyOID, TypeName: "money", TypeMod: -1}); r.variable || r.scale != 2 {
		t.Errorf("money = %+v, want fixed scale 2", r)
	}
}

// TestStripTrailingZeros: VariableScaleDecimal values lose their fraction's
// trailing zeros, as BigDecimal.stripTrailingZeros, on both integer paths.
func TestStripTrailingZeros(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, want event.Decimal
	}{
		{dec(314000, 5), dec(314, 2)},
		{dec(-150, 2), dec(-15, 1)},
		{dec(0, 3), dec(0, 0)},
		{dec(100, 0), dec(100, 0)},
		{dec(7, 2), dec(7, 2)},
		{bigDec("1234567890123456789012345678900000", 5), bigDec("12345678901234567890123456789", 0)},
		{bigDec("1234567890123456789012345678900010", 5), bigDec("123456789012345678901234567890001", 4)},
		{bigDec("-1000000000000000000000000000000", 30), dec(-1, 0)},
	} {
		got := stripTrailingZeros(c.in)
		if got.Scale != c.want.Scale || got.Unscaled.Cmp(c.want.Unscaled) != 0 {
			t.Errorf("stripTrailingZeros(%s at scale %d) = %s at scale %d, want %s at scale %d",
				c.in.Unscaled, c.in.Scale, got.Unscaled, got.Scale, c.want.Unscaled, c.want.Scale)
		}
	}
}
