package filter

import (
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// keyNamesOf names r's key columns in key order (KeyColumns).
func keyNamesOf(r *event.Relation) string {
	var ks []string
	for _, i := range r.KeyColumns() {
		ks = append(ks, r.Columns[i].Name)
	}
	return strings.Join(ks, ",")
}

// stockRel is inv.stock(sku, note, wh, qty) with PRIMARY KEY (wh, sku), as
// the decoder describes it: KeyOrder lists wh before sku.
func stockRel() *event.Relation {
	r := rel("inv.stock", "sku:text*", "note:text", "wh:int4*", "qty:int4")
	r.KeyOrder = []int{2, 0}
	return r
}

// TestProjectionKeepsKeyOrder: a projection that removes or masks columns
// keeps the key's order, re-indexed to the projected columns; the identity
// projection passes it unchanged. (The Debezium audit's D1: keys follow the
// primary key's order.)
func TestProjectionKeepsKeyOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, rules string }{
		{"no projection", "rules: [{tables: [inv.stock]}]"},
		{"excluded column before the key", "rules: [{tables: [inv.stock], columns: {exclude: [note]}}]"},
		{"masked key column", "rules: [{tables: [inv.stock], columns: {mask: [sku]}}]"},
	} {
		rs := mustParse(t, tc.rules, "salt")
		d := mustApply(t, rs, ins(stockRel(), "s1", "n", int32(1), int32(10)))
		if got := keyNamesOf(d.Change.Relation); got != "wh,sku" {
			t.Errorf("%s: key %q, want wh,sku", tc.name, got)
		}
	}
}

// TestRuleKeyOrder: a rule's key: replaces the primary key and its order:
// its columns are in the order the rule lists them (as Debezium's
// message.key.columns), whatever the primary key's order, while a rule
// without key: keeps the primary key's order.
func TestRuleKeyOrder(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `
rules:
  - tables: [inv.stock]
    operations: [insert]
    key: [qty, wh]
  - tables: [inv.stock]
`, "")
	r := stockRel()
	a := mustApply(t, rs, ins(r, "s1", "n", int32(1), int32(10)))
	c := mustApply(t, rs, del(r, "s1", event.Absent{}, int32(1), event.Absent{}))
	if got := keyNamesOf(a.Change.Relation); got != "qty,wh" {
		t.Errorf("key: [qty, wh]: key %q (KeyOrder %v), want qty,wh as listed", got, a.Change.Relation.KeyOrder)
	}
	if got := keyNamesOf(c.Change.Relation); got != "wh,sku" {
		t.Errorf("no key: key %q, want the primary key's wh,sku", got)
	}
}

// TestVersionsKeyOrder: two projections with the same columns and key flags
// but keys in other orders are different relation versions.
func TestVersionsKeyOrder(t *testing.T) {
	t.Parallel()
	vs := newVersions()
	orig := stockRel()
	cols := orig.Columns
	masked := make([]bool, len(cols))
	a := vs.relation(orig, cols, masked, []int{2, 0})
	b := vs.relation(orig, cols, masked, nil)
	if a == b || a.Version == b.Version || keyNamesOf(a) != "wh,sku" || keyNamesOf(b) != "sku,wh" {
		t.Errorf("versions %d (key %s) and %d (key %s): want two versions, keys wh,sku and sku,wh",
			a.Version, keyNamesOf(a), b.Version, keyNamesOf(b))
	}
	if again := vs.relation(orig, cols, masked, []int{2, 0}); again != a {
		t.Errorf("the same projection again made version %d, want %d", again.Version, a.Version)
	}
}
