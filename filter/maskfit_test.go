package filter

import (
	"strings"
	"testing"
)

// TestCheckWhereMaskTypo: a masked column that no table the rule names has
// (a typo, a wrong case) is refused, since the column meant would go out
// unmasked; one that only some tables of a glob have is accepted, and a
// rule with no table yet is not judged.
func TestCheckWhereMaskTypo(t *testing.T) {
	t.Parallel()
	users := Table{Schema: "app", Name: "users", Columns: []string{"id", "email"}}
	orders := Table{Schema: "app", Name: "orders", Columns: []string{"id", "total"}}
	cases := []struct {
		rules  string
		tables []Table
		want   string // "" = accepted
	}{
		{"rules:\n  - tables: [app.users]\n    columns: {mask: [Email]}\n", []Table{users, orders},
			`rules[0]: masked column "Email" exists in none of the tables the rule names (app.users)`},
		{"rules:\n  - tables: [\"app.*\"]\n    columns: {mask: [emial]}\n", []Table{users, orders},
			`masked column "emial" exists in none of the tables the rule names (app.users, app.orders)`},
		{"rules:\n  - tables: [\"app.*\"]\n    columns: {mask: [email]}\n", []Table{users, orders}, ""},
		{"rules:\n  - tables: [\"later.*\"]\n    columns: {mask: [emial]}\n", []Table{users, orders}, ""},
	}
	for _, tc := range cases {
		rs := mustParse(t, tc.rules, "salt")
		err := rs.CheckWhere(tc.tables)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: refused: %v", tc.rules, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want it to contain %q", tc.rules, err, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), "remove it from columns.mask"):
			t.Errorf("%q: error %v has no fix", tc.rules, err)
		}
		refused := 0
		for _, m := range rs.DescribeTables(tc.tables) {
			refused += len(m.Refused)
		}
		if (refused > 0) != (tc.want != "") {
			t.Errorf("%q: walrelay check lists %d refusals", tc.rules, refused)
		}
	}
}
