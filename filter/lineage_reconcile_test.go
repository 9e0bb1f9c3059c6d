package filter

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

const maskNewOnly = "rules:\n  - tables: [public.m1]\n    columns: {mask: [email_address]}\n"

// catCol is a published column of public.m1 in a catalog of the tests.
func catCol(attnum int16, name, typ string) CatalogColumn {
	return CatalogColumn{Attnum: attnum, Name: name, TypeName: typ}
}

// droppedCol is a dropped column of a catalog of the tests.
func droppedCol(attnum int16) CatalogColumn {
	return CatalogColumn{Attnum: attnum, Name: "........pg.dropped.x........", Dropped: true}
}

// seededFrom returns rules parsed from src, seeded with st (through its
// JSON form, as a restarted process reads it) and reconciled with the
// catalog cat of public.m1, read at WAL position 0x900.
func seededFrom(t *testing.T, st *LineageState, src string, cat []CatalogColumn) *Rules {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back LineageState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	rs := mustParse(t, src, "s")
	rs.SeedLineage(&back)
	rs.lineage.reconcile(map[uint32][]CatalogColumn{oidOf("public.m1"): cat}, 0x900)
	return rs
}

// m1State is a saved state of public.m1 with columns cols ("name:type"),
// attnums nums (nil: a state without them, as an older walrelay saved).
func m1State(nums []int16, cols ...string) *LineageState {
	t := LineageTable{OID: oidOf("public.m1"), Table: "public.m1", Since: 0x100}
	for i, c := range cols {
		n, typ, _ := strings.Cut(c, ":")
		lc := LineageColumn{Name: n, TypeName: typ}
		if nums != nil {
			lc.Attnum = nums[i]
		}
		t.Columns = append(t.Columns, lc)
	}
	return &LineageState{Version: LineageVersion, Tables: []LineageTable{t}}
}

// TestReconcileRenamedWhileStopped (gap 2): email was renamed while
// walrelay was stopped, and the rules changed to mask only the new name,
// with a change from before the rename (old name, LSN 0x200) still ahead
// of the checkpoint. Reconciled with the catalog at start, the lineage
// knows email as the column's former name, so the replayed change halts
// with "add the old name too" instead of going out unmasked; the change
// after the rename (0x300) is then decided as usual. Whether the saved
// state has attnums (exact: a column dropped before does not matter) or
// not (an older walrelay's: by position when nothing was dropped), and
// when the rename changed the type too.
func TestReconcileRenamedWhileStopped(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		saved *LineageState
		cat   []CatalogColumn
	}{
		{"no attnums", m1State(nil, "id:int4", "email:text", "v:int4"),
			[]CatalogColumn{catCol(1, "id", "int4"), catCol(2, "email_address", "text"), catCol(3, "v", "int4")}},
		{"no attnums, retyped", m1State(nil, "id:int4", "email:text", "v:int4"),
			[]CatalogColumn{catCol(1, "id", "int4"), catCol(2, "email_address", "varchar"), catCol(3, "v", "int4")}},
		{"no attnums, added since", m1State(nil, "id:int4", "email:text"),
			[]CatalogColumn{catCol(1, "id", "int4"), catCol(2, "email_address", "varchar"), catCol(3, "v", "int4")}},
		{"attnums, retyped, a column dropped", m1State([]int16{1, 3, 4}, "id:int4", "email:text", "v:int4"),
			[]CatalogColumn{catCol(1, "id", "int4"), droppedCol(2), catCol(3, "email_address", "varchar"), catCol(4, "v", "int4"), droppedCol(5)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rs := seededFrom(t, c.saved, maskNewOnly, c.cat)
			oldCols := []string{"id:int4*", "email:text"}
			row := []any{int32(2), "old2@x"}
			if len(c.saved.Tables[0].Columns) == 3 {
				oldCols, row = append(oldCols, "v:int4"), append(row, int32(10))
			}
			d, err := rs.Apply(at(ins(rel("public.m1", oldCols...), row...), 0x200))
			noPlain(t, "replayed row 2", d, "old2@x")
			requireReplayHalt(t, "replayed row 2", err)
		})
	}
}

// TestReconcileAfterRenameOnly: after the reconciliation, a change that
// comes after the rename (the new name, below the catalog's WAL position)
// is published masked under rules that mask the new name, and halts under
// rules that mask only the old name, as a rename seen in the stream does.
func TestReconcileAfterRenameOnly(t *testing.T) {
	t.Parallel()
	saved := m1State(nil, "id:int4", "email:text", "v:int4")
	cat := []CatalogColumn{catCol(1, "id", "int4"), catCol(2, "email_address", "text"), catCol(3, "v", "int4")}
	row3 := func() *event.Change {
		return at(ins(rel("public.m1", "id:int4*", "email_address:text", "v:int4"), int32(3), "new3@x", int32(10)), 0x300)
	}
	d := mustApply(t, seededFrom(t, saved, maskNewOnly, cat), row3())
	noPlain(t, "new name masked", d, "new3@x")
	d, err := seededFrom(t, saved, maskedRule, cat).Apply(row3())
	noPlain(t, "old name only", d, "new3@x")
	requireRenameHalt(t, "old name only", d, err, "email", "email_address")
}

// TestReconcileDroppedAndAdded: with attnums, a column dropped and another
// of its type added while walrelay was stopped is no rename: the new
// column gets no former name.
func TestReconcileDroppedAndAdded(t *testing.T) {
	t.Parallel()
	saved := m1State([]int16{1, 2, 3}, "id:int4", "email:text", "v:int4")
	cat := []CatalogColumn{catCol(1, "id", "int4"), droppedCol(2), catCol(3, "v", "int4"), catCol(4, "contact", "text")}
	rs := seededFrom(t, saved, maskNewOnly, cat)
	got := rs.lineage.names(map[string]bool{"public.m1": true})["public.m1"]
	if want := [][]string{{"id"}, {"v"}, {"contact"}}; !equalNames(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
}

func equalNames(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], ",") != strings.Join(b[i], ",") {
			return false
		}
	}
	return true
}

// TestReconcileState: the state saved while no relation of a reconciled
// table was seen is the one it was seeded with (the next start reconciles
// it again), and the catalog's columns it was reported with; a table
// whose columns the catalog shows unchanged takes their attnums, which the
// state then keeps; once a relation is seen, the state is the lineage's
// again.
func TestReconcileState(t *testing.T) {
	t.Parallel()
	saved := m1State(nil, "id:int4", "email:text", "v:int4")
	renamed := []CatalogColumn{catCol(1, "id", "int4"), catCol(2, "email_address", "text"), catCol(3, "v", "int4")}
	rs := seededFrom(t, saved, maskNewOnly, renamed)
	reported := *saved // with the catalog's columns it was reported with (StoppedChanges): once
	reported.Tables = append([]LineageTable(nil), saved.Tables...)
	reported.Tables[0].Shape = []string{"id int4", "email_address text", "v int4"}
	if got, want := mustJSON(t, rs.lineageState()), mustJSON(t, &reported); got != want {
		t.Errorf("state before a relation is seen:\n%s\nwant the seeded one:\n%s", got, want)
	}

	same := []CatalogColumn{catCol(1, "id", "int4"), droppedCol(2), catCol(3, "email", "text"), catCol(4, "v", "int4")}
	st := seededFrom(t, saved, maskedRule, same).lineageState()
	var nums []int16
	for _, c := range st.Tables[0].Columns {
		nums = append(nums, c.Attnum)
	}
	if got := mustJSON(t, nums); got != "[1,3,4]" {
		t.Errorf("attnums of an unchanged table %s, want [1,3,4]", got)
	}

	mustApply(t, rs, at(ins(rel("public.m1", "id:int4*", "email_address:text", "v:int4"), int32(3), "new3@x", int32(10)), 0x300))
	st, ok := rs.LineageChanged(true)
	if !ok || len(st.Tables) != 1 || st.Tables[0].Columns[1].Name != "email_address" || st.Tables[0].Columns[1].Attnum != 2 ||
		strings.Join(st.Tables[0].Formerly["email_address"], ",") != "email" {
		t.Errorf("state after the relation: %s (%v), want email_address (attnum 2) formerly email", mustJSON(t, st), ok)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
