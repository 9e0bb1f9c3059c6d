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
