package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// restarted returns rules parsed from src as a restarted process has them:
// seeded with the lineage state rs saved (the last save's when nothing
// changed since), through its JSON form.
func restarted(t *testing.T, rs *Rules, src string) *Rules {
	t.Helper()
	st, ok := rs.LineageChanged(true)
	if !ok {
		st = rs.lineageState()
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back LineageState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	next := mustParse(t, src, "s")
	next.SeedLineage(&back)
	return next
}

// noPlain fails if d publishes secret as is.
func noPlain(t *testing.T, what string, d Decision, secret string) {
	t.Helper()
	if d.Change != nil && strings.Contains(fmt.Sprint(d.Change.After), secret) {
		t.Errorf("%s: %q published in plain text: %v", what, secret, d.Change.After)
	}
}

// TestMaskRenameAcrossProcessRestart (gap 1): a glob rule masks email in
// public.m1 and public.m2; m1's column is renamed while walrelay is
// stopped. The restarted process's first relation of m1 carries the new
// name only, and the start-up check passes (m2 has email): the saved
// lineage makes it halt as the first process would have, instead of
// publishing email_address in plain text. m2 is published masked.
func TestMaskRenameAcrossProcessRestart(t *testing.T) {
	t.Parallel()
	const glob = "rules:\n  - tables: [\"public.m*\"]\n    columns: {mask: [email]}\n"
	first := mustParse(t, glob, "s")
	mustApply(t, first, ins(rel("public.m1", "id:int4*", "email:text", "v:int4"), int32(1), "a@x", int32(10)))
	mustApply(t, first, ins(rel("public.m2", "id:int4*", "email:text"), int32(1), "b@x"))

	next := restarted(t, first, glob)
	d, err := next.Apply(ins(rel("public.m1", "id:int4*", "email_address:text", "v:int4"), int32(2), "secret1@x", int32(10)))
	noPlain(t, "restarted", d, "secret1@x")
	requireRenameHalt(t, "restarted", d, err, "email", "email_address")
	d = mustApply(t, next, ins(rel("public.m2", "id:int4*", "email:text"), int32(2), "secret2@x"))
	noPlain(t, "m2", d, "secret2@x")

	// The halt's rename is saved too: a second restart still halts, and
	// one whose file masks the new name publishes it masked.
	again := restarted(t, next, glob)
	_, err = again.Apply(ins(rel("public.m1", "id:int4*", "email_address:text", "v:int4"), int32(2), "secret1@x", int32(10)))
	requireRenameHalt(t, "second restart", Decision{}, err, "email", "email_address")
	fixed := restarted(t, again, "rules:\n  - tables: [\"public.m*\"]\n    columns: {mask: [email, email_address]}\n")
	d = mustApply(t, fixed, ins(rel("public.m1", "id:int4*", "email_address:text", "v:int4"), int32(2), "secret1@x", int32(10)))
	noPlain(t, "fixed", d, "secret1@x")
}

// requireExcludeHalt checks that err is the halt of an excluded column
// renamed from old to new under rules[0] on public.m1, parallel to the
// masked one's.
func requireExcludeHalt(t *testing.T, what string, d Decision, err error, old, new string) {
	t.Helper()
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("%s: decision %s (%v), error %v; want a RuleError: the renamed column would be published", what, d.Action, afterOf(d), err)
	}
	if re.Rule != 0 || re.Table != "public.m1" || re.Column != new || re.Where != "" {
		t.Errorf("%s: RuleError rule %d table %q column %q where %q, want rules[0] public.m1 %q", what, re.Rule, re.Table, re.Column, re.Where, new)
	}
	for _, w := range []string{"rules[0] (line 2) on public.m1 event 00000000016B3748-00000005",
		fmt.Sprintf("excluded column %q was renamed to %q, which the rule does not exclude: its values would be published in plain text", old, new),
		fmt.Sprintf("update columns.exclude of rules[0] to exclude %q, the column's new name", new)} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q lacks %q", what, err, w)
		}
	}
}

// TestApplyExcludedColumnRenamed (gap 2): an excluded column renamed halts
// like a masked one, while walrelay runs and across a process restart; a
// new name the rule excludes or masks is the operator's decision, and an
// excluded column dropped is no error.
func TestApplyExcludedColumnRenamed(t *testing.T) {
	t.Parallel()
	const rules = "rules:\n  - tables: [\"public.m*\"]\n    columns: {exclude: [notes]}\n"
	v1 := rel("public.m1", "id:int4*", "notes:text", "v:int4")
	renamed := func() *event.Relation { return rel("public.m1", "id:int4*", "remarks:text", "v:int4") }
	row := []any{int32(2), "secret3", int32(10)}

	t.Run("while running", func(t *testing.T) {
		t.Parallel()
		rs := mustParse(t, rules, "s")
		mustApply(t, rs, ins(v1, int32(1), "n", int32(10)))
		d, err := rs.Apply(ins(version(renamed(), 2), row...))
		noPlain(t, "running", d, "secret3")
		requireExcludeHalt(t, "running", d, err, "notes", "remarks")
	})
	t.Run("across a restart", func(t *testing.T) {
		t.Parallel()
		rs := mustParse(t, rules, "s")
		mustApply(t, rs, ins(rel("public.m1", "id:int4*", "notes:text", "v:int4"), int32(1), "n", int32(10)))
		next := restarted(t, rs, rules)
		d, err := next.Apply(ins(renamed(), row...))
		noPlain(t, "restarted", d, "secret3")
		requireExcludeHalt(t, "restarted", d, err, "notes", "remarks")
	})
	for _, c := range []struct{ name, rules string }{
		{"new name excluded", "rules:\n  - tables: [public.m1]\n    columns: {exclude: [notes, remarks]}\n"},
		{"new name masked", "rules:\n  - tables: [public.m1]\n    columns: {exclude: [notes], mask: [remarks]}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rs := mustParse(t, c.rules, "s")
			mustApply(t, rs, ins(rel("public.m1", "id:int4*", "notes:text", "v:int4"), int32(1), "n", int32(10)))
			noPlain(t, c.name, mustApply(t, rs, ins(version(renamed(), 2), row...)), "secret3")
		})
	}
	t.Run("dropped", func(t *testing.T) {
		t.Parallel()
		rs := mustParse(t, rules, "s")
		mustApply(t, rs, ins(rel("public.m1", "id:int4*", "notes:text", "v:int4"), int32(1), "n", int32(10)))
		mustApply(t, rs, ins(version(rel("public.m1", "id:int4*", "v:int4"), 2), int32(2), int32(10)))
	})
}

// TestLineageIdentity: the lineage follows a table by OID. A table
// renamed (same OID) whose masked column was renamed too, while walrelay
// was stopped, halts; a table dropped and re-created with another column
// name (a new OID) is a new table.
func TestLineageIdentity(t *testing.T) {
	t.Parallel()
	const glob = "rules:\n  - tables: [\"public.*\"]\n    columns: {mask: [email]}\n"
	rs := mustParse(t, glob, "s")
	mustApply(t, rs, ins(rel("public.m1", "id:int4*", "email:text"), int32(1), "a@x"))
	mustApply(t, rs, ins(rel("public.m2", "id:int4*", "email:text"), int32(1), "b@x"))
	next := restarted(t, rs, glob)

	moved := rel("public.users", "id:int4*", "email_address:text")
	moved.OID = oidOf("public.m1") // ALTER TABLE m1 RENAME TO users keeps the OID
	_, err := next.Apply(ins(moved, int32(2), "secret@x"))
	var re *RuleError
	if !errors.As(err, &re) || re.Table != "public.users" || !strings.Contains(err.Error(), `masked column "email" was renamed to "email_address"`) {
		t.Errorf("table and column renamed: error %v, want the rename halt on public.users", err)
	}
	recreated := rel("public.m2", "id:int4*", "contact:text")
	recreated.OID++ // DROP TABLE m2; CREATE TABLE m2 makes a new OID
	mustApply(t, next, ins(recreated, int32(2), "c@x"))
}

// TestLineageChanged: the state is to be saved when a table a mask or
// exclude rule names is first seen (not urgent) or changes shape (urgent),
// and when other rules take over; not for a relation that repeats the
// known columns, and never for tables no such rule names. It is bounded by
// MaxLineageTables, the least recently seen left out.
func TestLineageChanged(t *testing.T) {
	t.Parallel()
	const src = "rules:\n  - tables: [\"public.m*\"]\n    columns: {mask: [email]}\n  - tables: [public.other]\n"
	rs := mustParse(t, src, "s")
	mustApply(t, rs, ins(rel("public.m1", "id:int4*", "email:text"), int32(1), "a@x"))
	mustApply(t, rs, ins(rel("public.other", "id:int4*", "email:text"), int32(1), "a@x"))
	if _, ok := rs.LineageChanged(false); ok {
		t.Error("LineageChanged(false) after new tables only: want them left for the next save")
	}
	st, ok := rs.LineageChanged(true)
	if !ok || len(st.Tables) != 2 || st.Tables[0].Table != "public.m1" || st.Tables[0].OID != oidOf("public.m1") ||
		len(st.Tables[0].Columns) != 2 || st.Tables[0].Columns[1] != (LineageColumn{Name: "email", TypeName: "text"}) ||
		mustJSON(t, st.Tables[1]) != mustJSON(t, LineageTable{OID: oidOf("public.other"), Table: "public.other", Shape: []string{"id int4", "email text"}}) {
		t.Fatalf("LineageChanged(true) = %+v, %v; want public.m1 (id, email), and public.other (captured, nothing hidden) "+
			"by name, OID and shape only", st, ok)
	}
	if rs.LineagePending() {
		t.Error("pending right after a save")
	}
	mustApply(t, rs, ins(rel("public.m1", "id:int4*", "email:text"), int32(2), "a@x")) // a new decoder's copy
	if rs.LineagePending() {
		t.Error("pending after a relation with the known columns")
	}
	if _, err := rs.Apply(ins(version(rel("public.m1", "id:int4*", "mail:text"), 2), int32(3), "a@x")); err == nil {
		t.Fatal("rename: no halt")
	}
	if st, ok := rs.LineageChanged(false); !ok || st.Tables[0].Formerly["mail"][0] != "email" {
		t.Errorf("LineageChanged(false) after a rename = %+v, %v; want it saved at once with mail formerly email", st, ok)
	}
	rs.LineageUnsaved()
	if _, ok := rs.LineageChanged(false); !ok {
		t.Error("after LineageUnsaved: nothing to save")
	}
	next := mustParse(t, src, "s")
	next.Succeed(rs)
	if !next.LineagePending() {
		t.Error("rules reloaded: want a save (they may name other tables)")
	}

	big := mustParse(t, src, "s")
	for i := range MaxLineageTables + 2 {
		mustApply(t, big, ins(rel(fmt.Sprintf("public.m%d", i), "id:int4*", "email:text"), int32(1), "a@x"))
	}
	st, _ = big.LineageChanged(true)
	if len(st.Tables) != MaxLineageTables || st.Omitted != 2 {
		t.Fatalf("%d tables seen: state has %d, omitted %d; want %d and 2", MaxLineageTables+2, len(st.Tables), st.Omitted, MaxLineageTables)
	}
	for _, tb := range st.Tables {
		if tb.Table == "public.m0" || tb.Table == "public.m1" {
			t.Errorf("%s, among the least recently seen, kept", tb.Table)
		}
	}
}
