package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// fitTable is a table with one column of each kind a where expression
// sees differently.
var fitTable = Table{Schema: "public", Name: "t",
	Columns: []string{"id", "v", "n", "big", "amount", "price", "flag", "at", "day", "clock", "iv", "tags",
		"doc", "u", "mood", "h", "geom", "p", "bits", "custom"},
	Types: []ColumnType{{"int4", event.KindBase}, {"text", event.KindBase}, {"int4", event.KindBase},
		{"int8", event.KindBase}, {"numeric", event.KindBase}, {"float8", event.KindBase}, {"bool", event.KindBase},
		{"timestamptz", event.KindBase}, {"date", event.KindBase}, {"time", event.KindBase},
		{"interval", event.KindBase}, {"_text", event.KindArray}, {"jsonb", event.KindBase}, {"uuid", event.KindBase},
		{"mood", event.KindEnum}, {"hstore", event.KindOther}, {"geometry", event.KindOther}, {"point", event.KindBase},
		{"varbit", event.KindBase}, {"date", event.KindOther}}, // custom: a composite type named date, outside pg_catalog
}

func checkWhere(t *testing.T, where string, tables ...Table) error {
	t.Helper()
	rs := mustParse(t, "rules:\n  - tables: [\"public.*\"]\n    where: "+quoteYAML(where)+"\n", "")
	return rs.CheckWhere(tables)
}

// TestCheckWhereFits: expressions that can decide the table's rows pass,
// whatever the column types (NULLs are for the run-time check).
func TestCheckWhereFits(t *testing.T) {
	t.Parallel()
	for _, where := range []string{
		"row.n > 2", "row.v == nil", "row.v != nil && row.v > 'a'", "(row.n ?? 0) > 2", "row.n > 2.5",
		"row.big > 5 && row.big + row.n > 3", "row.amount > 100", "row.amount == 100", "row.price * 2 == 5",
		"row.flag", "!row.flag", "row.at > date('2026-01-01')", "row.day == date('2026-01-02')", "row.at.Year() > 2020",
		"row.clock < duration('12h')", "row.iv > duration('24h')", "'b' in row.tags && len(row.tags) == 2",
		"row.tags[0] == 'x'", `row.doc contains '"k"'`, "fromJSON(row.doc).k == 1", "row.u == 'abc'",
		"row.mood in ['happy', 'sad']", "row.h.k == 'v'", "row.geom.srid == 4326", "row.p.x > 1", "row.bits == '101'",
		"row.bits == true", "row.custom == '(1)'", "len(row) > 3", "get(row, 'nosuch') == nil", "'nosuch' in row",
		"row[op] == 1", "before.n != after.n", "op == 'delete' || after.v startsWith 'x'", "$env.row.v == 'a'",
		"lower(row.v) matches '^a'", "int(row.v) > 5",
	} {
		if err := checkWhere(t, where, fitTable); err != nil {
			t.Errorf("where %q: %v, want it to fit", where, err)
		}
	}
}

// TestCheckWhereMisfits: the audit's cases and their kin are refused with
// the rule, the table, what is wrong and a fix.
func TestCheckWhereMisfits(t *testing.T) {
	t.Parallel()
	cases := []struct{ where, want, fix string }{
		{"row.nosuch > 2", `rules.yaml:3:12: rules[0].where: column "nosuch" does not exist in public.t (columns: id, v, n, big,`, `get(row, "nosuch")`},
		{"row.v == 'a' || row.nosuch > 2", `column "nosuch" does not exist in public.t`, "fix the column name"},
		{`row["nosuch"] == 1`, `column "nosuch" does not exist`, ""},
		{"before.nosuch == 1", `column "nosuch" does not exist`, ""},
		{"row.v > 5", `rules.yaml:3:19: rules[0].where does not type-check against public.t: invalid operation: > (mismatched types string and int) (v is text: string in expressions)`, "compare a column with a value of its type"},
		{"row.n + 1", `rules.yaml:3:12: rules[0].where does not type-check against public.t: expected bool, but got int (n is int4: int in expressions)`, "true or false"},
		{"row.v", "expected bool, but got string", "true or false"},
		{"row.v == 1", "mismatched types string and int", ""},
		{"row.day > 5", "mismatched types time.Time and int", ""},
		{"row.iv > 5", "mismatched types time.Duration and int", ""},
		{"row.amount == 'x'", "mismatched types float64 and string", ""},
		{"row.price % 2 == 0", "mismatched types float64 and int", ""},
		{"row.flag > 1", "mismatched types bool and int", ""},
		{"row.p.z > 1", "unknown field z", "language-definition"},
	}
	for _, c := range cases {
		err := checkWhere(t, c.where, fitTable)
		e := FirstError(err)
		if e == nil || !strings.Contains(e.Message(), c.want) || !strings.Contains(e.Fix, c.fix) {
			t.Errorf("where %q: %v, want %q with a fix containing %q", c.where, err, c.want, c.fix)
		}
	}
}

// TestCheckWhereNamesOnly: without column types (a table listed by Tables,
// not TablesWithTypes) only the names are checked.
func TestCheckWhereNamesOnly(t *testing.T) {
	t.Parallel()
	untyped := Table{Schema: "public", Name: "u", Columns: []string{"v"}}
	if err := checkWhere(t, "row.v > 5", untyped); err != nil {
		t.Errorf("untyped v > 5: %v, want no error (types unknown)", err)
	}
	if err := checkWhere(t, "row.n > 5", untyped); err == nil || !strings.Contains(err.Error(), `column "n" does not exist in public.u`) {
		t.Errorf("untyped missing column: %v", err)
	}
}

// TestCheckWhereReach: a where is checked only against the tables for
// which the rule can evaluate it: not where an earlier rule without a where
// decides all of its operations first, nor for truncates (where does not
// apply to them); an earlier rule with a where decides nothing for sure.
func TestCheckWhereReach(t *testing.T) {
	t.Parallel()
	a := Table{Schema: "public", Name: "a", Columns: []string{"id", "n"}, Types: []ColumnType{{"int4", 0}, {"int4", 0}}}
	b := Table{Schema: "public", Name: "b", Columns: []string{"id"}, Types: []ColumnType{{"int4", 0}}}
	cases := []struct {
		rules string
		want  string // "" = fits
	}{
		{"  - tables: [public.b]\n    drop: true\n  - tables: [\"public.*\"]\n    where: 'row.n > 1'\n", ""},
		{"  - tables: [public.b]\n  - tables: [\"public.*\"]\n    where: 'row.n > 1'\n", ""},
		{"  - tables: [public.b]\n    operations: [insert]\n  - tables: [\"public.*\"]\n    where: 'row.n > 1'\n", "rules[1].where: column \"n\" does not exist in public.b"},
		{"  - tables: [public.b]\n    operations: [insert, update, delete]\n  - tables: [\"public.*\"]\n    operations: [insert, truncate]\n    where: 'row.n > 1'\n", ""},
		{"  - tables: [public.b]\n    where: 'row.id > 1'\n  - tables: [\"public.*\"]\n    where: 'row.n > 1'\n", "rules[1].where: column \"n\" does not exist in public.b"},
		{"  - tables: [\"public.*\"]\n    where: 'row.n > 1'\n    drop: true\n", "rules[0].where: column \"n\" does not exist in public.b"},
	}
	for _, c := range cases {
		rs := mustParse(t, "rules:\n"+c.rules, "")
		err := rs.CheckWhere([]Table{a, b})
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("rules\n%s: %v, want %q", c.rules, err, c.want)
		}
	}
}

// TestCheckWherePosition: a type error points at the offending operator in
// plain, quoted and literal block scalars.
func TestCheckWherePosition(t *testing.T) {
	t.Parallel()
	cases := []struct{ src, want string }{
		{"rules:\n  - tables: [public.t]\n    where: row.v > 5\n", "3:18"},
		{"rules:\n  - tables: [public.t]\n    where: \"row.v > 5\"\n", "3:19"},
		{"rules:\n  - tables: [public.t]\n    where: |\n      row.id > 1 &&\n        row.v > 5\n", "5:15"},
	}
	for _, c := range cases {
		rs := mustParse(t, c.src, "")
		e := FirstError(rs.CheckWhere([]Table{fitTable}))
		if e == nil || e.Pos.String() != c.want {
			t.Errorf("%q: %v, want it at %s", c.src, e, c.want)
		}
	}
}

// TestApplyWhereTableChanged: a where checked against one relation version
// halts (a *RuleError naming the rule, table, event and column) when a
// later version of the table lacks a column it reads, or changed its type,
// instead of reading NULL and dropping the change.
func TestApplyWhereTableChanged(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, "default: drop\nrules:\n  - tables: [public.s]\n    where: \"row.n > 2\"\n", "")
	v1 := rel("public.s", "id:int4*", "v:text", "n:int4")
	if d := mustApply(t, rs, ins(v1, int32(5), "e", int32(5))); d.Action != Keep {
		t.Fatalf("v1: %s, want keep", d.Action)
	}
	v2 := rel("public.s", "id:int4*", "v:text")
	v2.Version = 2
	d, err := rs.Apply(ins(v2, int32(6), "f"))
	var re *RuleError
	if !errors.As(err, &re) || re.Column != "n" || re.Table != "public.s" || re.Rule != 0 || re.Event != "00000000016B3748-00000005" {
		t.Fatalf("dropped column: decision %s, error %#v, want a RuleError for column n", d.Action, err)
	}
	for _, w := range []string{`rules[0] (line 3) where "row.n > 2" on public.s`, `column "n" does not exist in public.s (columns: id, v)`, "fix the column name"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	v3 := rel("public.s", "id:int4*", "v:text", "n:text")
	v3.Version = 3
	_, err = rs.Apply(ins(v3, int32(7), "g", "7"))
	if !errors.As(err, &re) || re.Column != "" || !strings.Contains(err.Error(), "mismatched types string and int) (n is text: string in expressions)") {
		t.Fatalf("n became text: %v, want a type error", err)
	}
	// A truncate carries no row: where does not apply, nothing to check.
	if d := mustApply(t, mustParse(t, "rules:\n  - tables: [public.s]\n    operations: [truncate]\n    where: \"row.n > 2\"\n", ""), trunc(v2)); d.Action != Keep {
		t.Errorf("truncate: %s, want keep", d.Action)
	}
}

// TestApplyWhereEvalErrorIsRuleError: an expression that fits the types but
// fails on a value is a *RuleError on one line, and says what to fix
// without promising a SIGHUP the caller may not be able to take.
func TestApplyWhereEvalErrorIsRuleError(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, "rules:\n  - tables: [public.s]\n    where: \"row.n + 1 > 2\"\n", "")
	s := rel("public.s", "id:int4*", "n:int4")
	_, err := rs.Apply(ins(s, int32(1), nil))
	var re *RuleError
	if !errors.As(err, &re) || re.Column != "" {
		t.Fatalf("NULL + 1: %v, want a RuleError", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || strings.Contains(msg, "SIGHUP") || !strings.Contains(msg, "invalid operation: <nil> + int") ||
		!strings.Contains(msg, "guard NULLs with ??") {
		t.Errorf("error %q: want one line naming the failure and the fix, no SIGHUP", msg)
	}
}
