package schema

import (
	"testing"

	"github.com/walrelay/walrelay/event"
)

// BenchmarkEncodeJSON encodes an insert of a 6-column row (bigint, int, text,
// numeric(12,2), jsonb, timestamptz).
func BenchmarkEncodeJSON(b *testing.B) {
	e := NewJSON(testOptions())
	ch := change(event.OpCreate, ordersRel(), nil, ordersRow(123456, "a short note about the order"))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		recs, err := e.Encode(ch)
		if err != nil {
			b.Fatal(err)
		}
		n = len(recs[0].Value)
	}
	b.SetBytes(int64(n))
}

// BenchmarkEncodeJSONDelete encodes a delete with its tombstone.
func BenchmarkEncodeJSONDelete(b *testing.B) {
	e := NewJSON(testOptions())
	ch := change(event.OpDelete, ordersRel(), ordersRow(123456, "a short note about the order"), nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Encode(ch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendJSONString escapes a jsonb document (quotes to escape), a
// short text and a longer plain text, as the JSON encoder does per row.
func BenchmarkAppendJSONString(b *testing.B) {
	inputs := []string{`{"channel": "web", "priority": 2, "tags": ["a", "b"]}`, "ACME Corporation",
		"a short note about the order that runs on for a while, as notes do"}
	n := 0
	for _, s := range inputs {
		n += len(s)
	}
	b.SetBytes(int64(n))
	buf := make([]byte, 0, 512)
	for b.Loop() {
		buf = buf[:0]
		for _, s := range inputs {
			buf = appendJSONString(buf, s)
		}
	}
}

// BenchmarkAppendJSONFloat writes float8 and float4 values of each shape the
// JSON encoder meets: integral (a price of 10.0), fractional, tiny, large,
// zero and negative.
func BenchmarkAppendJSONFloat(b *testing.B) {
	f64 := []float64{10, 19.99, -2, 0, 1.5e-5, 16777216, 123456.789, 1.7976931348623157e308}
	f32 := []float32{10, 0.1, -2.5, 16777217, 3.4028235e38}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for _, f := range f64 {
			buf = appendJSONFloat(buf, f, 64)
		}
		for _, f := range f32 {
			buf = appendJSONFloat(buf, float64(f), 32)
		}
	}
}
