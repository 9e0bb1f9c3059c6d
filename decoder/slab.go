package decoder

// The decoder hands out the changes it makes, and their rows' value slots,
// from slabs: one allocation per slab instead of two per row, which were a
// sixth of the decoder's allocations. A slab stays in memory while any
// change or row cut from it does, and with it what the others point to;
// changes are published and dropped in order, so that is a few slabs.
const (
	changeSlab = 64   // changes per slab
	valueSlab  = 1024 // value slots per slab
	valueMax   = 128  // rows wider than this get their own slots
)

// slabs holds what is left of the current slabs. Owned by the Decoder's
// goroutine, like the rest of it.
type slabs struct {
	changes []changeHolder
	values  []any
}

// change returns a zero change holder.
func (s *slabs) change() *changeHolder {
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
	if n > valueMax {
		return make([]any, n)
	}
	if len(s.values) < n {
		s.values = make([]any, valueSlab)
	}
	v := s.values[:n:n]
	s.values = s.values[n:]
	return v
}
