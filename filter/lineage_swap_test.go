package filter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// swappedCat is public.m1 after `RENAME email TO tmp; RENAME phone TO
// email; RENAME tmp TO phone` made while walrelay was stopped: attnum 2,
// which held the emails, is now phone. dropped puts a column dropped
// before (attnum 2) ahead of them.
func swappedCat(dropped bool) []CatalogColumn {
	if dropped {
		return []CatalogColumn{catCol(1, "id", "int4"), droppedCol(2), catCol(3, "phone", "text"), catCol(4, "email", "text")}
	}
	return []CatalogColumn{catCol(1, "id", "int4"), catCol(2, "phone", "text"), catCol(3, "email", "text")}
}

// TestReconcileSwappedWhileStopped: two column names swapped while
// walrelay was stopped, email masked. Reconciled with the catalog at start,
// the lineage pairs the saved columns with the catalog's, so both the row
// from before the swap replayed from the checkpoint and the row after it
// halt instead of publishing the old emails under phone in plain text:
// with the attnums saved (a column dropped before or not), and without them
// when the table never dropped a column (every saved column is still
// there, in order, and none was added: pairing by position is exact).
func TestReconcileSwappedWhileStopped(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		saved *LineageState
		cat   []CatalogColumn
	}{
		{"attnums", m1State([]int16{1, 2, 3}, "id:int4", "email:text", "phone:text"), swappedCat(false)},
		{"attnums, a column dropped before", m1State([]int16{1, 3, 4}, "id:int4", "email:text", "phone:text"), swappedCat(true)},
		{"no attnums, nothing dropped", m1State(nil, "id:int4", "email:text", "phone:text"), swappedCat(false)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			before := at(ins(rel("public.m1", "id:int4*", "email:text", "phone:text"), int32(2), "old2@x", "555-2"), 0x200)
			d, err := seededFrom(t, c.saved, maskedRule, c.cat).Apply(before)
			noPlain(t, "replayed row 2", d, "old2@x")
			requireSwapHalt(t, "replayed row 2", err)

			after := at(ins(rel("public.m1", "id:int4*", "phone:text", "email:text"), int32(3), "old3@x", "555-3"), 0x300)
			d, err = seededFrom(t, c.saved, maskedRule, c.cat).Apply(after)
			noPlain(t, "row 3 after the swap", d, "old3@x")
			requireSwapHalt(t, "row 3 after the swap", err)
		})
	}
}

// requireSwapHalt checks that err halts on the masked email's swap with
// phone, naming both.
func requireSwapHalt(t *testing.T, what string, err error) {
	t.Helper()
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("%s: error %v; want a RuleError: the old emails would go out under phone in plain text", what, err)
	}
	t.Logf("%s: %v", what, err)
	if msg := err.Error(); !strings.Contains(msg, `"email"`) || !strings.Contains(msg, `"phone"`) {
		t.Errorf("%s: error %q does not name email and phone", what, msg)
	}
}

// TestReconcileSwappedNotCaught documents the limit: without attnums, in a
// table that dropped a column, the swap reads as email dropped and added.
func TestReconcileSwappedNotCaught(t *testing.T) {
	t.Parallel()
	saved := m1State(nil, "id:int4", "email:text", "phone:text")
	rs := seededFrom(t, saved, maskedRule, swappedCat(true))
	got := rs.lineage.names(map[string]bool{"public.m1": true})["public.m1"]
	if want := [][]string{{"id"}, {"phone"}, {"email"}}; !equalNames(got, want) {
		t.Errorf("names %v, want %v (if the swap is caught now, update README and this test)", got, want)
	}
}

// TestReconcileKeepsCatalogAttnums: a table the catalog shows unchanged at
// start takes the catalog's attnums, and the lineage is saved again with
// them (one write at start), so that a swap made before the next start
// pairs by attnum even in a table that dropped a column.
func TestReconcileKeepsCatalogAttnums(t *testing.T) {
	t.Parallel()
	saved := m1State(nil, "id:int4", "email:text", "phone:text")
	same := []CatalogColumn{catCol(1, "id", "int4"), droppedCol(2), catCol(3, "email", "text"), catCol(4, "phone", "text")}
	rs := seededFrom(t, saved, maskedRule, same)
	mustApply(t, rs, at(ins(rel("public.m1", "id:int4*", "email:text", "phone:text"), int32(1), "a@x", "555-1"), 0x300))
	st, ok := rs.LineageChanged(true)
	if !ok {
		t.Fatal("lineage not pending after the catalog gave its attnums: the next start would not have them")
	}
	var nums []int16
	for _, c := range st.Tables[0].Columns {
		nums = append(nums, c.Attnum)
	}
	if got := mustJSON(t, nums); got != "[1,3,4]" {
		t.Fatalf("attnums saved %s, want [1,3,4]", got)
	}

	next := seededFrom(t, st, maskedRule, swappedCat(true))
	after := at(ins(rel("public.m1", "id:int4*", "phone:text", "email:text"), int32(3), "old3@x", "555-3"), 0x300)
	d, err := next.Apply(after)
	noPlain(t, "row 3 after the swap", d, "old3@x")
	requireSwapHalt(t, "row 3 after the swap", err)
}

// TestSwapWhileRunningNotCaught documents the other limit: a swap seen in
// the stream (pgoutput sends no attnums) reads as email dropped and added,
// so the old emails go out under phone. README says so.
func TestSwapWhileRunningNotCaught(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, maskedRule, "s")
	mustApply(t, rs, at(ins(rel("public.m1", "id:int4*", "email:text", "phone:text"), int32(1), "a@x", "555-1"), 0x100))
	d := mustApply(t, rs, at(ins(rel("public.m1", "id:int4*", "phone:text", "email:text"), int32(1), "a@x", "555-1"), 0x200))
	if d.Change == nil || !strings.Contains(fmt.Sprint(d.Change.After), "a@x") {
		t.Errorf("a swap while running is caught now (%v): update README and this test", afterOf(d))
	}
}
