package filter

import (
	"strings"
	"testing"
)

// shadowProblems returns the messages and fixes of the warnings
// DescribeTables reports for tables under rules, that mention "never decides"
// (warnings: walrelay run only warns about them, audit auditreadme #4).
func shadowProblems(t *testing.T, rules string, tables ...string) []*Error {
	t.Helper()
	var tbs []Table
	for _, n := range tables {
		s, name, _ := strings.Cut(n, ".")
		tbs = append(tbs, Table{Schema: s, Name: name, Columns: []string{"id", "aggregate_id", "payload", "topic"},
			Key: []string{"id"}, Identity: []string{"id"}, IdentityKind: "d"})
	}
	var out []*Error
	for _, m := range mustParse(t, rules, "s").DescribeTables(tbs) {
		for _, e := range m.Problems {
			if strings.Contains(e.Msg, "never decides") {
				t.Errorf("%q is a problem (walrelay check FAILs it): run only warns", e.Msg)
			}
		}
		for _, e := range m.Warnings {
			if strings.Contains(e.Msg, "never decides") {
				out = append(out, e)
			}
		}
	}
	return out
}

const outboxRule = `    outbox: {id: id, key: aggregate_id, topic: "ob.${topic}", payload: payload}
`

// TestDescribeOutboxRuleShadowed: an outbox rule after a plain rule for the
// same table (named, or through a glob) decides none of its inserts; walrelay
// check and run report it at the outbox rule's line, naming the earlier
// rule's line and the fix. First, it is not reported.
func TestDescribeOutboxRuleShadowed(t *testing.T) {
	t.Parallel()
	for _, first := range []string{"public.outbox", `"public.*"`} {
		rules := "rules:\n  - tables: [" + first + "]\n  - tables: [public.outbox]\n" + outboxRule
		ps := shadowProblems(t, rules, "public.outbox", "public.orders")
		if len(ps) != 1 || ps[0].Pos.Line != 3 || !strings.Contains(ps[0].Msg, "outbox rule for public.outbox") ||
			!strings.Contains(ps[0].Msg, "rules[0] (line 2)") || !strings.Contains(ps[0].Fix, "move the outbox rule above line 2") {
			t.Errorf("%s first: problems %v, want one at line 3 naming rules[0] (line 2) and the fix", first, ps)
		}
	}
	rules := "rules:\n  - tables: [public.outbox]\n" + outboxRule + "  - tables: [\"public.*\"]\n"
	if ps := shadowProblems(t, rules, "public.outbox", "public.orders"); len(ps) != 0 {
		t.Errorf("outbox rule first: problems %v, want none", ps)
	}
}

// TestDescribeRuleShadowedPerTable: a plain rule that an earlier one
// shadows for one of its tables (or for all but truncates) is reported for
// that table; a where expression on the earlier rule, a rule that names only
// truncates, and an exception named before a glob are not.
func TestDescribeRuleShadowedPerTable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rules string
		want  []string // tables reported
	}{
		{"rules:\n  - tables: [public.a]\n  - tables: [public.a, public.b]\n    topic: x\n", []string{"public.a"}},
		{"rules:\n  - tables: [public.a]\n  - tables: [public.a]\n    operations: [insert, truncate]\n", []string{"public.a"}},
		{"rules:\n  - tables: [public.a]\n    where: \"row.id > 1\"\n  - tables: [public.a, public.b]\n", nil},
		{"rules:\n  - tables: [public.a]\n  - tables: [public.a]\n    operations: [truncate]\n", nil},
		{"rules:\n  - tables: [public.a]\n    drop: true\n  - tables: [\"public.*\"]\n", nil},
	} {
		var got []string
		for _, e := range shadowProblems(t, c.rules, "public.a", "public.b") {
			for _, n := range []string{"public.a", "public.b"} {
				if strings.Contains(e.Msg, "change of "+n+":") {
					got = append(got, n)
				}
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%q: reported for %v, want %v", c.rules, got, c.want)
		}
	}
}
