package schema

import "sync"

// arenaChunk is the size of the chunks an arena carves records' bytes from.
// A chunk stays in memory while any record cut from it does; with records
// acknowledged in order, that is at most a chunk per partition writer.
const arenaChunk = 256 << 10

// arenaMax is the largest copy an arena takes from a chunk; larger ones get
// their own allocation, so one huge row neither wastes nor pins a chunk.
const arenaMax = arenaChunk / 8

// arena hands out the bytes of encoded records from shared chunks: one
// allocation per chunk instead of one per event, which was a tenth of the
// encoder's cost. Safe for concurrent use (snapshot workers share encoders).
type arena struct {
	mu    sync.Mutex
	chunk []byte // len = bytes handed out; cap = chunk size
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
