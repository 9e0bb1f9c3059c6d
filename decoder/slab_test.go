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
