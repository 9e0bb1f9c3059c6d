package decoder

import "testing"

// TestSlabs: rows and changes handed out across several slabs are distinct,
// keep what was written to them, and a row's capacity ends at its length,
// so appending to one never writes into the next; wide rows are their own.
func TestSlabs(t *testing.T) {
	var s slabs
	var rows [][]any
	for i := 0; i < 3*valueSlab/7; i++ {
		r := s.row(7)
		if len(r) != 7 || cap(r) != 7 {
			t.Fatalf("row %d: len %d cap %d, want 7 and 7", i, len(r), cap(r))
		}
		for j := range r {
			if r[j] != nil {
				t.Fatalf("row %d slot %d not empty: %v", i, j, r[j])
			}
			r[j] = i*10 + j
		}
		_ = append(r, "x") // must reallocate
		rows = append(rows, r)
	}
	for i, r := range rows {
		for j := range r {
			if r[j] != i*10+j {
				t.Fatalf("row %d slot %d = %v, want %d", i, j, r[j], i*10+j)
			}
		}
	}
	if wide := s.row(valueMax + 1); len(wide) != valueMax+1 {
		t.Fatalf("wide row has %d slots", len(wide))
	}
	seen := map[*changeHolder]bool{}
	var hs []*changeHolder
	for i := 0; i < 3*changeSlab; i++ {
		h := s.change()
		if seen[h] || h.c.Op != 0 {
			t.Fatalf("change %d handed out twice or not zero", i)
		}
		seen[h] = true
		h.c.Ordinal = uint32(i)
		hs = append(hs, h)
	}
	for i, h := range hs {
		if h.c.Ordinal != uint32(i) {
			t.Fatalf("change %d has ordinal %d: another change's write", i, h.c.Ordinal)
		}
	}
}

// TestSlabsTake: a message larger than ownBytes takes a change and slots of
// its own and leaves the slabs as they were; smaller ones share the slabs
// until they carry slabBytes, and the message past that starts new ones.
func TestSlabsTake(t *testing.T) {
	var s slabs
	s.take(100)
	first := s.row(2)
	values, changes := len(s.values), len(s.changes)
	s.change()
	changes = len(s.changes)

	s.take(ownBytes + 1)
	own := s.row(2)
	h := s.change()
	if len(s.values) != values || len(s.changes) != changes {
		t.Fatalf("a %d-byte message took from the slabs: %d values and %d changes left, want %d and %d",
			ownBytes+1, len(s.values), len(s.changes), values, changes)
	}
	if &own[0] == &first[0] || h == nil || cap(own) != 2 {
		t.Fatal("a large message's row is not its own")
	}

	s.take(ownBytes)
	if len(s.values) != values || s.row(2) == nil || len(s.values) != values-2 {
		t.Fatalf("a %d-byte message did not take from the current slab", ownBytes)
	}
	for n := 100 + ownBytes; n+ownBytes <= slabBytes; n += ownBytes {
		s.take(ownBytes)
	}
	if s.values == nil {
		t.Fatal("slabs let go before they carried slabBytes")
	}
	s.take(ownBytes)
	if s.values != nil || s.changes != nil || s.bytes != ownBytes {
		t.Fatalf("slabs past slabBytes kept: %d values, %d changes, %d bytes", len(s.values), len(s.changes), s.bytes)
	}
}
