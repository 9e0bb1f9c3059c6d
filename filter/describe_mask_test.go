package filter

import (
	"strings"
	"testing"
)

// TestDescribeMaskTypoOnce (audit m4): a masked column that none of the
// rule's tables has is reported once, as the refusal, not also as a
// problem of each table; a column that only some tables of a glob lack is
// still listed for those tables, as a warning, not a problem (walrelay run
// takes the file, so walrelay check must not FAIL it: audit auditreadme #4).
func TestDescribeMaskTypoOnce(t *testing.T) {
	t.Parallel()
	m2 := Table{Schema: "public", Name: "m2", Columns: []string{"id", "email"}}
	m3 := Table{Schema: "public", Name: "m3", Columns: []string{"id", "v"}}
	for _, c := range []struct {
		rules            string
		tables           []Table
		refused, warning int // reports naming the column, of each kind
		column           string
	}{
		{"rules:\n  - tables: [public.m2]\n    columns: {mask: [emial]}\n", []Table{m2}, 1, 0, "emial"},
		{"rules:\n  - tables: [\"public.m*\"]\n    columns: {mask: [emial]}\n", []Table{m2, m3}, 1, 0, "emial"},
		{"rules:\n  - tables: [\"public.m*\"]\n    columns: {mask: [email]}\n", []Table{m2, m3}, 0, 1, "email"},
	} {
		var refused, warnings []string
		for _, m := range mustParse(t, c.rules, "s").DescribeTables(c.tables) {
			for _, e := range m.Refused {
				if strings.Contains(e.Msg, `"`+c.column+`"`) {
					refused = append(refused, e.Error())
				}
			}
			for _, e := range m.Problems {
				if strings.Contains(e.Msg, `"`+c.column+`"`) {
					t.Errorf("%q: problem %q: walrelay run takes the file", c.rules, e.Error())
				}
			}
			for _, e := range m.Warnings {
				if strings.Contains(e.Msg, `"`+c.column+`"`) {
					warnings = append(warnings, e.Error())
				}
			}
		}
		if len(refused) != c.refused || len(warnings) != c.warning {
			t.Errorf("%q: %d refusals %q and %d warnings %q naming %q, want %d and %d",
				c.rules, len(refused), refused, len(warnings), warnings, c.column, c.refused, c.warning)
		}
	}
}
