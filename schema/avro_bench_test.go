package schema

import (
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// BenchmarkEncodeAvro encodes an insert of the 6-column row of
// BenchmarkEncodeJSON (bigint, int, text, numeric(12,2), jsonb, timestamptz)
// once its schemas are registered: the per-event cost of the hot path.
func BenchmarkEncodeAvro(b *testing.B) {
	ta := newTestAvro(b, registry.Backward)
	ch := change(event.OpCreate, ordersRel(), nil, ordersRow(123456, "a short note about the order"))
	mustEncode(b, ta.enc, ch) // registers the schemas
	b.ReportAllocs()
	var n int
	for b.Loop() {
		recs, err := ta.enc.Encode(ch)
		if err != nil {
			b.Fatal(err)
		}
		n = len(recs[0].Value)
	}
	b.SetBytes(int64(n))
}

// BenchmarkEncodeAvroUpdate encodes an update with both images.
func BenchmarkEncodeAvroUpdate(b *testing.B) {
	ta := newTestAvro(b, registry.Backward)
	ch := change(event.OpUpdate, ordersRel(), ordersRow(123456, "before"), ordersRow(123456, "a short note about the order"))
	mustEncode(b, ta.enc, ch)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ta.enc.Encode(ch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeAvroDelete encodes a delete with its tombstone.
func BenchmarkEncodeAvroDelete(b *testing.B) {
	ta := newTestAvro(b, registry.Backward)
	ch := change(event.OpDelete, ordersRel(), ordersRow(123456, "a short note about the order"), nil)
	mustEncode(b, ta.enc, ch)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ta.enc.Encode(ch); err != nil {
			b.Fatal(err)
		}
	}
}
