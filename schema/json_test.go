package schema

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// goldenInsertValue is the exact value of an insert into public.orders, as
// JsonConverter (schemas.enable=false) prints a Debezium PostgreSQL event.
const goldenInsertValue = `{"before":null,` +
	`"after":{"id":1,"qty":3,"note":"hi \"you\"","price":"BOI=","doc":"{\"a\": [1, 2]}","created":"2024-01-02T03:04:05.123456Z"},` +
	`"source":{"version":"0.1.0","connector":"postgresql","name":"app","ts_ms":1704164645123,"snapshot":"false","db":"appdb",` +
	`"sequence":"[\"23803720\",\"23803648\"]","ts_us":1704164645123456,"ts_ns":1704164645123456000,` +
	`"schema":"public","table":"orders","txId":771,"lsn":23803648,"xmin":null,"origin":null,"origin_lsn":null},` +
	`"op":"c","ts_ms":1714979289123,"ts_us":1714979289123456,"ts_ns":1714979289123456789,` +
	`"transaction":{"id":"771:23803720","total_order":5,"data_collection_order":2}}`

func TestEncodeInsertGolden(t *testing.T) {
	t.Parallel()
	recs := mustEncode(t, NewJSON(testOptions()), change(event.OpCreate, ordersRel(), nil, ordersRow(1, `hi "you"`)))
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	r := recs[0]
	if r.Topic != "app.public.orders" {
		t.Errorf("topic = %q", r.Topic)
	}
	if string(r.Key) != `{"id":1}` {
		t.Errorf("key = %s", r.Key)
	}
	if string(r.Value) != goldenInsertValue {
		t.Errorf("value =\n%s\nwant\n%s", r.Value, goldenInsertValue)
	}
	if r.Ack != nil {
		t.Error("encoder must not set Ack")
	}
	wantHeaders := []event.Header{
		{Key: "ce_specversion", Value: []byte("1.0")},
		{Key: "ce_id", Value: []byte("00000000016B3748-00000005")},
		{Key: "ce_source", Value: []byte("/walrelay/7301234567890123456/appdb")},
		{Key: "ce_type", Value: []byte("io.walrelay.change.c")},
		{Key: "ce_time", Value: []byte("2024-01-02T03:04:05.123456Z")},
		{Key: "content-type", Value: []byte("application/json")},
	}
	if !reflect.DeepEqual(r.Headers, wantHeaders) {
		t.Errorf("headers = %q\nwant %q", r.Headers, wantHeaders)
	}
}

// TestEncodeInsertFields checks the envelope field by field after decoding,
// independent of the golden string's layout.
func TestEncodeInsertFields(t *testing.T) {
	t.Parallel()
	ch := change(event.OpCreate, ordersRel(), nil, ordersRow(42, "x"))
	r := mustEncode(t, NewJSON(testOptions()), ch)[0]
	v := decodeObj(t, r.Value)
	wantKeys := []string{"before", "after", "source", "op", "ts_ms", "ts_us", "ts_ns", "transaction"}
	if len(v) != len(wantKeys) {
		t.Errorf("envelope has %d fields, want %d: %v", len(v), len(wantKeys), v)
	}
	for _, k := range wantKeys {
		if _, ok := v[k]; !ok {
			t.Errorf("envelope lacks %q", k)
		}
	}
	src := v["source"].(map[string]any)
	wantSrc := map[string]string{
		"version": "0.1.0", "connector": "postgresql", "name": "app", "ts_ms": "1704164645123",
		"snapshot": "false", "db": "appdb", "sequence": `["23803720","23803648"]`,
		"ts_us": "1704164645123456", "ts_ns": "1704164645123456000", "schema": "public",
		"table": "orders", "txId": "771", "lsn": "23803648",
	}
	for k, want := range wantSrc {
		if got := toString(src[k]); got != want {
			t.Errorf("source.%s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"xmin", "origin", "origin_lsn"} {
		if x, ok := src[k]; !ok || x != nil {
			t.Errorf("source.%s = %v (present %v), want null", k, x, ok)
		}
	}
	if len(src) != len(wantSrc)+3 {
		t.Errorf("source has %d fields, want %d", len(src), len(wantSrc)+3)
	}
	tx := v["transaction"].(map[string]any)
	if toString(tx["id"]) != ch.Tx.ID() || toString(tx["total_order"]) != "5" || toString(tx["data_collection_order"]) != "2" {
		t.Errorf("transaction = %v, want id %s, 5, 2", tx, ch.Tx.ID())
	}
	after := v["after"].(map[string]any)
	if toString(after["id"]) != "42" || toString(after["note"]) != "x" || toString(after["price"]) != "BOI=" {
		t.Errorf("after = %v", after)
	}
	if headerMap(t, r)["ce_id"] != ch.ID() {
		t.Errorf("ce_id = %q, want %q", headerMap(t, r)["ce_id"], ch.ID())
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "<nil>"
	default:
		b, _ := jsonMarshal(x)
		return string(b)
	}
}

func TestEncodeUpdate(t *testing.T) {
	t.Parallel()
	e := NewJSON(testOptions())
	// REPLICA IDENTITY DEFAULT, key unchanged: no old tuple.
	r := mustEncode(t, e, change(event.OpUpdate, ordersRel(), nil, ordersRow(1, "new")))
	if len(r) != 1 {
		t.Fatalf("got %d records", len(r))
	}
	v := decodeObj(t, r[0].Value)
	if v["op"] != "u" || v["before"] != nil || v["after"].(map[string]any)["note"] != "new" {
		t.Errorf("value = %s", r[0].Value)
	}
	if headerMap(t, r[0])["ce_type"] != "io.walrelay.change.u" {
		t.Errorf("ce_type = %q", headerMap(t, r[0])["ce_type"])
	}
	// REPLICA IDENTITY FULL: before carries the old row; the key comes from after.
	r = mustEncode(t, e, change(event.OpUpdate, ordersRel(), ordersRow(1, "old"), ordersRow(2, "new")))
	v = decodeObj(t, r[0].Value)
	if v["before"].(map[string]any)["note"] != "old" || v["after"].(map[string]any)["note"] != "new" {
		t.Errorf("value = %s", r[0].Value)
	}
	if string(r[0].Key) != `{"id":2}` {
		t.Errorf("key = %s, want the new key", r[0].Key)
	}
}

func TestEncodeDeleteWithTombstone(t *testing.T) {
	t.Parallel()
	// REPLICA IDENTITY DEFAULT: the old tuple holds only the key.
	before := []any{int64(7), event.Absent{}, event.Absent{}, event.Absent{}, event.Absent{}, event.Absent{}}
	ch := change(event.OpDelete, ordersRel(), before, nil)
	recs := mustEncode(t, NewJSON(testOptions()), ch)
	if len(recs) != 2 {
		t.Fatalf("got %d records, want delete + tombstone", len(recs))
	}
	del, tomb := recs[0], recs[1]
	if string(del.Key) != `{"id":7}` {
		t.Errorf("delete key = %s", del.Key)
	}
	v := decodeObj(t, del.Value)
	if v["op"] != "d" || v["after"] != nil {
		t.Errorf("delete value = %s", del.Value)
	}
	b := v["before"].(map[string]any)
	if len(b) != 6 || toString(b["id"]) != "7" {
		t.Errorf("before = %v, want all 6 columns with id 7", b)
	}
	for _, c := range []string{"qty", "note", "price", "doc", "created"} {
		if x, ok := b[c]; !ok || x != nil {
			t.Errorf("before.%s = %v (present %v), want null for an absent column", c, x, ok)
		}
	}
	if tomb.Topic != del.Topic || string(tomb.Key) != string(del.Key) || tomb.Value != nil {
		t.Errorf("tombstone = %+v, want same topic and key, nil value", tomb)
	}
	th := headerMap(t, tomb)
	if th["ce_id"] != ch.ID()+"-T" || th["ce_type"] != "io.walrelay.change.d" || th["content-type"] != "application/json" {
		t.Errorf("tombstone headers = %v", th)
	}
	if headerMap(t, del)["ce_id"] != ch.ID() {
		t.Errorf("delete ce_id = %q", headerMap(t, del)["ce_id"])
	}
}

func TestEncodeDeleteTombstonesDisabled(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.Tombstones = false
	recs := mustEncode(t, NewJSON(o), change(event.OpDelete, ordersRel(), ordersRow(7, "x"), nil))
	if len(recs) != 1 || recs[0].Value == nil {
		t.Fatalf("got %d records, want the delete only", len(recs))
	}
}

func keylessRel() *event.Relation {
	rel := ordersRel()
	rel.Table = "log"
	rel.ReplicaIdentity = event.IdentityFull
	for i := range rel.Columns {
		rel.Columns[i].Key = false
	}
	return rel
}

func TestEncodeKeyless(t *testing.T) {
	t.Parallel()
	e := NewJSON(testOptions())
	r := mustEncode(t, e, change(event.OpCreate, keylessRel(), nil, ordersRow(1, "a")))
	if len(r) != 1 || r[0].Key != nil || r[0].Value == nil {
		t.Fatalf("insert records = %+v, want one with nil key", r)
	}
	r = mustEncode(t, e, change(event.OpDelete, keylessRel(), ordersRow(1, "a"), nil))
	if len(r) != 1 || r[0].Key != nil {
		t.Fatalf("delete records = %d, want one with nil key and no tombstone", len(r))
	}
}

func TestEncodeCompositeKey(t *testing.T) {
	t.Parallel()
	rel := &event.Relation{Schema: "s", Table: "t", Columns: []event.Column{
		{Name: "a", TypeName: "int4", Key: true},
		{Name: "v", TypeName: "text"},
		{Name: "b", TypeName: "text", Key: true},
	}}
	r := mustEncode(t, NewJSON(testOptions()), change(event.OpCreate, rel, nil, []any{int32(1), "v", "x"}))
	if string(r[0].Key) != `{"a":1,"b":"x"}` {
		t.Errorf("key = %s", r[0].Key)
	}
}

func TestEncodeTruncate(t *testing.T) {
	t.Parallel()
	ch := change(event.OpTruncate, ordersRel(), nil, nil)
	recs := mustEncode(t, NewJSON(testOptions()), ch)
	if len(recs) != 1 {
		t.Fatalf("got %d records", len(recs))
	}
	r := recs[0]
	if r.Key != nil || r.Topic != "app.public.orders" {
		t.Errorf("truncate key = %s topic %q", r.Key, r.Topic)
	}
	v := decodeObj(t, r.Value)
	if v["op"] != "t" || v["before"] != nil || v["after"] != nil {
		t.Errorf("value = %s", r.Value)
	}
	if src := v["source"].(map[string]any); src["table"] != "orders" {
		t.Errorf("source = %v", src)
	}
	if headerMap(t, r)["ce_type"] != "io.walrelay.change.t" {
		t.Errorf("ce_type = %q", headerMap(t, r)["ce_type"])
	}
}

func TestEncodeSnapshotRead(t *testing.T) {
	t.Parallel()
	for _, snap := range []string{"true", "last"} {
		ch := change(event.OpRead, ordersRel(), nil, ordersRow(1, "a"))
		ch.Snapshot = snap
		v := decodeObj(t, mustEncode(t, NewJSON(testOptions()), ch)[0].Value)
		if v["op"] != "r" || v["source"].(map[string]any)["snapshot"] != snap {
			t.Errorf("snapshot %q: value %v", snap, v)
		}
		// As in Debezium: no transaction, and no commit in the sequence.
		if tx, ok := v["transaction"]; !ok || tx != nil {
			t.Errorf("snapshot read: transaction %v, want null", tx)
		}
		if seq := v["source"].(map[string]any)["sequence"]; seq != `[null,"23803648"]` {
			t.Errorf("snapshot read: sequence %v, want [null,\"23803648\"]", seq)
		}
		ta := newTestAvro(t, registry.Backward)
		av := ta.decodeValue(t, mustEncode(t, ta.enc, ch)[0].Value)
		if av["transaction"] != nil || av["source"].(map[string]any)["sequence"] != `[null,"23803648"]` {
			t.Errorf("Avro snapshot read: transaction %v, source %v", av["transaction"], av["source"])
		}
	}
}

func TestEncodeMessage(t *testing.T) {
	t.Parallel()
	for _, transactional := range []bool{true, false} {
		ch := &event.Change{
			Op: event.OpMessage, Tx: testTx(), Ordinal: 1, TotalOrder: 1, DataCollectionOrder: 1, LSN: 0x16B3700,
			Message: &event.LogicalMessage{Transactional: transactional, Prefix: "heart\"beat", Content: []byte("bar\x00")},
		}
		recs := mustEncode(t, NewJSON(testOptions()), ch)
		if len(recs) != 1 {
			t.Fatalf("got %d records", len(recs))
		}
		r := recs[0]
		if r.Topic != "app.message" || string(r.Key) != `{"prefix":"heart\"beat"}` {
			t.Errorf("topic %q key %s", r.Topic, r.Key)
		}
		v := decodeObj(t, r.Value)
		if len(v) != 5 || v["op"] != "m" || toString(v["ts_ms"]) != "1714979289123" {
			t.Errorf("value = %s", r.Value)
		}
		// Debezium's transaction block, only for a transactional message.
		if tx, ok := v["transaction"].(map[string]any); transactional != ok ||
			ok && (tx["id"] != "771:23803720" || toString(tx["total_order"]) != "1") {
			t.Errorf("transaction = %v (transactional %v)", v["transaction"], transactional)
		}
		m := v["message"].(map[string]any)
		if m["prefix"] != "heart\"beat" || m["content"] != "YmFyAA==" {
			t.Errorf("message = %v", m)
		}
		src := v["source"].(map[string]any)
		if src["schema"] != "" || src["table"] != "" || toString(src["lsn"]) != "23803648" {
			t.Errorf("source = %v", src)
		}
		wantTx := "771"
		if !transactional {
			wantTx = "<nil>"
		}
		if toString(src["txId"]) != wantTx {
			t.Errorf("transactional=%v: txId = %v, want %s", transactional, src["txId"], wantTx)
		}
		if h := headerMap(t, r); h["ce_type"] != "io.walrelay.message" || h["ce_id"] != ch.ID() {
			t.Errorf("headers = %v", h)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	e := NewJSON(testOptions())
	bad := ordersRow(1, "x")
	bad[5] = time.Now() // not a value.go type
	_, err := e.Encode(change(event.OpCreate, ordersRel(), nil, bad))
	if !errors.Is(err, ErrUnsupportedValue) {
		t.Fatalf("err = %v, want ErrUnsupportedValue", err)
	}
	for _, want := range []string{"public.orders", "0/16B3700", `"created"`, "time.Time", "00000000016B3748-00000005"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	_, err = e.Encode(change(event.OpCreate, ordersRel(), nil, bad[:3]))
	if !errors.Is(err, ErrRowShape) {
		t.Errorf("short row: err = %v, want ErrRowShape", err)
	}
	ch := change(event.OpCreate, ordersRel(), nil, ordersRow(1, "x"))
	ch.Tx = nil
	if _, err = e.Encode(ch); !errors.Is(err, ErrIncomplete) {
		t.Errorf("nil tx: err = %v", err)
	}
	ch = change(event.Op('z'), ordersRel(), nil, ordersRow(1, "x"))
	if _, err = e.Encode(ch); !errors.Is(err, ErrIncomplete) {
		t.Errorf("unknown op: err = %v", err)
	}
	ch = change(event.OpCreate, nil, nil, ordersRow(1, "x"))
	if _, err = e.Encode(ch); !errors.Is(err, ErrIncomplete) {
		t.Errorf("nil relation: err = %v", err)
	}
	ch = change(event.OpDelete, ordersRel(), nil, nil)
	if _, err = e.Encode(ch); !errors.Is(err, ErrIncomplete) {
		t.Errorf("delete without old key: err = %v", err)
	}
	ch = &event.Change{Op: event.OpMessage, Tx: testTx()}
	if _, err = e.Encode(ch); !errors.Is(err, ErrIncomplete) {
		t.Errorf("message without message: err = %v", err)
	}
}

// TestEncodeRecordsIndependent checks that records never share writable
// memory with each other or with the pooled scratch buffer.
func TestEncodeRecordsIndependent(t *testing.T) {
	t.Parallel()
	e := NewJSON(testOptions())
	r1 := mustEncode(t, e, change(event.OpCreate, ordersRel(), nil, ordersRow(1, "first")))
	keep := string(r1[0].Value)
	r1[0].Key = append(r1[0].Key, "garbage"...)
	for i := 0; i < 50; i++ {
		mustEncode(t, e, change(event.OpCreate, ordersRel(), nil, ordersRow(int64(i), strings.Repeat("y", i))))
	}
	if string(r1[0].Value) != keep {
		t.Fatalf("value changed after later encodes or a key append:\n%s\n%s", r1[0].Value, keep)
	}
}

func TestEncodeConcurrent(t *testing.T) {
	t.Parallel()
	e := NewJSON(testOptions())
	want := string(mustEncode(t, e, change(event.OpCreate, ordersRel(), nil, ordersRow(9, "z")))[0].Value)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				rel := ordersRel()
				rel.OID = uint32(i % 5) // exercise the topic cache
				recs, err := e.Encode(change(event.OpCreate, rel, nil, ordersRow(9, "z")))
				if err != nil || string(recs[0].Value) != want {
					errs <- "mismatch"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestDecimalSpecialIsNull(t *testing.T) {
	t.Parallel()
	row := ordersRow(1, "x")
	row[3] = event.Decimal{Special: "NaN"}
	v := decodeObj(t, mustEncode(t, NewJSON(testOptions()), change(event.OpCreate, ordersRel(), nil, row))[0].Value)
	if p, ok := v["after"].(map[string]any)["price"]; !ok || p != nil {
		t.Errorf("price = %v, want null", p)
	}
}

// TestEncodeStandaloneMessage encodes a non-transactional message as the
// decoder builds it (synthetic Tx{Xid: 0, CommitLSN: message LSN}, no commit
// time): txId is null and the event is stamped with the processing time.
func TestEncodeStandaloneMessage(t *testing.T) {
	t.Parallel()
	ch := &event.Change{
		Op: event.OpMessage, Tx: &event.Tx{CommitLSN: 0x16B3800}, Ordinal: 1, CollectionOrder: 1, LSN: 0x16B3800,
		Message: &event.LogicalMessage{Prefix: "hb", Content: []byte("1")},
	}
	r := mustEncode(t, NewJSON(testOptions()), ch)[0]
	src := decodeObj(t, r.Value)["source"].(map[string]any)
	if src["txId"] != nil || toString(src["ts_ms"]) != "1714979289123" || toString(src["ts_ns"]) != "1714979289123456789" {
		t.Errorf("source = %v, want txId null and processing time", src)
	}
	if h := headerMap(t, r); h["ce_time"] != "2024-05-06T07:08:09.123456789Z" || h["ce_id"] != "00000000016B3800-00000001" {
		t.Errorf("headers = %v", h)
	}
}
