package pipeline

import (
	"testing"

	"github.com/walrelay/walrelay/event"
)

// TestSameColumnsKeyOrder: a chunk's relation whose key is ordered
// differently from the stream's (a primary key re-created over the same
// columns in another order) is not the same relation, so the chunk's rows
// keep their own key order (the Debezium audit's D1).
func TestSameColumnsKeyOrder(t *testing.T) {
	t.Parallel()
	mk := func(order []int) *event.Relation {
		return &event.Relation{OID: 1, Schema: "inv", Table: "stock", ReplicaIdentity: event.IdentityDefault, Version: 1,
			Columns: []event.Column{{Name: "sku", Key: true}, {Name: "wh", Key: true}, {Name: "qty"}}, KeyOrder: order}
	}
	if !sameColumns(mk([]int{1, 0}), mk([]int{1, 0})) || !sameColumns(mk(nil), mk(nil)) {
		t.Error("equal relations differ")
	}
	if sameColumns(mk([]int{1, 0}), mk(nil)) || sameColumns(mk(nil), mk([]int{1, 0})) {
		t.Error("relations whose keys are ordered differently are the same")
	}
}
