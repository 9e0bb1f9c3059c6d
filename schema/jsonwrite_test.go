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
		{0, 64, "0"},
		{math.Copysign(0, -1), 64, "-0"},
		{1, 64, "1"},
		{-2.5, 64, "-2.5"},
		{123456789012, 64, "123456789012"},
		{1e20, 64, "100000000000000000000"},
		{1e21, 64, "1e+21"},
		{1e-6, 64, "0.000001"},
		{1e-7, 64, "1e-7"},
		{5e-324, 64, "5e-324"},
		{math.MaxFloat64, 64, "1.7976931348623157e+308"},
		{float64(float32(0.1)), 32, "0.1"},
		{float64(float32(3.4028235e38)), 32, "3.4028235e+38"},
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
