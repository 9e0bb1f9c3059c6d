package pipeline

import (
	"testing"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
)

// TestRouteOutboxUnderBlockingCatchup: an outbox insert committed before a
// blocking catch-up's boundary is published. The catch-up "covers" the
// table's changes, but its snapshot publishes no outbox event (reads of an
// outbox table publish nothing), so leaving the insert out would lose it
// (audit: `walrelay snapshot` of an outbox table with catchup: blocking).
func TestRouteOutboxUnderBlockingCatchup(t *testing.T) {
	t.Parallel()
	rules := mustRules(t, `rules:
  - tables: [public.obx]
    outbox: {id: id, key: agg, topic: "ev.${agg}", payload: payload}
`)
	rel := &event.Relation{OID: 1, Schema: "public", Table: "obx", Version: 1, Columns: []event.Column{
		{Name: "id", TypeName: "int8", Key: true}, {Name: "agg", TypeName: "text"}, {Name: "payload", TypeName: "text"}}}
	s := &session{
		catchup: &checkpoint.Catchup{Tables: []string{"public.obx"}, Boundary: 0x500},
		filter:  &filterState{current: rules, exits: func() bool { return false }},
	}
	s.filter.latest.Store(rules)
	tx := &event.Tx{Xid: 9, CommitLSN: 0x100}
	ch := &event.Change{Op: event.OpCreate, Tx: tx, Ordinal: 1, Relation: rel, After: []any{int64(7), "a1", "hello"}}
	if !s.coveredByCatchup(ch) {
		t.Fatal("test setup: the insert is not covered by the catch-up")
	}
	recs, err := s.route(ch)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Topic != "ev.a1" || string(recs[0].Value) != "hello" {
		t.Fatalf("records %+v, want the outbox event on ev.a1", recs)
	}
}
