package schema

import (
	"encoding/json"
	"math"
	"testing"
)

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`q"uote`, `"q\"uote"`},
		{`back\slash`, `"back\\slash"`},
		{"/slash", `"/slash"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001F"`},
		{"\x7f", "\"\x7f\""},
		{"<html>&", `"<html>&"`},
		{"é日本😀", `"é日本😀"`},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		{"\uFFFD", "\"\uFFFD\""},
		{"a\xffb", `"a\ufffdb"`},
		{"\xe6\x97", `"\ufffd\ufffd"`},           // truncated 3-byte sequence
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`}, // UTF-8-encoded surrogate
		{"\xc0\xaf", `"\ufffd\ufffd"`},           // overlong '/'
		{"end\xf0", `"end\ufffd"`},
	}
	for _, c := range cases {
		got := string(appendJSONString(nil, c.in))
		if got != c.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", c.in, got, c.want)
		}
		checkStringRoundTrip(t, c.in, []byte(got))
	}
}

// checkStringRoundTrip asserts that enc is valid JSON decoding to s, with each
// byte of invalid UTF-8 replaced by U+FFFD.
func checkStringRoundTrip(t testing.TB, s string, enc []byte) {
	t.Helper()
	if !json.Valid(enc) {
		t.Fatalf("invalid JSON for %q: %s", s, enc)
	}
	var back string
	if err := json.Unmarshal(enc, &back); err != nil {
		t.Fatalf("decode %s: %v", enc, err)
	}
	if want := string([]rune(s)); back != want {
		t.Fatalf("round trip of %q = %q, want %q", s, back, want)
	}
}

func TestAppendJSONStringAllBytes(t *testing.T) {
	t.Parallel()
	for c := 0; c < 256; c++ {
		s := string([]byte{'a', byte(c), 'z'})
		checkStringRoundTrip(t, s, appendJSONString(nil, s))
	}
}

func TestAppendJSONFloat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		f    float64
		bits int
		want string
	}{
		// Expectations are Java 25's Double.toString / Float.toString.
		{0, 64, "0.0"},
		{math.Copysign(0, -1), 64, "-0.0"},
		{1, 64, "1.0"},
		{-2, 64, "-2.0"},
		{10, 64, "10.0"},
		{100, 64, "100.0"},
		{-2.5, 64, "-2.5"},
		{19.99, 64, "19.99"},
		{0.30000000000000004, 64, "0.30000000000000004"},
		{0.001, 64, "0.001"},
		{0.00099999, 64, "9.9999E-4"},
		{-0.0001, 64, "-1.0E-4"},
		{1e-5, 64, "1.0E-5"},
		{1.5e-5, 64, "1.5E-5"},
		{9999999, 64, "9999999.0"},
		{9999999.999999998, 64, "9999999.999999998"},
		{1234567.125, 64, "1234567.125"},
		{1e7, 64, "1.0E7"},
		{16777216, 64, "1.6777216E7"},
		{123456789012, 64, "1.23456789012E11"},
		{1e21, 64, "1.0E21"},
		{1e23, 64, "1.0E23"},
		{2e23, 64, "2.0E23"},
		{1e-7, 64, "1.0E-7"},
		{5e-324, 64, "4.9E-324"},
		{1e-323, 64, "9.9E-324"},
		{2.2250738585072014e-308, 64, "2.2250738585072014E-308"},
		{math.MaxFloat64, 64, "1.7976931348623157E308"},
		{float64(float32(0.1)), 32, "0.1"},
		{float64(float32(3.14159265)), 32, "3.1415927"},
		{float64(float32(16777217)), 32, "1.6777216E7"},
		{float64(float32(9999999)), 32, "9999999.0"},
		{-2, 32, "-2.0"},
		{float64(float32(3.4028235e38)), 32, "3.4028235E38"},
		{float64(math.Float32frombits(1)), 32, "1.4E-45"},
		{float64(float32(1.17549435e-38)), 32, "1.1754944E-38"},
		{math.NaN(), 64, `"NaN"`},
		{math.Inf(1), 32, `"Infinity"`},
		{math.Inf(-1), 64, `"-Infinity"`},
	}
	for _, c := range cases {
		got := string(appendJSONFloat(nil, c.f, c.bits))
		if got != c.want {
			t.Errorf("appendJSONFloat(%v, %d) = %s, want %s", c.f, c.bits, got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%s is not valid JSON", got)
		}
	}
}
