package pipeline

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema"
)

// TestTransactionOrderAfterRules: total_order and data_collection_order
// number the events a transaction publishes, after the rules: a row the
// where expression drops, an unrouted message and a truncate its rule does
// not name take no position. They run 1..END's event_count (per
// collection, 1..its count), with outbox rows and routed messages (raw
// records, which carry no transaction block) and a NULL-payload outbox row
// counted as events, and a key change as two (delete, create; its
// tombstone none), as in Debezium (audit auditx finding 2: orders 2 and 4
// with event_count 2).
func TestTransactionOrderAfterRules(t *testing.T) {
	t.Parallel()
	rules := mustRules(t, `default: drop
rules:
  - tables: [public.f]
    where: "row.v != 'skip'"
  - tables: [public.t]
    operations: [insert, update, delete, truncate]
  - tables: [public.obx]
    outbox: {id: id, key: agg, topic: "ev.${agg}", payload: payload}
messages:
  - prefix: routed
    topic: app.routed
`)
	col := func(name, typ string, key bool) event.Column {
		oid := map[string]uint32{"int4": 23, "text": 25}[typ]
		return event.Column{Name: name, TypeOID: oid, TypeName: typ, TypeMod: -1, Key: key}
	}
	f := &event.Relation{OID: 1, Schema: "public", Table: "f", Version: 1, ReplicaIdentity: event.IdentityDefault,
		Columns: []event.Column{col("id", "int4", true), col("v", "text", false)}}
	tt := &event.Relation{OID: 2, Schema: "public", Table: "t", Version: 1, ReplicaIdentity: event.IdentityDefault,
		Columns: []event.Column{col("id", "int4", true)}}
	obx := &event.Relation{OID: 3, Schema: "public", Table: "obx", Version: 1, ReplicaIdentity: event.IdentityDefault,
		Columns: []event.Column{col("id", "text", true), col("agg", "text", false), col("payload", "text", false)}}
	msg := func(prefix string) *event.Change {
		return &event.Change{Op: event.OpMessage, Message: &event.LogicalMessage{Transactional: true, Prefix: prefix, Content: []byte("x")}}
	}
	changes := []*event.Change{
		{Op: event.OpCreate, Relation: f, After: []any{int32(300), "skip"}}, // dropped by where
		{Op: event.OpCreate, Relation: f, After: []any{int32(301), "keep"}},
		msg("otherprefix"), // unrouted: dropped
		{Op: event.OpCreate, Relation: tt, After: []any{int32(1)}},
		{Op: event.OpTruncate, Relation: f}, // its rule does not name truncate
		{Op: event.OpTruncate, Relation: tt},
		{Op: event.OpCreate, Relation: obx, After: []any{"e1", "a1", "hello"}},
		msg("routed"),
		{Op: event.OpUpdate, Relation: f, Before: []any{int32(301), event.Absent{}}, After: []any{int32(305), "keep"}}, // key change
		{Op: event.OpCreate, Relation: f, After: []any{int32(302), "skip"}},
		{Op: event.OpCreate, Relation: f, After: []any{int32(303), "keep"}},
		{Op: event.OpCreate, Relation: obx, After: []any{"e2", "a1", nil}}, // NULL payload: a null value, an event
	}
	s := &session{cfg: &config.Config{}, enc: schema.NewJSON(schema.Options{TopicPrefix: "app", Tombstones: true}),
		filter: &filterState{current: rules, exits: func() bool { return false }}}
	s.filter.latest.Store(rules)
	for _, on := range []bool{true, false} { // the numbering does not depend on transaction_metadata
		p := &publisher{s: s, meta: newTxMeta(on, "app")}
		tx := &event.Tx{Xid: 9, CommitLSN: 0x100}
		p.meta.begin(tx)
		var got []string
		decoded := map[collection]uint32{} // the decoder's CollectionOrder, before the rules
		for i, c := range changes {
			ch := *c
			ch.Tx, ch.Ordinal, ch.LSN = tx, uint32(i+1), event.LSN(0x10+i)
			decoded[collectionOf(&ch)]++
			ch.CollectionOrder = decoded[collectionOf(&ch)]
			recs, err := p.records(&ch)
			if err != nil {
				t.Fatalf("change %d: %v", i+1, err)
			}
			got = append(got, blocks(t, recs)...)
			p.meta.afterChange(&ch, recs)
		}
		want := []string{
			"app.public.f c 1/1", "app.public.t c 2/1", "app.public.t t 3/2", "ev.a1 raw", "app.routed raw",
			"app.public.f d 6/2", "app.public.f c 7/3", "app.public.f c 8/4", "ev.a1 raw",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("metadata %v: events (topic op total_order/data_collection_order)\n got %q\nwant %q", on, got, want)
		}
		wantCols := []schema.TxCollection{{Name: "public.f", EventCount: 4}, {Name: "public.t", EventCount: 2},
			{Name: "public.obx", EventCount: 2}, {Name: "routed", EventCount: 1}}
		if p.meta.count != 9 || !reflect.DeepEqual(p.meta.collections(), wantCols) {
			t.Errorf("metadata %v: END event_count %d, collections %+v; want 9, %+v", on, p.meta.count, p.meta.collections(), wantCols)
		}
	}
}

// blocks describes the events among recs: "<topic> <op> <total_order>/
// <data_collection_order>" for an encoded change, "<topic> raw" for a raw
// record (outbox row, routed message) and nothing for a tombstone.
func blocks(t *testing.T, recs []event.Record) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		var v struct {
			Op          string `json:"op"`
			Transaction *struct {
				Total int64 `json:"total_order"`
				Coll  int64 `json:"data_collection_order"`
			} `json:"transaction"`
		}
		switch {
		case r.Value == nil && r.Topic != "ev.a1": // a tombstone
			continue
		case r.Value == nil || json.Unmarshal(r.Value, &v) != nil || v.Op == "":
			out = append(out, r.Topic+" raw")
		case v.Transaction == nil:
			t.Errorf("%s %s record without a transaction block: %s", r.Topic, v.Op, r.Value)
		default:
			out = append(out, fmt.Sprintf("%s %s %d/%d", r.Topic, v.Op, v.Transaction.Total, v.Transaction.Coll))
		}
	}
	return out
}
