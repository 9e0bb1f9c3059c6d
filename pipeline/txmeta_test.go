package pipeline

import (
	"reflect"
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema"
)

// TestTxMetaCounts: a transaction's events are counted per table in order
// of first appearance, tombstones not; reads and changes outside a
// transaction are not counted; begin starts afresh; off counts nothing.
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
	want := []schema.TxCollection{{Name: "public.b", EventCount: 3}, {Name: "public.a", EventCount: 1}}
	if m.count != 4 || !reflect.DeepEqual(m.collections(), want) {
		t.Errorf("count %d, collections %+v; want 4, %+v", m.count, m.collections(), want)
	}
	m.begin(&event.Tx{Xid: 8})
	if m.count != 0 || len(m.cols) != 0 || m.begun {
		t.Errorf("after begin: count %d, collections %+v, begun %v", m.count, m.cols, m.begun)
	}
	off := newTxMeta(false, "shop") // still numbers the events, publishes no BEGIN/END
	off.begin(tx)
	if !off.counts(&event.Change{Op: event.OpCreate, Relation: a}) || off.topic != "" {
		t.Error("transaction metadata off: a change is not numbered, or BEGIN/END would be published")
	}
}

// TestTxMetaCountsMessages: a transactional logical decoding message is an
// event of its transaction, as Debezium counts it: it counts in
// event_count, under its prefix, apart from a table of the same name;
// a non-transactional message (a heartbeat) does not count.
func TestTxMetaCountsMessages(t *testing.T) {
	m := newTxMeta(true, "shop")
	rel := &event.Relation{Schema: "public", Table: "a"}
	val := event.Record{Value: []byte("v")}
	msg := func(prefix string, transactional bool) *event.Change {
		return &event.Change{Op: event.OpMessage, Message: &event.LogicalMessage{Prefix: prefix, Transactional: transactional}}
	}
	m.begin(&event.Tx{Xid: 7})
	if !m.counts(msg("audit", true)) {
		t.Error("a transactional message does not count")
	}
	if m.counts(msg("walrelay_heartbeat", false)) || m.counts(&event.Change{Op: event.OpMessage}) {
		t.Error("a non-transactional message (or one without its message) counts")
	}
	m.afterChange(&event.Change{Op: event.OpCreate, Relation: rel}, []event.Record{val})
	m.afterChange(msg("audit", true), []event.Record{val})
	m.afterChange(msg("public.a", true), []event.Record{val})
	m.afterChange(msg("audit", true), []event.Record{val})
	m.afterChange(msg("walrelay_heartbeat", false), []event.Record{val})
	m.afterChange(&event.Change{Op: event.OpCreate, Relation: rel}, []event.Record{val})
	want := []schema.TxCollection{{Name: "public.a", EventCount: 2}, {Name: "audit", EventCount: 2},
		{Name: "public.a", EventCount: 1}}
	if m.count != 5 || !reflect.DeepEqual(m.collections(), want) {
		t.Errorf("count %d, collections %+v; want 5, %+v", m.count, m.collections(), want)
	}
}

// TestTxMetaCountsNullValues: records published with a null value that are
// not tombstones count in END's event_count: an outbox row with a NULL
// payload (an insert published raw) and a message; a delete's tombstone
// does not (audit: END said event_count 0 for both).
func TestTxMetaCountsNullValues(t *testing.T) {
	m := newTxMeta(true, "shop")
	obx := &event.Relation{Schema: "public", Table: "outbox"}
	null, val := event.Record{}, event.Record{Value: []byte("v")}
	m.begin(&event.Tx{Xid: 7})
	m.afterChange(&event.Change{Op: event.OpCreate, Relation: obx}, []event.Record{null})
	m.afterChange(&event.Change{Op: event.OpMessage, Message: &event.LogicalMessage{Prefix: "ev", Transactional: true}}, []event.Record{null})
	m.afterChange(&event.Change{Op: event.OpDelete, Relation: obx}, []event.Record{val, null})
	want := []schema.TxCollection{{Name: "public.outbox", EventCount: 2}, {Name: "ev", EventCount: 1}}
	if m.count != 3 || !reflect.DeepEqual(m.collections(), want) {
		t.Errorf("count %d, collections %+v; want 3, %+v", m.count, m.collections(), want)
	}
}
