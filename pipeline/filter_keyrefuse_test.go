package pipeline

import (
	"strings"
	"testing"
)

// TestOpenFilterRefusesWrongKeys (auditc9 #1): walrelay run took, with a
// warning, a rule that excludes the primary key and a glob rule whose key:
// column a table lacks, then published those tables' records with an empty
// key. Now the first session refuses the rules file, as walrelay check
// FAILs it; a rule naming no existing table is still taken.
func TestOpenFilterRefusesWrongKeys(t *testing.T) {
	t.Parallel()
	g := newGuardRig(t, `CREATE SCHEMA s2;
		CREATE TABLE s2.t1 (id int PRIMARY KEY, amount int, email text);
		CREATE TABLE s2.t2 (id int PRIMARY KEY, name text)`) // lineage_guard_test.go
	for _, c := range []struct{ rules, want string }{
		{`[{tables: [s2.t1], columns: {exclude: [id]}}]`, `excluded column "id" is part of s2.t1's primary key`},
		{`[{tables: ["s2.*"], key: [email]}]`, `key column "email" does not exist in s2.t2`},
		{`[{tables: [s2.nosuch]}, {tables: [s2.t1]}]`, ""},
	} {
		g.write("rules: " + c.rules + "\n")
		err := g.start(false)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: start: %v; want refused for %q (empty: taken)", c.rules, err, c.want)
		}
	}
}
