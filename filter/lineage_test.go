package filter

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// version returns a copy of r as relation version v (a copy: parallel
// subtests share relations).
func version(r *event.Relation, v int) *event.Relation {
	c := *r
	c.Version = v
	return &c
}

// maskedRule is audit D3's rule: public.m1 with email masked.
const maskedRule = "rules:\n  - tables: [public.m1]\n    columns: {mask: [email]}\n"

// requireRenameHalt checks that err is the halt of a masked column renamed
// from old to new under rules[0] on public.m1.
func requireRenameHalt(t *testing.T, what string, d Decision, err error, old, new string) {
	t.Helper()
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("%s: decision %s (%v), error %v; want a RuleError: the renamed column would go out unmasked", what, d.Action, afterOf(d), err)
	}
	if re.Rule != 0 || re.Table != "public.m1" || re.Column != new || re.Where != "" {
		t.Errorf("%s: RuleError rule %d table %q column %q where %q, want rules[0] public.m1 %q", what, re.Rule, re.Table, re.Column, re.Where, new)
	}
	for _, w := range []string{"rules[0] (line 2) on public.m1 event 00000000016B3748-00000005",
		fmt.Sprintf("masked column %q was renamed to %q, which the rule does not mask", old, new),
		fmt.Sprintf("update columns.mask of rules[0] to mask %q", new)} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q lacks %q", what, err, w)
		}
	}
}

func afterOf(d Decision) []any {
	if d.Change == nil {
		return nil
	}
	return d.Change.After
}

// TestApplyMaskedColumnRenamed (audit D3): a masked column renamed while
// walrelay streams halts the rule's next change of the table, naming the
// rule, table, old and new names and the fix, instead of publishing the
// value under its new name in plain text. So does a rename among other DDL
// (a column before it dropped, one added after it), and one the rule saw
// only after a version it did not decide. A masked column simply dropped is
// not an error, and neither is a rename whose new name the rule masks or
// excludes.
func TestApplyMaskedColumnRenamed(t *testing.T) {
	t.Parallel()
	v1 := rel("public.m1", "id:int4*", "email:text", "v:int4")
	renamed := rel("public.m1", "id:int4*", "email_address:text", "v:int4")

	t.Run("rename", func(t *testing.T) {
		t.Parallel()
		rs := mustParse(t, maskedRule, "s")
		if d := mustApply(t, rs, ins(v1, int32(1), "a@x", int32(10))); d.Change.After[1] != maskValue("a@x", []byte("s")) {
			t.Fatalf("v1: email %v, want it masked", d.Change.After[1])
		}
		d, err := rs.Apply(ins(version(renamed, 2), int32(2), "secret1@x", int32(10)))
		requireRenameHalt(t, "renamed", d, err, "email", "email_address")
		// The session restarts: a new decoder sends the same columns in a
		// new relation (Version 1 again). Still a halt, until the file is fixed.
		d, err = rs.Apply(ins(rel("public.m1", "id:int4*", "email_address:text", "v:int4"), int32(2), "secret1@x", int32(10)))
		requireRenameHalt(t, "after a session restart", d, err, "email", "email_address")
	})

	cases := []struct {
		name  string
		rules string
		next  []*event.Relation // versions after v1, in order: an update of each, then an insert of the last
		halt  string            // the new name the insert's halt names; "" = published, with nothing unmasked
	}{
		{"rename after a column before it was dropped", maskedRule,
			[]*event.Relation{rel("public.m1", "id:int4*", "email_address:text")}, "email_address"},
		{"rename and a column added", maskedRule,
			[]*event.Relation{rel("public.m1", "id:int4*", "email_address:text", "v:int4", "w:int4")}, "email_address"},
		{"rename seen by a change the rule did not decide, then a column added",
			"rules:\n  - tables: [public.m1]\n    operations: [insert]\n    columns: {mask: [email]}\n",
			[]*event.Relation{renamed, rel("public.m1", "id:int4*", "email_address:text", "v:int4", "w:int4")}, "email_address"},
		{"two renames", maskedRule,
			[]*event.Relation{rel("public.m1", "id:int4*", "mail:text", "v:int4"), rel("public.m1", "id:int4*", "email_address:text", "v:int4")},
			"email_address"},
		{"masked column dropped", maskedRule, []*event.Relation{rel("public.m1", "id:int4*", "v:int4")}, ""},
		{"masked column dropped, a column of another type added", maskedRule,
			[]*event.Relation{rel("public.m1", "id:int4*", "v:int4", "n:int8")}, ""},
		{"new name masked too", "rules:\n  - tables: [public.m1]\n    columns: {mask: [email, email_address]}\n",
			[]*event.Relation{renamed}, ""},
		{"new name excluded", "rules:\n  - tables: [public.m1]\n    columns: {mask: [email], exclude: [email_address]}\n",
			[]*event.Relation{renamed}, ""},
		{"another column renamed", maskedRule,
			[]*event.Relation{rel("public.m1", "id:int4*", "email:text", "value:int4")}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rs := mustParse(t, c.rules, "s")
			mustApply(t, rs, ins(rel("public.m1", "id:int4*", "email:text", "v:int4"), int32(1), "a@x", int32(10)))
			var row []any
			var last *event.Relation
			for i, r := range c.next {
				last = version(r, i+2)
				row = make([]any, len(r.Columns))
				row[0] = int32(i + 2)
				for j := 1; j < len(row); j++ {
					if r.Columns[j].TypeName == "text" {
						row[j] = "secret@x"
					}
				}
				_, _ = rs.Apply(upd(last, row, row)) // passes the version through the filter; a halt here is not the point
			}
			d, err := rs.Apply(ins(last, row...))
			if c.halt != "" {
				requireRenameHalt(t, c.name, d, err, "email", c.halt)
				return
			}
			if err != nil || d.Action != Keep {
				t.Fatalf("decision %s, error %v; want it published", d.Action, err)
			}
			for i, v := range d.Change.After {
				if v == "secret@x" {
					t.Errorf("column %s published unmasked: %v", d.Change.Relation.Columns[i].Name, d.Change.After)
				}
			}
		})
	}
}

// TestMaskRenameAcrossReloads: the renames seen are kept when rules replace
// each other in a process. A reload (Succeed) of a file that masks the new
// name publishes it masked; one that still masks only the old name (a glob
// rule, which CheckWhere lets through because another table has the old
// name) halts. So do rules loaded for a new session (Inherit); rules that
// inherit nothing know no rename.
func TestMaskRenameAcrossReloads(t *testing.T) {
	t.Parallel()
	const glob = "rules:\n  - tables: [\"public.m*\"]\n    columns: {mask: [email]}\n"
	first := mustParse(t, glob, "s")
	mustApply(t, first, ins(rel("public.m1", "id:int4*", "email:text", "v:int4"), int32(1), "a@x", int32(10)))
	renamed := version(rel("public.m1", "id:int4*", "email_address:text", "v:int4"), 2)
	row := []any{int32(2), "secret1@x", int32(10)}
	_, err := first.Apply(ins(renamed, row...))
	requireRenameHalt(t, "first rules", Decision{}, err, "email", "email_address")

	fixed := mustParse(t, "rules:\n  - tables: [\"public.m*\"]\n    columns: {mask: [email, email_address]}\n", "s")
	fixed.Succeed(first)
	if d := mustApply(t, fixed, ins(renamed, row...)); d.Change.After[1] != maskValue("secret1@x", []byte("s")) {
		t.Errorf("fixed rules after SIGHUP: email_address %v, want it masked", d.Change.After[1])
	}

	for _, c := range []struct {
		name string
		link func(next, prev *Rules)
		halt bool
	}{
		{"reload of the same file", (*Rules).Succeed, true},
		{"new session", (*Rules).Inherit, true},
		{"new process", func(_, _ *Rules) {}, false},
	} {
		next := mustParse(t, glob, "s")
		c.link(next, first)
		// A new session's decoder sends its own copy of the relation.
		d, err := next.Apply(ins(rel("public.m1", "id:int4*", "email_address:text", "v:int4"), row...))
		switch {
		case c.halt:
			requireRenameHalt(t, c.name, d, err, "email", "email_address")
		case err != nil || d.Change.After[1] != "secret1@x":
			// Nothing links a new process to the rename: the start-up check
			// (CheckWhere) is what refuses a single-table rule then.
			t.Errorf("%s: decision %v, error %v; want the column published as is (no history)", c.name, afterOf(d), err)
		}
	}
}

// TestRenamedColumns: gone and appeared columns pair as renames within the
// gap between the same surviving columns, by type.
func TestRenamedColumns(t *testing.T) {
	t.Parallel()
	cols := func(spec ...string) []event.Column { return rel("public.t", spec...).Columns }
	for _, c := range []struct {
		old, cur []event.Column
		want     string
	}{
		{cols("id:int4", "email:text", "v:int4"), cols("id:int4", "email_address:text", "v:int4"), "email_address<-email"},
		{cols("id:int4", "email:text", "v:int4"), cols("id:int4", "email_address:int8", "v:int4"), ""},
		{cols("id:int4", "a:text", "b:text", "v:int4"), cols("id:int4", "b2:text", "v:int4"), "b2<-a"},
		{cols("id:int4", "a:int4", "b:text", "v:int4"), cols("id:int4", "b2:text", "v:int4"), "b2<-b"},
		{cols("id:int4", "a:text", "b:text"), cols("id:int4", "a2:text", "b2:text", "c:text"), "a2<-a b2<-b"},
		{cols("id:int4", "a:text", "v:int4"), cols("id:int4", "v:int4", "c:text"), ""},
		{cols("a:text", "id:int4"), cols("id:int4", "c:text"), ""},
		{cols("id:int4", "a:text"), cols("id:int4", "a:text", "b:text"), ""},
	} {
		got := renamedColumns(c.old, c.cur)
		var parts []string
		for _, col := range c.cur {
			if old, ok := got[col.Name]; ok {
				parts = append(parts, col.Name+"<-"+old)
			}
		}
		if s := strings.Join(parts, " "); s != c.want {
			t.Errorf("%s -> %s: renames %q, want %q", colNamesOf(c.old), colNamesOf(c.cur), s, c.want)
		}
	}
}

func colNamesOf(cols []event.Column) string {
	return colNames(&event.Relation{Columns: cols})
}
