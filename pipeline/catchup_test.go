package pipeline

import (
	"testing"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
)

// coveredByCatchup leaves out the added tables' changes that committed
// before the boundary, nothing else, and stops looking once the stream
// passes the boundary.
func TestCoveredByCatchup(t *testing.T) {
	t.Parallel()
	a := &event.Relation{Schema: "public", Table: "a"}
	b := &event.Relation{Schema: "public", Table: "b"}
	change := func(rel *event.Relation, xid uint32, commit event.LSN) *event.Change {
		return &event.Change{Relation: rel, Tx: &event.Tx{Xid: xid, CommitLSN: commit}}
	}
	s := &session{catchup: &checkpoint.Catchup{Tables: []string{"public.a"}, Boundary: 0x500}}
	steps := []struct {
		ch   *event.Change
		want bool
	}{
		{change(a, 1, 0x100), true},
		{change(b, 1, 0x100), false},
		{&event.Change{Tx: &event.Tx{Xid: 2, CommitLSN: 0x200}}, false}, // a logical message
		{change(a, 0, 0x600), false},                                    // a standalone message's synthetic tx
		{change(a, 3, 0x4ff), true},
		{change(a, 4, 0x500), false}, // at the boundary: not in the snapshot
		{change(a, 5, 0x300), false}, // cannot happen in commit order; the check has ended
	}
	for i, st := range steps {
		if got := s.coveredByCatchup(st.ch); got != st.want {
			t.Errorf("step %d (%+v): covered %v, want %v", i, st.ch.Tx, got, st.want)
		}
	}
	if s.catchup != nil {
		t.Errorf("still checking after the stream passed the boundary")
	}
}
