package filter

import (
	"testing"
)

// TestTableRenamedToDropAcrossRestart: a table a rule captures without
// masking or excluding anything, renamed to a name the rules drop while
// walrelay is stopped: the restarted process warns on its first change
// under the new name, as the process that saw the rename would, since the
// lineage keeps the name and OID of every table the rules capture (the
// columns only of those whose columns a rule hides). The state of such a
// table carries no columns, and seeding from it adds no write per table.
func TestTableRenamedToDropAcrossRestart(t *testing.T) {
	t.Parallel()
	src := "rules:\n  - tables: [public.cust]\n"
	first := mustParse(t, src, "s")
	mustApply(t, first, ins(custV1(), int32(1), "a"))
	st, ok := first.LineageChanged(true)
	if !ok || len(st.Tables) != 1 || st.Tables[0].Table != "public.cust" || st.Tables[0].OID != oidOf("public.cust") ||
		len(st.Tables[0].Columns) != 0 {
		t.Fatalf("state %s (%v), want public.cust's name and OID, no columns", mustJSON(t, st), ok)
	}

	second := restarted(t, first, src)
	d := mustApply(t, second, ins(movedTo("public.customers"), int32(2), "b"))
	if w := d.Renamed; d.Action != Drop || w == nil || w.Old != "public.cust" || w.New != "public.customers" {
		t.Fatalf("renamed while stopped: %s, warning %+v; want drop with the warning", d.Action, w)
	}

	third := restarted(t, first, src)
	mustApply(t, third, ins(custV1(), int32(3), "c"))
	if third.LineagePending() {
		if _, ok := third.LineageChanged(false); ok {
			t.Errorf("a known table's first change after a restart saves the lineage at once: one write per table")
		}
	}
	if got := mustJSON(t, third.lineageState()); got != mustJSON(t, st) {
		t.Errorf("state after the restart %s, want %s", got, mustJSON(t, st))
	}
}
