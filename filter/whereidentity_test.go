package filter

import (
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// ordersTable is README's public.orders with replica identity kind (d, i
// with identity columns ident, f).
func ordersTable(kind string, ident ...string) Table {
	cols := []string{"tenant_id", "id", "amount", "notes", "card_number", "status"}
	if kind == "f" {
		ident = cols
	}
	return Table{Schema: "public", Name: "orders", Columns: cols, Key: []string{"id"}, Identity: ident, IdentityKind: kind}
}

// identityWarnings returns the warnings DescribeTables reports for rules
// on tables (a where expression reading a column a delete lacks); it
// fails the test if one is among the problems.
func identityWarnings(t *testing.T, rules string, tables ...Table) []*Error {
	t.Helper()
	var out []*Error
	for _, m := range mustParse(t, rules, "s").DescribeTables(tables) {
		for _, e := range m.Problems {
			if strings.Contains(e.Msg, ".where reads") {
				t.Errorf("problem %v, want it among the warnings", e)
			}
		}
		out = append(out, m.Warnings...)
	}
	return out
}

// TestWhereIdentityReadmeExample: README's rule (operations insert, update,
// delete; where row.amount > 100) on a table with the default replica
// identity drops every delete, since a delete's old row has no amount
// (audit: a published row was deleted and nothing reached Kafka, no
// warning). walrelay check and run (start, SIGHUP) report it at the where
// line, naming the rule, table and column, with the three fixes; and the
// fix it suggests does publish the delete.
func TestWhereIdentityReadmeExample(t *testing.T) {
	t.Parallel()
	rules := "rules:\n  - tables: [public.orders]\n    operations: [insert, update, delete]\n    where: \"row.amount > 100\"\n"
	ws := identityWarnings(t, rules, ordersTable("d", "id"))
	if len(ws) != 1 {
		t.Fatalf("warnings %v, want one", ws)
	}
	w := ws[0]
	for _, want := range []string{"rules.yaml:4:12: rules[0].where reads row.amount", "a delete of public.orders",
		"replica identity: primary key [id]", "dropped silently (no delete event, no tombstone)"} {
		if !strings.Contains(w.Message(), want) {
			t.Errorf("message %q lacks %q", w.Message(), want)
		}
	}
	for _, want := range []string{`ALTER TABLE "public"."orders" REPLICA IDENTITY FULL`, "leave delete out of operations",
		`where: 'op == "delete" || (row.amount > 100)'`} {
		if !strings.Contains(w.Fix, want) {
			t.Errorf("fix %q lacks %q", w.Fix, want)
		}
	}

	// What the warning is about, and that its fix works.
	r := rel("public.orders", "id:int8*", "amount:numeric")
	d := del(r, int64(2), event.Absent{})
	if got, err := mustParse(t, rules, "s").Apply(d); err != nil || got.Action != Drop {
		t.Errorf("README rule on a delete: %v, %v; want it dropped", got.Action, err)
	}
	fixed := strings.Replace(rules, `"row.amount > 100"`, `'op == "delete" || (row.amount > 100)'`, 1)
	if got, err := mustParse(t, fixed, "s").Apply(d); err != nil || got.Action != Keep {
		t.Errorf("suggested where on a delete: %v, %v; want it kept", got.Action, err)
	}
	if ws := identityWarnings(t, fixed, ordersTable("d", "id")); len(ws) != 0 {
		t.Errorf("suggested where: warnings %v, want none", ws)
	}
}

// TestWhereIdentityCases: only a where that a delete (or a key change)
// evaluates on a column its old row lacks is reported.
func TestWhereIdentityCases(t *testing.T) {
	t.Parallel()
	const head = "rules:\n  - tables: [public.orders]\n"
	for _, c := range []struct {
		name  string
		rule  string
		table Table
		want  []string // substrings of the warnings, one per warning
	}{
		{"full identity", "    where: row.amount > 100\n", ordersTable("f"), nil},
		{"nothing identity", "    where: row.amount > 100\n", ordersTable("n"), nil},
		{"index identity holding the column", "    where: row.amount > 100\n", ordersTable("i", "id", "amount"), nil},
		{"index identity without it", "    where: row.amount > 100 && row.id > 0\n", ordersTable("i", "id", "tenant_id"),
			[]string{"reads row.amount, which the old row of a delete of public.orders does not carry (replica identity: index on [id tenant_id]"}},
		{"default operations", "    where: row.status == 'paid' || before.notes != nil\n", ordersTable("d", "id"),
			[]string{"reads before.notes, row.status, which the old row of a delete", "reads before.notes, which the old row of a key-changing update"}},
		{"get() and row[]", "    where: get(row, 'amount') > 1 || row['status'] == 'x'\n", ordersTable("d", "id"),
			[]string{"reads row.amount, row.status"}},
		{"quotes in the fix", "    where: \"row.status == 'paid'\"\n", ordersTable("d", "id"), []string{"reads row.status"}},
		{"no deletes", "    operations: [insert, update]\n    where: row.amount > 100\n", ordersTable("d", "id"), nil},
		{"key columns only", "    where: row.id > 5\n", ordersTable("d", "id"), nil},
		{"deletes pass", "    where: op == 'delete' or row.amount > 100\n", ordersTable("d", "id"), nil},
		{"deletes pass (in)", "    where: \"op in ['delete'] ? true : row.amount > 100\"\n", ordersTable("d", "id"), nil},
		{"deletes left out", "    where: op != 'delete' && row.amount > 100\n", ordersTable("d", "id"), nil},
		{"deletes left out (not in)", "    where: not (op not in ['insert', 'update']) and row.amount > 1\n", ordersTable("d", "id"), nil},
		{"only updates settled", "    where: op == 'update' || row.amount > 100\n", ordersTable("d", "id"),
			[]string{"reads row.amount, which the old row of a delete"}},
		{"drop rule", "    drop: true\n    where: row.amount > 100\n", ordersTable("d", "id"), nil},
		{"dynamic column", "    where: row[string('amount')] > 100\n", ordersTable("d", "id"), nil},
	} {
		ws := identityWarnings(t, head+c.rule, c.table)
		if len(ws) != len(c.want) {
			t.Errorf("%s: warnings %v, want %d", c.name, ws, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(ws[i].Msg, w) {
				t.Errorf("%s: warning %q lacks %q", c.name, ws[i].Msg, w)
			}
		}
		if c.name == "quotes in the fix" && !strings.Contains(ws[0].Fix, `where: 'op == "delete" || (row.status == ''paid'')'`) {
			t.Errorf("fix %q: want the where quoted for YAML", ws[0].Fix)
		}
	}
}

// TestWhereIdentityDecidedEarlier: a rule whose deletes an earlier rule
// without where decides is not reported for deletes.
func TestWhereIdentityDecidedEarlier(t *testing.T) {
	t.Parallel()
	rules := "rules:\n  - tables: [public.orders]\n    operations: [delete]\n  - tables: [\"public.*\"]\n    where: row.amount > 100 || before.amount > 100\n"
	if ws := identityWarnings(t, rules, ordersTable("d", "id")); len(ws) != 1 || !strings.Contains(ws[0].Msg, "key-changing update") {
		t.Errorf("warnings %v, want only the key change's", ws)
	}
}
