package event

import (
	"slices"
	"testing"
)

// TestKeyColumns: KeyColumns lists the key columns in KeyOrder's order when
// it is set, in column order otherwise, and appending to its result never
// writes into the relation's KeyOrder.
func TestKeyColumns(t *testing.T) {
	t.Parallel()
	r := &Relation{Columns: []Column{{Name: "sku", Key: true}, {Name: "wh", Key: true}, {Name: "qty"}}}
	if got := r.KeyColumns(); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("KeyOrder nil: KeyColumns %v, want [0 1]", got)
	}
	r.KeyOrder = make([]int, 2, 8)
	r.KeyOrder[0], r.KeyOrder[1] = 1, 0
	got := r.KeyColumns()
	if !slices.Equal(got, []int{1, 0}) {
		t.Errorf("KeyOrder [1 0]: KeyColumns %v, want [1 0]", got)
	}
	_ = append(got, 2)
	if r.KeyOrder[:3][2] != 0 {
		t.Errorf("appending to KeyColumns' result wrote into KeyOrder's array")
	}
	if (&Relation{Columns: []Column{{Name: "a"}}}).KeyColumns() != nil {
		t.Error("a keyless relation has key columns")
	}
}
