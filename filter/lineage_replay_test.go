package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// at returns ch as a change at WAL position lsn.
func at(ch *event.Change, lsn event.LSN) *event.Change {
	ch.LSN = lsn
	return ch
}

// renamedMidTx is the replay trap: rules masking email see row 1 of m1
// (old name, LSN 0x100) and then row 3 under the new name (LSN 0x300),
// which halts. The restarted session replays row 2 (old name, LSN 0x200)
// from the checkpoint before row 3 again. It returns the first rules.
func renamedMidTx(t *testing.T) *Rules {
	t.Helper()
	first := mustParse(t, maskedRule, "s")
	mustApply(t, first, at(ins(rel("public.m1", "id:int4*", "email:text", "v:int4"), int32(1), "a@x", int32(10)), 0x100))
	_, err := first.Apply(at(ins(rel("public.m1", "id:int4*", "email_address:text", "v:int4"), int32(3), "new3@x", int32(10)), 0x300))
	requireRenameHalt(t, "row 3", Decision{}, err, "email", "email_address")
	return first
}

// m1Now is public.m1 as the catalog shows it after the rename.
var m1Now = []Table{{Schema: "public", Name: "m1", Columns: []string{"id", "email_address", "v"}, Key: []string{"id"}, Identity: []string{"id"}}}

const maskBoth = "rules:\n  - tables: [public.m1]\n    columns: {mask: [email, email_address]}\n"

// TestCheckWhereMaskFormerName: after the halt, the rules it asks for
// (mask the new name and keep the old one, which the catalog no longer
// has) pass the start-up and SIGHUP check and walrelay check when the
// lineage knows the old name: in the process (Inherit) and after a
// restart (SeedLineage). The old name alone is still refused (the column
// would go out unmasked under its new name), with the fix; so is a name
// the lineage does not know, and any former name without a lineage.
func TestCheckWhereMaskFormerName(t *testing.T) {
	t.Parallel()
	first := renamedMidTx(t)
	for _, c := range []struct {
		name  string
		rules func() *Rules
		want  string // "" = accepted
	}{
		{"same process", func() *Rules { rs := mustParse(t, maskBoth, "s"); rs.Inherit(first); return rs }, ""},
		{"restarted process", func() *Rules { return restarted(t, first, maskBoth) }, ""},
		{"excluded too", func() *Rules {
			return restarted(t, first, "rules:\n  - tables: [public.m1]\n    columns: {exclude: [email, email_address]}\n")
		}, ""},
		{"old name only", func() *Rules { return restarted(t, first, maskedRule) },
			`masked column "email" exists in none of the tables the rule names (public.m1): the column it means would be published unmasked ` +
				`(it is a former name of public.m1's column "email_address", which the rule does not mask) ` +
				`(add "email_address" to columns.mask, and keep "email" for the changes from before the rename)`},
		{"no lineage", func() *Rules { return mustParse(t, maskBoth, "s") }, `masked column "email" exists in none`},
		{"typo", func() *Rules {
			rs := mustParse(t, "rules:\n  - tables: [public.m1]\n    columns: {mask: [emial, email_address]}\n", "s")
			rs.Inherit(first)
			return rs
		}, `masked column "emial" exists in none`},
	} {
		rs := c.rules()
		err := rs.CheckWhere(m1Now)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: CheckWhere: %v, want %q", c.name, err, c.want)
		}
		var problems []string
		for _, m := range rs.DescribeTables(m1Now) {
			for _, p := range append(m.Refused, m.Problems...) {
				problems = append(problems, p.Error())
			}
		}
		if (len(problems) > 0) != (c.want != "") {
			t.Errorf("%s: walrelay check lists %q", c.name, problems)
		}
	}
}

// TestMaskRenameReplayed: both ways out of the replay trap publish every
// row masked. (a) The file masks both names at once. (b) It masks only the
// new name first: the replayed row 2 (old name) halts, and the message says
// that this change is from before the rename and to add its name, keeping
// the new one; after that, rows 2 and 3 go out masked. The reverse halt
// reads the same after a process restart.
func TestMaskRenameReplayed(t *testing.T) {
	t.Parallel()
	row2 := func() *event.Change {
		return at(ins(rel("public.m1", "id:int4*", "email:text", "v:int4"), int32(2), "old2@x", int32(10)), 0x200)
	}
	row3 := func() *event.Change {
		return at(ins(rel("public.m1", "id:int4*", "email_address:text", "v:int4"), int32(3), "new3@x", int32(10)), 0x300)
	}
	masked := func(what string, rs *Rules) {
		t.Helper()
		for _, ch := range []*event.Change{row2(), row3()} {
			d, err := rs.Apply(ch)
			if err != nil {
				t.Fatalf("%s: row %v: %v", what, ch.After[0], err)
			}
			if want := maskValue(ch.After[1], []byte("s")); d.Change.After[1] != want {
				t.Errorf("%s: row %v published %v, want it masked", what, ch.After[0], d.Change.After[1])
			}
		}
	}

	t.Run("both names", func(t *testing.T) {
		t.Parallel()
		rs := mustParse(t, maskBoth, "s")
		rs.Inherit(renamedMidTx(t))
		masked("both names", rs)
	})
	t.Run("new name first", func(t *testing.T) {
		t.Parallel()
		first := renamedMidTx(t)
		newOnly := mustParse(t, "rules:\n  - tables: [public.m1]\n    columns: {mask: [email_address]}\n", "s")
		newOnly.Inherit(first)
		if err := newOnly.CheckWhere(m1Now); err != nil {
			t.Fatalf("mask [email_address]: %v", err)
		}
		d, err := newOnly.Apply(row2())
		noPlain(t, "replayed row 2", d, "old2@x")
		requireReplayHalt(t, "replayed row 2", err)
		// The process restarts before the file is fixed: same halt.
		again := restarted(t, newOnly, "rules:\n  - tables: [public.m1]\n    columns: {mask: [email_address]}\n")
		_, err = again.Apply(row2())
		requireReplayHalt(t, "after a restart", err)

		fixed := "rules:\n  - tables: [public.m1]\n    columns: {mask: [email_address, email]}\n"
		rs := mustParse(t, fixed, "s")
		rs.Inherit(newOnly)
		if err := rs.CheckWhere(m1Now); err != nil {
			t.Fatalf("mask [email_address, email]: %v", err)
		}
		masked("fixed", rs)
		masked("fixed, restarted", restarted(t, again, fixed))
	})
}

// requireReplayHalt checks that err is the halt of the replayed row 2 under
// rules masking email_address only: the change is from before the rename,
// and the fix adds email, keeping email_address.
func requireReplayHalt(t *testing.T, what string, err error) {
	t.Helper()
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("%s: error %v; want a RuleError: email would go out unmasked", what, err)
	}
	if re.Column != "email" {
		t.Errorf("%s: column %q, want email", what, re.Column)
	}
	for _, w := range []string{`masked column "email_address" was named "email" before it was renamed`,
		"this change from before the rename (replayed from the checkpoint) has the old name",
		`update columns.mask of rules[0] to mask "email" too, the column's name before the rename, and keep "email_address"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q lacks %q", what, err, w)
		}
	}
	if strings.Contains(err.Error(), "new name") {
		t.Errorf("%s: error %q calls the older name the new one", what, err)
	}
}
