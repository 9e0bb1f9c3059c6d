package filter

import (
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// TestWhereIdentityAfter: a delete has no after, under any replica
// identity, so where: after.amount > 100 drops every delete (audit: the
// delete never reached Kafka and walrelay check said nothing). It is
// reported for DEFAULT and FULL alike, without FULL among the fixes (FULL
// does not help), and the fix it suggests does publish the delete.
func TestWhereIdentityAfter(t *testing.T) {
	t.Parallel()
	rules := "rules:\n  - tables: [public.orders]\n    where: 'after.amount > 100'\n"
	for _, kind := range []string{"d", "f"} {
		ws := identityWarnings(t, rules, ordersTable(kind, "id"))
		if len(ws) != 1 {
			t.Errorf("identity %s: warnings %v, want one", kind, ws)
			continue
		}
		w := ws[0]
		for _, want := range []string{"rules.yaml:3:12: rules[0].where reads after.amount, which a delete of public.orders does not have",
			"a delete it rejects is dropped silently"} {
			if !strings.Contains(w.Message(), want) {
				t.Errorf("identity %s: message %q lacks %q", kind, w.Message(), want)
			}
		}
		if strings.Contains(w.Fix, "FULL") || !strings.Contains(w.Fix, "leave delete out of operations") ||
			!strings.Contains(w.Fix, `where: 'op == "delete" || (after.amount > 100)'`) {
			t.Errorf("identity %s: fix %q, want leave delete out or op == \"delete\" ||, not FULL", kind, w.Fix)
		}
	}

	r := rel("public.orders", "id:int8*", "amount:numeric")
	d := del(r, int64(2), 700.0) // FULL: the old row is whole, after is still nil
	if got, err := mustParse(t, rules, "s").Apply(d); err != nil || got.Action != Drop {
		t.Errorf("after rule on a delete: %v, %v; want it dropped", got.Action, err)
	}
	fixed := strings.Replace(rules, `'after.amount > 100'`, `'op == "delete" || (after.amount > 100)'`, 1)
	if got, err := mustParse(t, fixed, "s").Apply(d); err != nil || got.Action != Keep {
		t.Errorf("suggested where on a delete: %v, %v; want it kept", got.Action, err)
	}
	for _, kind := range []string{"d", "f"} {
		if ws := identityWarnings(t, fixed, ordersTable(kind, "id")); len(ws) != 0 {
			t.Errorf("suggested where, identity %s: warnings %v, want none", kind, ws)
		}
	}
}

// TestWhereIdentityEvaluated: only a where that can come out false (or
// fail) on a delete is reported; one that lets every delete through, as
// row.amount == nil || ... does (audit: flagged although the delete
// passes), is not.
func TestWhereIdentityEvaluated(t *testing.T) {
	t.Parallel()
	const head = "rules:\n  - tables: [public.orders]\n    where: "
	typed := ordersTable("d", "id")
	typed.Types = []ColumnType{{TypeName: "int4"}, {TypeName: "int8"}, {TypeName: "numeric"}, {TypeName: "text"}, {TypeName: "text"}, {TypeName: "text"}}
	for _, c := range []struct {
		name, where string
		table       Table
		want        string // substring of the one warning; "" for none
	}{
		{"nil passes", `"row.amount == nil || row.amount > 100"`, ordersTable("d", "id"), ""},
		{"nil passes (before)", `"before.amount == nil or row.amount > 100"`, ordersTable("d", "id"), "key-changing update"}, // deletes pass, key changes are still judged by their reads
		{"nil passes (after)", `"after == nil || after.amount > 100"`, ordersTable("d", "id"), ""},
		{"nil passes, key read", `"row.id > 5 || row.amount == nil"`, typed, ""},
		{"op settles after", `"op != 'delete' && after.amount > 100"`, ordersTable("f"), ""},
		{"op settles after (or)", `"op == 'delete' || after.amount > 100"`, ordersTable("d", "id"), ""},
		{"default supplied", `"(row.amount ?? 0) > 100"`, ordersTable("d", "id"), "reads row.amount, which the old row"},
		{"not nil required", `"row.amount != nil && row.amount > 100"`, ordersTable("d", "id"), "dropped silently"},
		{"key and column", `"row.id > 5 || row.amount > 100"`, typed, "reads row.amount"},
		{"fails on null", `"row.amount + 1 > 5"`, typed, "fails on a delete (as null + 1 does) and the pipeline halts"},
		{"after on a key column", `"after.id > 5"`, ordersTable("d", "id"), "reads after.id"},
		{"row and after", `"row.status == 'x' || after.amount > 1"`, ordersTable("d", "id"),
			"reads row.status, which the old row of a delete of public.orders does not carry (replica identity: primary key [id], not FULL); and after.amount, which a delete"},
	} {
		ws := identityWarnings(t, head+c.where+"\n", c.table)
		if c.want == "" {
			if len(ws) != 0 {
				t.Errorf("%s: warnings %v, want none", c.name, ws)
			}
			continue
		}
		if len(ws) != 1 || !strings.Contains(ws[0].Msg, c.want) {
			t.Errorf("%s: warnings %v, want one with %q", c.name, ws, c.want)
		}
	}
	if ws := identityWarnings(t, head+`"after.id > 5"`+"\n", ordersTable("d", "id")); len(ws) == 1 &&
		!strings.Contains(ws[0].Fix, "read row, not after") {
		t.Errorf("after.id: fix %q, want read row", ws[0].Fix)
	}

	// What is not reported does pass deletes.
	r := rel("public.orders", "id:int8*", "amount:numeric")
	rules := head + `"row.amount == nil || row.amount > 100"` + "\n"
	if got, err := mustParse(t, rules, "s").Apply(del(r, int64(2), event.Absent{})); err != nil || got.Action != Keep {
		t.Errorf("row.amount == nil || ... on a delete: %v, %v; want it kept", got.Action, err)
	}
}
