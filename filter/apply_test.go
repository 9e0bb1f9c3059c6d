package filter

import (
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

var (
	orders   = rel("public.orders", "id:int8*", "amount:numeric", "status:text", "notes:text", "card:text")
	custs    = rel("public.customers", "id:int8*", "email:text")
	salesX   = rel("sales.x", "id:int4*")
	salesY   = rel("sales.y", "id:int4*")
	audit    = rel("public.audit", "id:int8*")
	archive  = rel("archive.orders_2024", "id:int8*")
	archiveX = rel("archive.orders_old", "id:int8*")
)

// TestApplyMatching: which rule decides, in file order, by table, operation
// and default.
func TestApplyMatching(t *testing.T) {
	t.Parallel()
	const rules = `
default: drop
rules:
  - tables: [public.orders]
    operations: [delete]
    topic: deletes.orders
  - tables: [public.orders, public.customers]
  - tables: ["sales.*"]
    operations: [insert, truncate]
    topic: "s.${schema}.${table}"
  - tables: ["re:archive\\.orders_\\d+"]
    drop: true
  - tables: ["archive.*"]
`
	rs := mustParse(t, rules, "")
	cases := []struct {
		name   string
		ch     *event.Change
		action Action
		rule   int
		topic  string
	}{
		{"first rule wins for its operation", del(orders, int64(1), nil, nil, nil, nil), Keep, 0, "deletes.orders"},
		{"later rule for other operations", ins(orders, int64(1), dec(5, 0), "new", "n", "c"), Keep, 1, ""},
		{"update falls to rule 1", upd(orders, nil, []any{int64(1), dec(5, 0), "x", "n", "c"}), Keep, 1, ""},
		{"truncate is off unless named", trunc(orders), Drop, -1, ""},
		{"second table of a rule", ins(custs, int64(2), "a@b"), Keep, 1, ""},
		{"glob with operations", ins(salesX, int32(1)), Keep, 2, "s.sales.x"},
		{"glob: operation not listed", upd(salesY, nil, []any{int32(1)}), Drop, -1, ""},
		{"truncate named", trunc(salesY), Keep, 2, "s.sales.y"},
		{"regexp drop rule", ins(archive, int64(1)), Drop, 3, ""},
		{"regexp is anchored: next rule", ins(archiveX, int64(1)), Keep, 4, ""},
		{"unnamed table: default drop", ins(audit, int64(1)), Drop, -1, ""},
		{"message without routes: default drop", msg("events", true, "{}"), Drop, -1, ""},
	}
	for _, c := range cases {
		d := mustApply(t, rs, c.ch)
		if d.Action != c.action || d.Rule != c.rule || d.Topic != c.topic {
			t.Errorf("%s: got %s rule %d topic %q, want %s rule %d topic %q", c.name, d.Action, d.Rule, d.Topic, c.action, c.rule, c.topic)
		}
		if d.Action == Keep && (d.Change == c.ch || d.Change.Relation == c.ch.Relation) {
			t.Errorf("%s: the kept change must be a copy with the filter's relation", c.name)
		}
	}
}

func TestApplyDefaultCapture(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `
default: capture
rules:
  - tables: [public.audit]
    drop: true
  - tables: [public.orders]
    operations: [insert]
`, "")
	cases := []struct {
		ch     *event.Change
		action Action
	}{
		{ins(custs, int64(1), "a"), Keep}, // unnamed: default capture
		{trunc(custs), Keep},              // the default captures truncates too
		{ins(audit, int64(1)), Drop},      // drop rule
		{trunc(audit), Drop},              // a drop rule without operations drops truncates
		{del(orders, int64(1)), Drop},     // named but no rule matches: not the default
		{msg("any", false, "x"), Keep},    // messages follow the default too
		{ins(orders, int64(1), nil, nil, nil, nil), Keep},
	}
	for i, c := range cases {
		if d := mustApply(t, rs, c.ch); d.Action != c.action {
			t.Errorf("case %d (%s %s): %s, want %s", i, c.ch.Op, name(c.ch), d.Action, c.action)
		}
	}
}

func TestCaptures(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `
rules:
  - tables: [public.audit]
    drop: true
  - tables: ["public.*"]
  - tables: [sales.x]
    drop: true
    operations: [insert]
  - tables: ["sales.*"]
    operations: [insert]
  - tables: [ops.y]
    drop: true
    where: "row.id > 1"
  - tables: [ops.y]
`, "")
	for name, want := range map[string]bool{
		"public.audit": false, // dropped before the glob
		"public.other": true,
		"sales.x":      false, // the only operation the later rule takes is dropped first
		"sales.z":      true,
		"ops.y":        true, // a conditional drop leaves the rest to the next rule
		"ops.z":        false,
	} {
		if got := rs.Captures(name); got != want {
			t.Errorf("Captures(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestApplyColumns(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `
rules:
  - tables: [public.orders]
    operations: [insert, delete]
    columns: {exclude: [notes], mask: [card, id_missing]}
  - tables: [public.orders]
    operations: [update]
`, "pepper")
	ch := ins(orders, int64(1), dec(1250, 2), "new", "secret note", "4111111111111111")
	d := mustApply(t, rs, ch)
	got := d.Change
	if colNames(got.Relation) != "id,amount,status,card" {
		t.Fatalf("projected columns %s", colNames(got.Relation))
	}
	if c := got.Relation.Columns[3]; c.TypeName != "text" || c.TypeOID != textOID || c.TypeMod != -1 {
		t.Errorf("masked column is announced as %+v, want text", c)
	}
	// The mask is hex(sha256(salt || value)); TestDescribePG checks it against PostgreSQL's sha256().
	if len(got.After) != 4 || got.After[2] != "new" || got.After[3] != sha256Hex("pepper4111111111111111") {
		t.Errorf("projected row %v", got.After)
	}
	if len(ch.After) != 5 || ch.After[4] != "4111111111111111" || colNames(ch.Relation) != "id,amount,status,notes,card" {
		t.Errorf("Apply modified its input: %v %s", ch.After, colNames(ch.Relation))
	}
	// NULL stays NULL when masked; the projection is cached per relation version.
	d2 := mustApply(t, rs, del(orders, int64(1), event.Absent{}, event.Absent{}, event.Absent{}, nil))
	if d2.Change.Relation != got.Relation {
		t.Errorf("the same rule and relation version gave two relations")
	}
	if d2.Change.Before[3] != nil || d2.Change.Before[1] != (event.Absent{}) {
		t.Errorf("masked NULL / absent: %v", d2.Change.Before)
	}
	// Another rule on the same relation version: all columns, and a different Version.
	d3 := mustApply(t, rs, upd(orders, nil, []any{int64(1), dec(1, 0), "x", "n", "c"}))
	if colNames(d3.Change.Relation) != "id,amount,status,notes,card" || d3.Change.Relation.Version == got.Relation.Version {
		t.Errorf("update: columns %s version %d (insert's version %d)", colNames(d3.Change.Relation), d3.Change.Relation.Version, got.Relation.Version)
	}
	// A reload that continues the versions never reuses a (OID, Version).
	rs2 := mustParse(t, "rules: [{tables: [public.orders], columns: {exclude: [status]}}]", "")
	rs2.Succeed(rs)
	d4 := mustApply(t, rs2, ins(orders, int64(1), dec(1, 0), "x", "n", "c"))
	if v := d4.Change.Relation.Version; v == got.Relation.Version || v == d3.Change.Relation.Version {
		t.Errorf("after reload: version %d reused", v)
	}
}

// TestApplyKey: key: makes the listed columns the relation's key (in column
// order) in place of the primary key, in a relation version of its own;
// values pass unchanged.
func TestApplyKey(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `
rules:
  - tables: [public.orders]
    operations: [insert]
    key: [status, id]
  - tables: [public.orders]
`, "")
	d := mustApply(t, rs, ins(orders, int64(1), dec(1250, 2), "new", "note", "card"))
	var keys []string
	for _, i := range d.Change.Relation.KeyColumns() {
		keys = append(keys, d.Change.Relation.Columns[i].Name)
	}
	if strings.Join(keys, ",") != "status,id" {
		t.Errorf("key columns %v, want status,id as the rule lists them", keys)
	}
	if len(d.Change.After) != 5 || d.Change.After[2] != "new" {
		t.Errorf("values changed: %v", d.Change.After)
	}
	plain := mustApply(t, rs, del(orders, int64(1), event.Absent{}, event.Absent{}, event.Absent{}, event.Absent{}))
	if plain.Change.Relation.Version == d.Change.Relation.Version || len(plain.Change.Relation.KeyColumns()) != 1 {
		t.Errorf("the rule without key: version %d (keyed %d), key columns %v", plain.Change.Relation.Version,
			d.Change.Relation.Version, plain.Change.Relation.KeyColumns())
	}
}
