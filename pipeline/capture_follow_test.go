package pipeline

import (
	"slices"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/checkpoint"
)

// A catch-up recorded before its table was renamed is taken under the new
// name (its cursor too); one already taken (a boundary) keeps the old name,
// under which the changes before the rename stream.
func TestRenameCatchupTables(t *testing.T) {
	renames := map[string]string{"public.rn": "public.rn2"}
	cu := &checkpoint.Catchup{Tables: []string{"public.a", "public.rn"}, Current: "public.rn", After: []string{"7"}}
	next, changed := renameCatchupTables(cu, renames)
	if !changed || !slices.Equal(next.Tables, []string{"public.a", "public.rn2"}) || next.Current != "public.rn2" ||
		!slices.Equal(next.After, []string{"7"}) {
		t.Errorf("to take: got %+v, changed %v", next, changed)
	}
	if cu.Tables[1] != "public.rn" {
		t.Errorf("the recorded catch-up was modified: %v", cu.Tables)
	}
	taken := &checkpoint.Catchup{Tables: []string{"public.rn"}, Boundary: 100}
	if next, _ := renameCatchupTables(taken, renames); !slices.Equal(next.Tables, []string{"public.rn", "public.rn2"}) {
		t.Errorf("taken: got %v, want both names", next.Tables)
	}
	if _, changed := renameCatchupTables(&checkpoint.Catchup{Tables: []string{"public.a"}}, renames); changed {
		t.Error("a catch-up without renamed tables changed")
	}
}

// The error of a start whose postgres.tables names a renamed table names
// the new name, the OID and the fix.
func TestRenamedTableError(t *testing.T) {
	err := &RenamedTableError{Tables: []followedTable{{OID: 42, Listed: "public.rn", Name: "other.rn2"}}}
	for _, w := range []string{"public.rn", "other.rn2", "42", "set postgres.tables to other.rn2"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	if !sameTable("public.rn", "public.rn") || sameTable("public.rn", "public.rn2") {
		t.Error("sameTable")
	}
}
