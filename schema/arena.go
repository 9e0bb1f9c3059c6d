package schema

import (
	"sync"

	"github.com/walrelay/walrelay/event"
)

// arenaChunk is the size of the chunks an arena carves records' bytes from.
// A chunk stays in memory while any record cut from it does; with records
// acknowledged in order, that is at most a chunk per partition writer.
const arenaChunk = 256 << 10

// arenaMax is the largest copy an arena takes from a chunk; larger ones get
// their own allocation, so one huge row neither wastes nor pins a chunk.
const arenaMax = arenaChunk / 8

// slabBlocks is the number of one-record blocks an arena allocates at once.
// A slab (about 20 KiB) stays in memory while any record cut from it does,
// and with it the bytes its records point to, acknowledged or not: the
// arena's own reference to its current slab keeps them while idle. So only
// records whose bytes come from a chunk come from a slab, and a slab holds
// at most arenaChunk bytes of records (a new one starts past that): a slab
// keeps at most two chunks in memory, whatever the size of the largest row
// (invariant 5), and a larger record goes once it is acknowledged.
const slabBlocks = 64

// arena hands out the bytes of encoded records from shared chunks, and the
// records of one-record changes (with their headers) from shared slabs: one
// allocation per chunk or slab instead of one or two per event, which were a
// tenth and another tenth of the encoder's cost. Safe for concurrent use
// (snapshot workers share encoders).
type arena struct {
	mu    sync.Mutex
	chunk []byte         // len = bytes handed out; cap = chunk size
	slab  []recordBlock1 // blocks not yet handed out
	fill  int            // bytes of the records cut from the current slab
}

// copyOf returns a copy of b whose capacity is clipped to its length, so
// appending to it can never overwrite another record's bytes.
func (a *arena) copyOf(b []byte) []byte {
	n := len(b)
	if n > arenaMax {
		return append(make([]byte, 0, n), b...)
	}
	a.mu.Lock()
	if cap(a.chunk)-len(a.chunk) < n {
		a.chunk = make([]byte, 0, arenaChunk)
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	out := a.chunk[start : start+n : start+n]
	a.mu.Unlock()
	return out
}

// records returns n (0, 1 or 2) zero records and n*numHeaders zero headers
// for records of size bytes in all, a single record of at most arenaMax
// bytes from a's slab. Capacities are clipped, so appending to one block's
// headers never overwrites another's.
func (a *arena) records(n, size int) ([]event.Record, []event.Header) {
	if n != 1 || size > arenaMax {
		return newRecords(n)
	}
	a.mu.Lock()
	a.fill += size
	if len(a.slab) == 0 || a.fill > arenaChunk {
		a.slab, a.fill = make([]recordBlock1, slabBlocks), size
	}
	blk := &a.slab[0]
	a.slab = a.slab[1:]
	a.mu.Unlock()
	return blk.recs[:], blk.hdrs[:]
}
