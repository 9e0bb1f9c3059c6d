package decoder

// The decoder hands out the changes it makes, and their rows' value slots,
// from slabs: one allocation per slab instead of two per row, which were a
// sixth of the decoder's allocations. A slab stays in memory while any
// change or row cut from it does, and with it every value its slots point
// to, the published ones included: the decoder's own reference to its
// current slabs alone would keep up to valueSlab values alive while idle.
// So that this stays a small constant whatever the rows' size (invariant
// 5), the slabs carry at most slabBytes of messages: past that the decoder
// starts new ones, and a message larger than ownBytes takes none, its change
// and rows getting allocations of their own that go when it is published.
// Changes are published and dropped in order, so what stays in memory once
// they are is the current slabs, holding at most slabBytes of messages.
const (
	changeSlab = 64        // changes per slab
	valueSlab  = 1024      // value slots per slab
	valueMax   = 128       // rows wider than this get their own slots
	slabBytes  = 256 << 10 // message bytes decoded into one set of slabs
	ownBytes   = 32 << 10  // larger messages get their own change and slots
)

// slabs holds what is left of the current slabs. Owned by the Decoder's
// goroutine, like the rest of it.
type slabs struct {
	changes []changeHolder
	values  []any
	bytes   int  // size of the messages decoded into the current slabs
	own     bool // the message being decoded takes no slab (see take)
}

// take accounts for a message of size bytes that is about to be decoded:
// Decode calls it first for every message. A message larger than ownBytes
// will take its change and rows from allocations of its own; a smaller one
// from the slabs, new ones when the current slabs already carry slabBytes.
func (s *slabs) take(size int) {
	s.own = size > ownBytes
	if s.own {
		return
	}
	s.bytes += size
	if s.bytes > slabBytes {
		s.changes, s.values, s.bytes = nil, nil, size
	}
}

// change returns a zero change holder.
func (s *slabs) change() *changeHolder {
	if s.own {
		return new(changeHolder)
	}
	if len(s.changes) == 0 {
		s.changes = make([]changeHolder, changeSlab)
	}
	h := &s.changes[0]
	s.changes = s.changes[1:]
	return h
}

// row returns n nil value slots, with capacity n so appending to them never
// writes into the next row's.
func (s *slabs) row(n int) []any {
	if n > valueMax || s.own {
		return make([]any, n)
	}
	if len(s.values) < n {
		s.values = make([]any, valueSlab)
	}
	v := s.values[:n:n]
	s.values = s.values[n:]
	return v
}
