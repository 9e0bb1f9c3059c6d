package filter

import (
	"strings"
	"testing"
)

// TestKeyRefused (auditc9 #1): run refuses (CheckWhere) and check FAILs
// (DescribeTables: Refused) a rule that would publish records under an
// empty or wrong key: an excluded primary key column, a key column a named
// table lacks, a key column outside the replica identity while the rule
// publishes deletes. What harms no key passes CheckWhere.
func TestKeyRefused(t *testing.T) {
	t.Parallel()
	t1 := Table{Schema: "s2", Name: "t1", Columns: []string{"id", "amount", "email"}, Key: []string{"id"},
		Identity: []string{"id"}, IdentityKind: "d"}
	t2 := Table{Schema: "s2", Name: "t2", Columns: []string{"id", "name"}, Key: []string{"id"},
		Identity: []string{"id"}, IdentityKind: "d"}
	full := t1
	full.Identity, full.IdentityKind = t1.Columns, "f"
	for _, c := range []struct {
		name, rules string
		tables      []Table
		refused     []string // in CheckWhere's error and in Refused, in order
	}{
		{"excluded primary key", `[{tables: [s2.t1], columns: {exclude: [id]}}]`, []Table{t1},
			[]string{`excluded column "id" is part of s2.t1's primary key`}},
		{"key a table lacks", `[{tables: [s2.t2], key: [id, email]}]`, []Table{t2},
			[]string{`key column "email" does not exist in s2.t2`}},
		{"glob key", `[{tables: ["s2.*"], key: [email]}]`, []Table{t1, t2},
			[]string{`key column "email" of s2.t1 is not in its replica identity`, `key column "email" does not exist in s2.t2`}},
		{"key outside identity, inserts only", `[{tables: [s2.t1], key: [email], operations: [insert]}]`, []Table{t1}, nil},
		{"key in a FULL identity", `[{tables: [s2.t1], key: [email]}]`, []Table{full}, nil},
		{"excluded primary key, key of others", `[{tables: [s2.t1], key: [email], columns: {exclude: [id]}}]`, []Table{full}, nil},
		{"no existing table", `[{tables: [s2.nosuch]}, {tables: [s2.t1]}]`, []Table{t1}, nil},
	} {
		rs := mustParse(t, "rules: "+c.rules+"\n", "s")
		err := rs.CheckWhere(c.tables)
		var refused []string
		for _, m := range rs.DescribeTables(c.tables) {
			for _, e := range m.Refused {
				refused = append(refused, e.Msg)
			}
			if len(m.Problems) > 0 {
				t.Errorf("%s: problems %v, want none (run refuses or takes each)", c.name, m.Problems)
			}
		}
		if len(refused) != len(c.refused) || (err == nil) != (len(c.refused) == 0) {
			t.Errorf("%s: CheckWhere %v, refused %q, want %q", c.name, err, refused, c.refused)
			continue
		}
		for i, want := range c.refused {
			if !strings.Contains(refused[i], want) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: CheckWhere %v, refused %q, want %q", c.name, err, refused[i], want)
			}
		}
	}
}
