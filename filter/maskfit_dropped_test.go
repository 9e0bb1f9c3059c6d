package filter

import (
	"strings"
	"testing"
)

// TestMaskedColumnDroppedWhileStopped (audit auditc8 D5): the only masked
// column of a rule's table was dropped while walrelay was stopped (or
// after the last change of the table it saw). At the next start the
// reconciled lineage shows the drop, so the rule is taken with a warning,
// not refused as a typo: for a rule naming the table and for a glob
// matching only it, with the saved attnums or without them. Still refused:
// a name the lineage never knew (a typo), a rename (the former-name
// error), and a drop while the table gained a column, without attnums
// (it may be a rename).
func TestMaskedColumnDroppedWhileStopped(t *testing.T) {
	t.Parallel()
	exact := "rules:\n  - tables: [public.m1]\n    columns: {mask: [secret]}\n"
	glob := "rules:\n  - tables: [\"public.m*\"]\n    columns: {mask: [secret]}\n"
	typo := "rules:\n  - tables: [public.m1]\n    columns: {mask: [secert]}\n"
	dropped := []CatalogColumn{catCol(1, "id", "int4"), droppedCol(2), catCol(3, "v", "int4")}
	gained := []CatalogColumn{catCol(1, "id", "int4"), droppedCol(2), catCol(3, "n", "int4")}
	for _, c := range []struct {
		name, rules string
		saved       *LineageState
		cat         []CatalogColumn
		want        string // "" = taken
	}{
		{"dropped, no attnums", exact, m1State(nil, "id:int4", "secret:text", "v:int4"), dropped, ""},
		{"dropped, attnums", exact, m1State([]int16{1, 2, 3}, "id:int4", "secret:text", "v:int4"), dropped, ""},
		{"dropped, glob", glob, m1State(nil, "id:int4", "secret:text", "v:int4"), dropped, ""},
		{"dropped and one added, attnums", exact, m1State([]int16{1, 2}, "id:int4", "secret:text"), gained, ""},
		{"dropped and one added, no attnums", exact, m1State(nil, "id:int4", "secret:text"), gained,
			`masked column "secret" exists in none of the tables the rule names (public.m1)`},
		{"typo", typo, m1State(nil, "id:int4", "secret:text", "v:int4"), dropped,
			`masked column "secert" exists in none of the tables the rule names (public.m1)`},
		{"renamed", exact, m1State(nil, "id:int4", "secret:text"),
			[]CatalogColumn{catCol(1, "id", "int4"), catCol(2, "token", "text")},
			`it is a former name of public.m1's column "token", which the rule does not mask`},
	} {
		rs := seededFrom(t, c.saved, c.rules, c.cat)
		var cols []string
		for _, cc := range c.cat {
			if !cc.Dropped {
				cols = append(cols, cc.Name)
			}
		}
		tables := []Table{{Schema: "public", Name: "m1", Columns: cols}}
		err := rs.CheckWhere(tables)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
		var refused, warned int
		for _, m := range rs.DescribeTables(tables) {
			refused += len(m.Refused)
			for _, w := range m.Warnings {
				if strings.Contains(w.Error(), `masked column "secret" does not exist in public.m1`) {
					warned++
				}
			}
		}
		if (refused > 0) != (c.want != "") {
			t.Errorf("%s: walrelay check lists %d refusals", c.name, refused)
		}
		if c.want == "" && warned != 1 {
			t.Errorf("%s: walrelay check warns %d times that secret is gone, want once", c.name, warned)
		}
	}
}
