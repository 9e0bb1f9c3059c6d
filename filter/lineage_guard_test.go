package filter

import (
	"strings"
	"testing"
)

// TestResumeGuardRefuses (audit auditupg finding 1): at a start from a
// checkpoint, a column a rule names exactly for a table the saved column
// lineage does not know, and that the table lacks, refuses the rules file
// (it may have been renamed while walrelay was stopped: the old walrelay
// kept no lineage, or it was lost), where the file used to be taken with a
// warning and the renamed column was published in clear. Not at a first
// start, not for a table the saved lineage knows, not under a glob, and
// not once the rule names the column's new name too, or no longer the
// old one.
func TestResumeGuardRefuses(t *testing.T) {
	t.Parallel()
	t1 := Table{Schema: "public", Name: "t1", Columns: []string{"id", "seq", "v", "contact", "notes"}} // secret renamed to contact
	t2 := Table{Schema: "public", Name: "t2", Columns: []string{"b", "a", "seq", "v", "secret", "notes"}}
	t1memo := Table{Schema: "public", Name: "t1", Columns: []string{"id", "seq", "v", "secret", "memo"}} // notes renamed to memo
	users := Table{Schema: "public", Name: "users", Columns: []string{"id", "email"}}
	orders := Table{Schema: "public", Name: "orders", Columns: []string{"id", "card"}}
	const (
		audit   = "rules:\n  - tables: [public.t1, public.t2]\n    columns: {exclude: [notes], mask: [secret]}\n"
		fixed   = "rules:\n  - tables: [public.t1, public.t2]\n    columns: {exclude: [notes], mask: [secret, contact]}\n"
		glob    = "rules:\n  - tables: [\"public.t*\"]\n    columns: {exclude: [notes], mask: [secret]}\n"
		perTab  = "rules:\n  - tables: [public.users, public.orders]\n    columns: {mask: [email, card]}\n"
		exclOne = "rules:\n  - tables: [public.t1]\n    columns: {exclude: [notes]}\n"
	)
	for _, c := range []struct {
		name   string
		rules  string
		tables []Table
		saved  map[string]bool // nil: not a resumed start
		want   string          // the column refused, "" none
	}{
		{"resumed, no lineage", audit, []Table{t1, t2}, map[string]bool{}, `"secret"`},
		{"excluded column renamed", audit, []Table{t1memo, t2}, map[string]bool{}, `"notes"`},
		{"single-table exclude", exclOne, []Table{t1memo}, map[string]bool{}, `"notes"`},
		{"first start", audit, []Table{t1, t2}, nil, ""},
		{"lineage knows t1", audit, []Table{t1, t2}, map[string]bool{"public.t1": true}, ""},
		{"new name added", fixed, []Table{t1, t2}, map[string]bool{}, ""},
		{"glob rule", glob, []Table{t1, t2}, map[string]bool{}, ""},
		{"columns per table", perTab, []Table{users, orders}, map[string]bool{}, ""},
	} {
		rs := mustParse(t, c.rules, "s")
		rs.fromSaved = c.saved
		err := rs.CheckWhere(c.tables)
		var refused []string
		for _, m := range rs.DescribeTables(c.tables) {
			for _, e := range m.Refused {
				refused = append(refused, e.Error())
			}
		}
		switch {
		case c.want == "" && (err != nil || len(refused) > 0):
			t.Errorf("%s: refused: %v / %q, want the file taken", c.name, err, refused)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "renamed") ||
			!strings.Contains(err.Error(), "dropped") || len(refused) != 1):
			t.Errorf("%s: CheckWhere %v, check's refusals %q; want one refusal of %s saying renamed or dropped", c.name, err, refused, c.want)
		}
	}
}

// TestResumeGuardNoWarningTwice: a column the guard refuses for a table is
// not also listed as a column the table lacks (walrelay check would print
// it as a FAIL and as a problem).
func TestResumeGuardNoWarningTwice(t *testing.T) {
	t.Parallel()
	t1 := Table{Schema: "public", Name: "t1", Columns: []string{"id", "contact"}}
	t2 := Table{Schema: "public", Name: "t2", Columns: []string{"id", "secret"}}
	rs := mustParse(t, "rules:\n  - tables: [public.t1, public.t2]\n    columns: {mask: [secret]}\n", "s")
	rs.fromSaved = map[string]bool{}
	for _, m := range rs.DescribeTables([]Table{t1, t2}) {
		for _, e := range m.Problems {
			if strings.Contains(e.Msg, `"secret"`) {
				t.Errorf("problem %q repeats the refusal", e.Error())
			}
		}
	}
}

// TestOldReadingHint (audit auditupg finding 4): a rule x.y.z written for
// table z of schema "x.y" (its meaning before 2026-11-28), which now names
// no existing table, says which name it likely means.
func TestOldReadingHint(t *testing.T) {
	t.Parallel()
	z := Table{Schema: "x.y", Name: "z", Columns: []string{"id"}}
	for _, c := range []struct{ rules, want string }{
		{"rules:\n  - tables: [x.y.z]\n", `did you mean '"x.y".z'?`},
		{"rules:\n  - tables: [x.y.q]\n", ""},
	} {
		var got string
		for _, m := range mustParse(t, c.rules, "s").DescribeTables([]Table{z}) {
			for _, e := range m.Warnings {
				if strings.Contains(e.Msg, "names no existing table") {
					got = e.Error()
				}
			}
		}
		if got == "" || c.want != "" && !strings.Contains(got, c.want) || c.want == "" && strings.Contains(got, "did you mean") {
			t.Errorf("%q: %q, want the no-table warning with %q", c.rules, got, c.want)
		}
	}
}
