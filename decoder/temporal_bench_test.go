package decoder

import "testing"

// BenchmarkTimestamp converts one timestamp text value, as every change of
// a table with a timestamp column does.
func BenchmarkTimestamp(b *testing.B) {
	src := []byte("2024-01-02 03:04:05.123456")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := convTimestamp(src); err != nil {
			b.Fatal(err)
		}
	}
}
