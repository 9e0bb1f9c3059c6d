package decoder

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// BenchmarkDecodeInsert decodes an insert of a 6-column row (bigint, int,
// text, numeric(12,2), jsonb, timestamptz) and reports allocations per event.
func BenchmarkDecodeInsert(b *testing.B) {
	const oid = 16500
	d := New(Options{})
	ctx := context.Background()
	rel := relMsg(oid, "public", "orders", 'd',
		wcol{1, "id", pgtype.Int8OID, -1},
		wcol{0, "qty", pgtype.Int4OID, -1},
		wcol{0, "customer", pgtype.TextOID, -1},
		wcol{0, "amount", pgtype.NumericOID, numericTypmod(12, 2)},
		wcol{0, "attrs", pgtype.JSONBOID, -1},
		wcol{0, "created_at", pgtype.TimestamptzOID, -1},
	)
	row := insertMsg(oid, txt("1234567"), txt("42"), txt("ACME Corporation"), txt("1234.50"),
		txt(`{"channel": "web", "priority": 2}`), txt("2024-01-02 03:04:05.123456+00"))
	if _, err := d.Decode(ctx, 1, rel); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Decode(ctx, 2, beginMsg(1, 1, commitAt)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(row)))
	for b.Loop() {
		r, err := d.Decode(ctx, 3, row)
		if err != nil || len(r.Changes) != 1 {
			b.Fatal(err)
		}
	}
}

// BenchmarkTimestamptz converts one timestamptz text value, as every change
// of a table with a timestamptz column does.
func BenchmarkTimestamptz(b *testing.B) {
	conv := timestamptzConverter(-1)
	src := []byte("2024-01-02 03:04:05.123456+00")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conv(src); err != nil {
			b.Fatal(err)
		}
	}
}
