package pipeline

import (
	"reflect"
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema"
)

// TestTxMetaCounts: a transaction's events are counted per table in order
// of first appearance, tombstones not; reads, messages and changes outside
// a transaction are not counted; begin starts afresh; off counts nothing.
func TestTxMetaCounts(t *testing.T) {
	m := newTxMeta(true, "shop")
	if m.topic != "shop.transaction" {
		t.Fatalf("topic %q, want shop.transaction", m.topic)
	}
	a := &event.Relation{Schema: "public", Table: "a"}
	b := &event.Relation{Schema: "public", Table: "b"}
	val, tomb := event.Record{Value: []byte("v")}, event.Record{}
	tx := &event.Tx{Xid: 7}
	if m.counts(&event.Change{Op: event.OpCreate, Relation: a}) {
		t.Error("a change outside a transaction counts")
	}
	m.begin(tx)
	m.afterChange(&event.Change{Op: event.OpCreate, Relation: b}, []event.Record{val})
	m.afterChange(&event.Change{Op: event.OpDelete, Relation: a}, []event.Record{val, tomb})
	m.afterChange(&event.Change{Op: event.OpUpdate, Relation: b}, []event.Record{val, tomb, val}) // a key change
	m.afterChange(&event.Change{Op: event.OpRead, Relation: a}, []event.Record{val})
	m.afterChange(&event.Change{Op: event.OpMessage}, []event.Record{val})
	want := []schema.TxCollection{{Name: "public.b", EventCount: 3}, {Name: "public.a", EventCount: 1}}
	if m.count != 4 || !reflect.DeepEqual(m.cols, want) {
		t.Errorf("count %d, collections %+v; want 4, %+v", m.count, m.cols, want)
	}
	m.begin(&event.Tx{Xid: 8})
	if m.count != 0 || len(m.cols) != 0 || m.begun {
		t.Errorf("after begin: count %d, collections %+v, begun %v", m.count, m.cols, m.begun)
	}
	off := newTxMeta(false, "shop")
	off.begin(tx)
	if off.counts(&event.Change{Op: event.OpCreate, Relation: a}) {
		t.Error("transaction metadata off, and a change counts")
	}
}
