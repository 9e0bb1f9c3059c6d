package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// custRule is audit auditc's finding 2: public.cust with email masked;
// other tables follow def.
func custRule(def string) string {
	return "default: " + def + "\nrules:\n  - tables: [public.cust]\n    columns: {mask: [email]}\n"
}

// custV1 is public.cust before the rename.
func custV1() *event.Relation { return rel("public.cust", "id:int4*", "email:text") }

// movedTo returns public.cust's relation under name (a rename or SET
// SCHEMA keeps the OID).
func movedTo(name string) *event.Relation {
	r := rel(name, "id:int4*", "email:text")
	r.OID = oidOf("public.cust")
	return r
}

// requireTableHalt checks that err halts a change of to, naming rules[rule]
// as the one that hid column under from, and the fix.
func requireTableHalt(t *testing.T, what string, d Decision, err error, rule int, from, to, column string, more ...string) {
	t.Helper()
	noPlain(t, what, d, "SECRET")
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("%s: decision %s (%v), error %v; want a RuleError: the table left the rule that hides %s", what, d.Action, afterOf(d), err, column)
	}
	if re.Rule != rule || re.Table != to || re.Column != column || re.Where != "" {
		t.Errorf("%s: RuleError rule %d table %q column %q where %q, want rules[%d] %s %q", what, re.Rule, re.Table, re.Column, re.Where, rule, to, column)
	}
	for _, w := range append([]string{"table " + from + " was renamed or moved to " + to,
		"would be published in plain text", "add " + to + " to tables of rules[", "and keep " + from + " there", "SIGHUP"}, more...) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q lacks %q", what, err, w)
		}
	}
}

// TestApplyTableRenamedLeavesMaskRule (audit auditc 2): with default:
// capture, a table renamed or moved to another schema leaves the rule that
// masks its column by name. Its next change halts, naming both names, the
// rule, the column and the fix, instead of going out on the new name's
// topic in plain text; so does the next session's (the lineage keeps the
// old name until the rules hide the column under the new one). With the
// fix (SIGHUP), the change is published masked, and so is a change from
// before the rename replayed afterwards.
func TestApplyTableRenamedLeavesMaskRule(t *testing.T) {
	t.Parallel()
	for _, to := range []string{"public.customers", "s9.cust"} {
		t.Run(to, func(t *testing.T) {
			t.Parallel()
			rs := mustParse(t, custRule("capture"), "s")
			noPlain(t, "v1", mustApply(t, rs, ins(custV1(), int32(1), "SECRET1")), "SECRET1")
			d, err := rs.Apply(ins(movedTo(to), int32(2), "SECRET2"))
			requireTableHalt(t, "renamed", d, err, 0, "public.cust", to, "email",
				`rules[0] hides its masked column "email" under the name public.cust`, "falls to the default (capture)")
			d, err = rs.Apply(ins(movedTo(to), int32(2), "SECRET2")) // a new session's relation
			requireTableHalt(t, "next session", d, err, 0, "public.cust", to, "email")

			fixed := strings.Replace(custRule("capture"), "[public.cust]", "[public.cust, "+to+"]", 1)
			next := mustParse(t, fixed, "s")
			next.Succeed(rs)
			noPlain(t, "fixed", mustApply(t, next, ins(movedTo(to), int32(2), "SECRET2")), "SECRET2")
			d = mustApply(t, next, ins(custV1(), int32(1), "SECRET1")) // replayed from before the rename
			noPlain(t, "replayed", d, "SECRET1")
			if d.Action != Keep {
				t.Errorf("replayed: %s, want keep (masked)", d.Action)
			}
		})
	}
}

// TestApplyTableRenamedRules: what the rule deciding the new name does
// with the columns the old name's rule hid.
func TestApplyTableRenamedRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, rules string
		halt        string // text of the halt; "" = no halt
		keep        bool   // published (masked where hidden)
	}{
		{"excluded", "default: capture\nrules:\n  - tables: [public.cust]\n    columns: {exclude: [email]}\n",
			`excluded column "email"`, false},
		{"another rule that does not mask", custRule("drop") + "  - tables: [public.customers]\n",
			"is decided by rules[1], which does not hide them", false},
		{"a rule for the new name that masks", custRule("capture") + "  - tables: [public.customers]\n    columns: {mask: [email]}\n",
			"", true},
		{"a rule for the new name that excludes", custRule("capture") + "  - tables: [public.customers]\n    columns: {exclude: [email]}\n",
			"", true},
		{"a glob naming both", "default: capture\nrules:\n  - tables: [\"public.cust*\"]\n    columns: {mask: [email]}\n", "", true},
		{"nothing hidden", "default: capture\nrules:\n  - tables: [public.cust]\n", "", true},
		{"default drop", custRule("drop"), "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rs := mustParse(t, c.rules, "s")
			mustApply(t, rs, ins(custV1(), int32(1), "SECRET1"))
			d, err := rs.Apply(ins(movedTo("public.customers"), int32(2), "SECRET2"))
			if c.halt != "" {
				requireTableHalt(t, c.name, d, err, 0, "public.cust", "public.customers", "email", c.halt)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if c.name != "nothing hidden" {
				noPlain(t, c.name, d, "SECRET2")
			}
			if (d.Action == Keep) != c.keep {
				t.Errorf("action %s, want keep %v", d.Action, c.keep)
			}
		})
	}
}

// TestApplyTableRenamedToDropWarns: a table the rules captured, renamed to
// a name they drop (default: drop, or a drop rule), publishes nothing: no
// halt, but the first decision carries the warning (old and new names,
// fix), once per table, not again in the next session.
func TestApplyTableRenamedToDropWarns(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{
		"default drop": custRule("drop"),
		"drop rule":    custRule("capture") + "  - tables: [public.customers]\n    drop: true\n",
		"no mask":      "rules:\n  - tables: [public.cust]\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rs := mustParse(t, src, "s")
			if d := mustApply(t, rs, ins(custV1(), int32(1), "a")); d.Action != Keep || d.Renamed != nil {
				t.Fatalf("v1: %s, renamed %+v; want keep, no warning", d.Action, d.Renamed)
			}
			d := mustApply(t, rs, ins(movedTo("public.customers"), int32(2), "SECRET2"))
			w := d.Renamed
			if d.Action != Drop || w == nil || w.Old != "public.cust" || w.New != "public.customers" || w.OID != oidOf("public.cust") {
				t.Fatalf("renamed: %s, warning %+v; want drop with the warning", d.Action, w)
			}
			if fix := w.Fix(); !strings.Contains(fix, "add public.customers to tables") || !strings.Contains(fix, "SIGHUP") {
				t.Errorf("fix %q", fix)
			}
			if d := mustApply(t, rs, ins(movedTo("public.customers"), int32(3), "x")); d.Renamed != nil {
				t.Errorf("second change warned again")
			}
			next := mustParse(t, src, "s")
			next.Inherit(rs)
			if d := mustApply(t, next, ins(movedTo("public.customers"), int32(3), "x")); d.Renamed != nil {
				t.Errorf("next session warned again")
			}
		})
	}
	rs := mustParse(t, "rules:\n  - tables: [public.cust, public.customers]\n", "s")
	mustApply(t, rs, ins(custV1(), int32(1), "a"))
	if d := mustApply(t, rs, ins(movedTo("public.customers"), int32(2), "b")); d.Renamed != nil || d.Action != Keep {
		t.Errorf("captured under both names: %s, warning %+v; want keep, none", d.Action, d.Renamed)
	}
}

// TestTableRenamedAcrossRestart: the table is renamed while walrelay is
// stopped; the restarted process, seeded with the saved lineage, halts on
// the first change under the new name, and so does the process after it
// (the lineage saved after the halt keeps the old name). After the fix, a
// change from before the rename replayed from the checkpoint is masked
// without a halt; with the old name removed from the rule, it would fall
// to the default in plain text: that halts.
func TestTableRenamedAcrossRestart(t *testing.T) {
	t.Parallel()
	src := custRule("capture")
	first := mustParse(t, src, "s")
	mustApply(t, first, ins(custV1(), int32(1), "SECRET1"))

	second := restarted(t, first, src)
	d, err := second.Apply(ins(movedTo("public.customers"), int32(2), "SECRET2"))
	requireTableHalt(t, "restarted", d, err, 0, "public.cust", "public.customers", "email")
	third := restarted(t, second, src)
	d, err = third.Apply(ins(movedTo("public.customers"), int32(2), "SECRET2"))
	requireTableHalt(t, "restarted again", d, err, 0, "public.cust", "public.customers", "email")

	fixed := strings.Replace(src, "[public.cust]", "[public.cust, public.customers]", 1)
	fourth := restarted(t, third, fixed)
	noPlain(t, "fixed", mustApply(t, fourth, ins(movedTo("public.customers"), int32(2), "SECRET2")), "SECRET2")
	replay := restarted(t, fourth, fixed)
	d = mustApply(t, replay, ins(custV1(), int32(1), "SECRET1"))
	if noPlain(t, "replayed", d, "SECRET1"); d.Action != Keep {
		t.Errorf("replayed: %s, want keep", d.Action)
	}

	oldGone := strings.Replace(src, "[public.cust]", "[public.customers]", 1)
	replay = restarted(t, fourth, oldGone)
	d, err = replay.Apply(ins(custV1(), int32(1), "SECRET1"))
	requireTableHalt(t, "replayed, old name gone", d, err, 0, "public.customers", "public.cust", "email")
}
