package filter

import (
	"strings"
	"testing"
)

// TestDescribeKeyFixQuoted: the fix SQL for a rule key column outside the
// replica identity quotes the table, so it runs as printed for a name with
// a space, upper case or a dot in its schema.
func TestDescribeKeyFixQuoted(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ schema, name, pattern, want string }{
		{"public", "Mixed Case", "public.Mixed Case", `ALTER TABLE "public"."Mixed Case" REPLICA IDENTITY FULL;`},
		{"x.y", "z", `'"x.y".z'`, `ALTER TABLE "x.y"."z" REPLICA IDENTITY FULL;`},
	} {
		tb := Table{Schema: c.schema, Name: c.name, Columns: []string{"id", "k"}, Key: []string{"id"},
			Identity: []string{"id"}, IdentityKind: "d"}
		rules := "rules:\n  - tables: [" + c.pattern + "]\n    key: [k]\n"
		var fixes []string
		for _, m := range mustParse(t, rules, "s").DescribeTables([]Table{tb}) {
			if m.Rule == 0 && len(m.Tables) == 0 {
				t.Errorf("%s: the rule names no table", c.pattern)
			}
			for _, e := range m.Refused {
				fixes = append(fixes, e.Fix)
			}
		}
		if len(fixes) != 1 || !strings.HasPrefix(fixes[0], c.want) {
			t.Errorf("%s: fixes %q, want one starting %q", c.pattern, fixes, c.want)
		}
	}
}
