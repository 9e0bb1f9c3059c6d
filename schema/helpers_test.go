package schema

import (
	"bytes"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

var (
	testNow    = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	testCommit = time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
)

// numericTypmodOf builds the atttypmod of numeric(p,s).
func numericTypmodOf(p, s int32) int32 { return (p<<16 | (s & 0x7FF)) + 4 }

func testOptions() Options {
	return Options{
		TopicPrefix: "app",
		Database:    "appdb",
		SystemID:    "7301234567890123456",
		Tombstones:  true,
		Version:     "0.1.0",
		Now:         func() time.Time { return testNow },
	}
}

func testTx() *event.Tx {
	return &event.Tx{Xid: 771, CommitLSN: 0x16B3748, CommitTime: testCommit}
}

// ordersRel is public.orders(id bigint pk, qty int, note text,
// price numeric(12,2), doc jsonb, created timestamptz).
func ordersRel() *event.Relation {
	return &event.Relation{
		OID: 16384, Schema: "public", Table: "orders", ReplicaIdentity: event.IdentityDefault, Version: 1,
		Columns: []event.Column{
			{Name: "id", TypeOID: 20, TypeName: "int8", TypeMod: -1, Key: true},
			{Name: "qty", TypeOID: 23, TypeName: "int4", TypeMod: -1},
			{Name: "note", TypeOID: 25, TypeName: "text", TypeMod: -1},
			{Name: "price", TypeOID: 1700, TypeName: "numeric", TypeMod: numericTypmodOf(12, 2)},
			{Name: "doc", TypeOID: 3802, TypeName: "jsonb", TypeMod: -1},
			{Name: "created", TypeOID: 1184, TypeName: "timestamptz", TypeMod: -1},
		},
	}
}

func ordersRow(id int64, note string) []any {
	return []any{
		id, int32(3), note,
		event.Decimal{Unscaled: big.NewInt(1250), Scale: 2},
		event.JSON(`{"a": [1, 2]}`),
		"2024-01-02T03:04:05.123456Z",
	}
}

func change(op event.Op, rel *event.Relation, before, after []any) *event.Change {
	return &event.Change{
		Op: op, Tx: testTx(), Ordinal: 5, CollectionOrder: 2, TotalOrder: 5, DataCollectionOrder: 2, LSN: 0x16B3700,
		Relation: rel, Before: before, After: after,
	}
}

// decode parses JSON with numbers kept exact; it fails the test on invalid JSON.
func decode(t testing.TB, b []byte) any {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func decodeObj(t testing.TB, b []byte) map[string]any {
	t.Helper()
	m, ok := decode(t, b).(map[string]any)
	if !ok {
		t.Fatalf("not an object: %s", b)
	}
	return m
}

func headerMap(t testing.TB, r event.Record) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, h := range r.Headers {
		if _, dup := m[h.Key]; dup {
			t.Fatalf("duplicate header %q", h.Key)
		}
		m[h.Key] = string(h.Value)
	}
	return m
}

func mustEncode(t testing.TB, e Encoder, ch *event.Change) []event.Record {
	t.Helper()
	recs, err := e.Encode(ch)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return recs
}

var jsonMarshal = json.Marshal
