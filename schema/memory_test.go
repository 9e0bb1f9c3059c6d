package schema

import (
	"runtime"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// TestPublishedRecordsLeaveMemory: once the records an encoder returned are
// dropped (acknowledged), the encoder keeps less than 512 KiB of them (two
// arena chunks), however large they are, so not even one of these: 63
// inserts with a 1 MiB text value, or 1,983 with a 24 KiB one (records cut
// from chunks), encoded as JSON or Avro. Both counts leave the current
// record slab one record short of full. Not parallel: it measures the process's heap.
func TestPublishedRecordsLeaveMemory(t *testing.T) {
	const bound = 2 * arenaChunk
	encoders := []struct {
		name string
		new  func(t *testing.T) Encoder
	}{
		{"json", func(*testing.T) Encoder { return NewJSON(testOptions()) }},
		{"avro", func(t *testing.T) Encoder { return newTestAvro(t, registry.Backward).enc }},
	}
	sizes := []struct {
		name       string
		rows, size int
	}{
		{"1 MiB", slabBlocks - 1, 1 << 20},
		{"24 KiB", 31*slabBlocks - 1, 24 << 10},
	}
	for _, e := range encoders {
		for _, sz := range sizes {
			t.Run(e.name+" "+sz.name, func(t *testing.T) {
				enc := e.new(t)
				mustEncode(t, enc, change(event.OpCreate, ordersRel(), nil, ordersRow(1, "warm-up"))) // registers schemas
				note := strings.Repeat("n", sz.size)
				before := liveHeap()
				for i := range sz.rows {
					recs := mustEncode(t, enc, change(event.OpCreate, ordersRel(), nil, ordersRow(int64(i), note)))
					if len(recs) != 1 || len(recs[0].Value) < sz.size {
						t.Fatalf("row %d: %d records, value of %d bytes; want 1 of at least %d", i, len(recs), len(recs[0].Value), sz.size)
					}
				}
				kept := liveHeap() - before
				runtime.KeepAlive(note)
				t.Logf("%d records of %d bytes: %d KiB kept", sz.rows, sz.size, kept>>10)
				if kept > bound {
					t.Errorf("after %d records of %d KiB were encoded and dropped, the encoder keeps %d KiB; want under %d KiB",
						sz.rows, sz.size>>10, kept>>10, bound>>10)
				}
				runtime.KeepAlive(enc)
			})
		}
	}
}

// liveHeap returns the bytes of live heap objects after two full
// collections (the second empties sync.Pool's victim cache).
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
