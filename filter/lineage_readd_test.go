package filter

import (
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// readdRow is a row of r: the key, then "SECRET" in each text column and
// 10 in the others.
func readdRow(r *event.Relation, id int32) []any {
	row := []any{id}
	for _, c := range r.Columns[1:] {
		if c.TypeName == "text" {
			row = append(row, "SECRET")
		} else {
			row = append(row, int32(10))
		}
	}
	return row
}

// TestColumnRenamedAndNameReAdded (audit auditc finding 1): "RENAME email
// TO contact; ADD COLUMN email" keeps the name email, but the column that
// holds the addresses is now contact: a rule masking or excluding email
// halts on it as for any rename, while running and across a restart,
// whether email was the last column or not, instead of publishing contact
// in plain text. Once the rule names both, both are hidden; a second
// rename (contact to c2) halts again.
func TestColumnRenamedAndNameReAdded(t *testing.T) {
	t.Parallel()
	const fixedMask = "rules:\n  - tables: [public.m1]\n    columns: {mask: [email, contact]}\n"
	for _, c := range []struct {
		name       string
		v1, v2, v3 []string // v2: email renamed to contact and email re-added; v3: contact renamed to c2
		rules      string
		exclude    bool
		restart    bool
		fix        string // the rules that mask both names ("": fixedMask)
	}{
		{"mask, middle column, running", []string{"id:int4*", "email:text", "v:int4"},
			[]string{"id:int4*", "contact:text", "v:int4", "email:text"}, []string{"id:int4*", "c2:text", "v:int4", "email:text"},
			maskedRule, false, false, ""},
		{"mask, last column, running", []string{"id:int4*", "email:text"},
			[]string{"id:int4*", "contact:text", "email:text"}, []string{"id:int4*", "c2:text", "email:text"},
			maskedRule, false, false, ""},
		{"mask, middle column, restart", []string{"id:int4*", "email:text", "v:int4"},
			[]string{"id:int4*", "contact:text", "v:int4", "email:text"}, []string{"id:int4*", "c2:text", "v:int4", "email:text"},
			maskedRule, false, true, ""},
		{"mask, last column, restart", []string{"id:int4*", "email:text"},
			[]string{"id:int4*", "contact:text", "email:text"}, []string{"id:int4*", "c2:text", "email:text"},
			maskedRule, false, true, ""},
		{"exclude, middle column, running", []string{"id:int4*", "email:text", "v:int4"},
			[]string{"id:int4*", "contact:text", "v:int4", "email:text"}, []string{"id:int4*", "c2:text", "v:int4", "email:text"},
			"rules:\n  - tables: [public.m1]\n    columns: {exclude: [email]}\n", true, false, ""},
		{"exclude, last column, restart", []string{"id:int4*", "email:text"},
			[]string{"id:int4*", "contact:text", "email:text"}, []string{"id:int4*", "c2:text", "email:text"},
			"rules:\n  - tables: [public.m1]\n    columns: {exclude: [email]}\n", true, true, ""},
		{"mask, two renames and a re-add", []string{"id:int4*", "email:text", "phone:text", "v:int4"},
			[]string{"id:int4*", "contact:text", "tel:text", "v:int4", "email:text"}, []string{"id:int4*", "c2:text", "tel:text", "v:int4", "email:text"},
			"rules:\n  - tables: [public.m1]\n    columns: {mask: [email, phone]}\n", false, false,
			"rules:\n  - tables: [public.m1]\n    columns: {mask: [email, contact, phone, tel]}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rs := mustParse(t, c.rules, "s")
			v1 := rel("public.m1", c.v1...)
			noPlain(t, "v1", mustApply(t, rs, ins(v1, readdRow(v1, 1)...)), "SECRET")
			next, v2 := rs, version(rel("public.m1", c.v2...), 2)
			if c.restart {
				next, v2 = restarted(t, rs, c.rules), rel("public.m1", c.v2...)
			}
			d, err := next.Apply(ins(v2, readdRow(v2, 2)...))
			noPlain(t, "renamed and re-added", d, "SECRET")
			if c.exclude {
				requireExcludeHalt(t, "renamed and re-added", d, err, "email", "contact")
				return
			}
			requireRenameHalt(t, "renamed and re-added", d, err, "email", "contact")

			// The fix the halt asks for: both names masked, both columns hidden.
			fix := fixedMask
			if c.fix != "" {
				fix = c.fix
			}
			fixed := mustParse(t, fix, "s")
			fixed.Succeed(next)
			if c.restart {
				fixed = restarted(t, next, fix)
			}
			noPlain(t, "fixed", mustApply(t, fixed, ins(v2, readdRow(v2, 3)...)), "SECRET")

			v3 := version(rel("public.m1", c.v3...), 3)
			d, err = fixed.Apply(ins(v3, readdRow(v3, 4)...))
			noPlain(t, "renamed again", d, "SECRET")
			requireRenameHalt(t, "renamed again", d, err, "email", "c2")
		})
	}
}

// TestColumnReAddedReplayed: after "RENAME email TO contact; ADD email" a
// change from before the rename, replayed from the checkpoint, has the
// old column under email: rules that mask both names publish it masked;
// rules that mask only contact halt (the replayed email is the column now
// called contact), instead of taking it for the new email column.
func TestColumnReAddedReplayed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, rules string
		halt        bool
	}{
		{"both names masked", "rules:\n  - tables: [public.m1]\n    columns: {mask: [email, contact]}\n", false},
		{"only the new name masked", "rules:\n  - tables: [public.m1]\n    columns: {mask: [contact]}\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			first := mustParse(t, maskedRule, "s")
			v1 := rel("public.m1", "id:int4*", "email:text", "v:int4")
			mustApply(t, first, at(ins(v1, readdRow(v1, 1)...), 0x100))
			v2 := rel("public.m1", "id:int4*", "contact:text", "v:int4", "email:text")
			_, err := first.Apply(at(ins(v2, readdRow(v2, 3)...), 0x300))
			requireRenameHalt(t, "row 3", Decision{}, err, "email", "contact")

			next := restarted(t, first, c.rules)
			old := rel("public.m1", "id:int4*", "email:text", "v:int4")
			d, err := next.Apply(at(ins(old, readdRow(old, 2)...), 0x200))
			noPlain(t, "replayed row 2", d, "SECRET")
			if c.halt != (err != nil) {
				t.Fatalf("replayed row 2: decision %v, error %v; want a halt %v", afterOf(d), err, c.halt)
			}
		})
	}
}

// TestColumnDroppedAndAddedNoRename: a column dropped and another added,
// even under the dropped one's name, is no rename: nothing halts, the
// re-added masked name is masked and a new column is published.
func TestColumnDroppedAndAddedNoRename(t *testing.T) {
	t.Parallel()
	v1 := []string{"id:int4*", "email:text", "v:int4"}
	for _, c := range []struct {
		name  string
		v2    []string
		plain string // a column published as is ("" none)
	}{
		{"email dropped and re-added", []string{"id:int4*", "v:int4", "email:text"}, ""},
		{"email dropped, note added", []string{"id:int4*", "v:int4", "note:text"}, "note"},
		{"v dropped and re-added", []string{"id:int4*", "email:text", "v:int4"}, ""},
		{"v dropped, w added", []string{"id:int4*", "email:text", "w:int4"}, ""},
		{"column added", []string{"id:int4*", "email:text", "v:int4", "note:text"}, "note"},
	} {
		for _, restart := range []bool{false, true} {
			rs := mustParse(t, maskedRule, "s")
			r1 := rel("public.m1", v1...)
			mustApply(t, rs, ins(r1, readdRow(r1, 1)...))
			r2 := version(rel("public.m1", c.v2...), 2)
			if restart {
				rs, r2 = restarted(t, rs, maskedRule), rel("public.m1", c.v2...)
			}
			d := mustApply(t, rs, ins(r2, readdRow(r2, 2)...))
			for i, col := range r2.Columns {
				if plain := d.Change.After[i] == "SECRET"; plain != (col.Name == c.plain) {
					t.Errorf("%s (restart %v): column %s published %v", c.name, restart, col.Name, d.Change.After[i])
				}
			}
		}
	}
}

// TestMatchColumns: the columns of a later version paired with those of
// an earlier one (kept or renamed); the rest were added.
func TestMatchColumns(t *testing.T) {
	t.Parallel()
	cols := func(spec ...string) []event.Column { return rel("public.t", spec...).Columns }
	for _, c := range []struct {
		old, cur []event.Column
		want     string
	}{
		{cols("id:int4", "email:text", "v:int4"), cols("id:int4", "contact:text", "v:int4", "email:text"), "id<-id contact<-email v<-v"},
		{cols("id:int4", "email:text"), cols("id:int4", "contact:text", "email:text"), "id<-id contact<-email"},
		{cols("id:int4", "email:text", "v:int4"), cols("id:int4", "v:int4", "email:text"), "id<-id v<-v"},
		{cols("id:int4", "a:text", "b:text", "v:int4"), cols("id:int4", "x:text", "y:text", "v:int4", "a:text"), "id<-id x<-a y<-b v<-v"},
		{cols("id:int4", "a:text", "b:text"), cols("id:int4", "b:text", "a:text"), "id<-id b<-b"}, // a swap reads as a dropped and re-added
		{cols("id:int4", "a:text", "v:int4"), cols("id:int4", "b:int8", "v:int4"), "id<-id v<-v"}, // a retyped rename is not paired
		{cols("id:int4", "a:text", "v:int4"), cols("id:int4", "a:int8", "v:int4"), "id<-id a<-a v<-v"},
	} {
		got := matchColumns(c.old, c.cur)
		var parts []string
		for _, col := range c.cur {
			if old, ok := got[col.Name]; ok {
				parts = append(parts, col.Name+"<-"+old)
			}
		}
		if s := strings.Join(parts, " "); s != c.want {
			t.Errorf("%s -> %s: %q, want %q", colNamesOf(c.old), colNamesOf(c.cur), s, c.want)
		}
	}
}
