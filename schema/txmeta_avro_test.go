package schema

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/schema/registry"
)

// countingRegistry counts the registry calls per subject and remembers the
// IDs it returned; fail, when set, makes every call fail.
type countingRegistry struct {
	next Registry
	mu   sync.Mutex
	n    map[string]int
	ids  map[string]int
	fail error
}

func (c *countingRegistry) ID(ctx context.Context, subject, text string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[subject]++
	if c.fail != nil {
		return 0, c.fail
	}
	id, err := c.next.ID(ctx, subject, text)
	c.ids[subject] = id
	return id, err
}

func (c *countingRegistry) calls(subject string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[subject]
}

// newCountingAvro is newTestAvro with a countingRegistry between the
// encoder and the registry client.
func newCountingAvro(t *testing.T) (*testAvro, *countingRegistry) {
	t.Helper()
	store, err := registry.OpenStore(t.TempDir(), registry.Backward)
	if err != nil {
		t.Fatal(err)
	}
	reg := &countingRegistry{next: registry.NewClient(store, registry.Backward, zerolog.Nop()),
		n: map[string]int{}, ids: map[string]int{}}
	enc, err := NewAvro(testOptions(), AvroOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	return &testAvro{enc: enc, store: store, schemas: map[uint32]avro.Schema{}}, reg
}

// TestAvroEncodeTransaction: BEGIN and END decode, with the registered
// schemas, to Debezium's fields; the wire headers carry the registered IDs.
func TestAvroEncodeTransaction(t *testing.T) {
	t.Parallel()
	ta, reg := newCountingAvro(t)
	begin, err := ta.enc.EncodeTransaction(txBegin(), "app.transaction")
	if err != nil {
		t.Fatal(err)
	}
	end, err := ta.enc.EncodeTransaction(txEnd(), "app.transaction")
	if err != nil {
		t.Fatal(err)
	}
	wantKeyID, wantValueID := reg.ids["app.transaction-key"], reg.ids["app.transaction-value"]
	if wantKeyID == 0 || wantValueID == 0 || wantKeyID == wantValueID {
		t.Fatalf("registered IDs key %d value %d", wantKeyID, wantValueID)
	}
	for _, c := range []struct {
		m     *TxMetadata
		r     []byte
		key   []byte
		value map[string]any
	}{
		{txBegin(), begin.Value, begin.Key, map[string]any{
			"status": "BEGIN", "id": "571:53195829", "event_count": nil, "data_collections": nil,
			"ts_ms": int64(1486500577125)}},
		{txEnd(), end.Value, end.Key, map[string]any{
			"status": "END", "id": "571:53195829", "event_count": int64(2),
			"data_collections": []any{
				map[string]any{"data_collection": "public.a", "event_count": int64(1)},
				map[string]any{"data_collection": "public.b", "event_count": int64(1)},
			},
			"ts_ms": int64(1486500577125)}},
	} {
		keyID, key := ta.decodeWire(t, c.key)
		if int(keyID) != wantKeyID || !reflect.DeepEqual(key, map[string]any{"id": "571:53195829"}) {
			t.Errorf("%s key: schema %d (want %d), %v", c.m.Status, keyID, wantKeyID, key)
		}
		valueID, _ := ta.decodeWire(t, c.r)
		if int(valueID) != wantValueID {
			t.Errorf("%s value: schema %d, want %d", c.m.Status, valueID, wantValueID)
		}
		if got := ta.decodeValue(t, c.r); !reflect.DeepEqual(got, c.value) {
			t.Errorf("%s value\n got %#v\nwant %#v", c.m.Status, got, c.value)
		}
	}
	if begin.Topic != "app.transaction" || end.Topic != "app.transaction" || begin.Ack != nil || end.Ack != nil {
		t.Errorf("topics %q %q, acks %v %v", begin.Topic, end.Topic, begin.Ack != nil, end.Ack != nil)
	}
	checkTxHeaders(t, begin, TxBegin, TxBeginType, ContentTypeAvro)
	checkTxHeaders(t, end, TxEnd, TxEndType, ContentTypeAvro)
}

// TestAvroEncodeTransactionEmptyEnd: an END without collections decodes to
// an empty array, not null.
func TestAvroEncodeTransactionEmptyEnd(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	m := txEnd()
	m.EventCount, m.Collections = 0, nil
	r, err := ta.enc.EncodeTransaction(m, "app.transaction")
	if err != nil {
		t.Fatal(err)
	}
	got := ta.decodeValue(t, r.Value)
	if got["event_count"] != int64(0) || !reflect.DeepEqual(got["data_collections"], []any{}) {
		t.Errorf("event_count %#v data_collections %#v", got["event_count"], got["data_collections"])
	}
}

// TestAvroEncodeTransactionRegistersOnce: many events from several
// goroutines register each schema once per topic; a second topic gets its
// own subjects.
func TestAvroEncodeTransactionRegistersOnce(t *testing.T) {
	t.Parallel()
	ta, reg := newCountingAvro(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				m := txBegin()
				if (g+i)%2 == 1 {
					m = txEnd()
				}
				if _, err := ta.enc.EncodeTransaction(m, "app.transaction"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := ta.enc.EncodeTransaction(txBegin(), "other.transaction"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"app.transaction-key", "app.transaction-value", "other.transaction-key", "other.transaction-value"} {
		if n := reg.calls(s); n != 1 {
			t.Errorf("subject %s: %d registry calls, want 1", s, n)
		}
	}
	want := []string{"app.transaction-key", "app.transaction-value", "other.transaction-key", "other.transaction-value"}
	if got := ta.store.Subjects(); !reflect.DeepEqual(got, want) {
		t.Errorf("subjects %v, want %v", got, want)
	}
}

// TestAvroEncodeTransactionRegistryError: a registry failure names the
// subject, wraps the cause and is not cached.
func TestAvroEncodeTransactionRegistryError(t *testing.T) {
	t.Parallel()
	ta, reg := newCountingAvro(t)
	boom := errors.New("registry unavailable")
	reg.mu.Lock()
	reg.fail = boom
	reg.mu.Unlock()
	r, err := ta.enc.EncodeTransaction(txBegin(), "app.transaction")
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the registry's", err)
	}
	if !strings.Contains(err.Error(), `subject "app.transaction-key"`) || r.Value != nil {
		t.Errorf("error %q does not name the subject, or a record came back: %+v", err, r)
	}
	reg.mu.Lock()
	reg.fail = nil
	reg.mu.Unlock()
	if _, err := ta.enc.EncodeTransaction(txBegin(), "app.transaction"); err != nil {
		t.Fatalf("after the registry recovered: %v", err)
	}
	if n := reg.calls("app.transaction-key"); n != 2 {
		t.Errorf("%d key registrations, want 2 (the failure is not cached)", n)
	}
}

// wantTxValueSchema is TransactionMetadataValue as Confluent's AvroData
// renders Debezium's Connect schema (SchemaFactory.transactionValueSchema).
const wantTxValueSchema = `{"type":"record","name":"TransactionMetadataValue","namespace":"io.debezium.connector.common",` +
	`"fields":[{"name":"status","type":"string"},{"name":"id","type":"string"},` +
	`{"name":"event_count","type":["null","long"],"default":null},` +
	`{"name":"data_collections","type":["null",{"type":"array","items":["null",{"type":"record","name":"collection","namespace":"event",` +
	`"fields":[{"name":"data_collection","type":"string"},{"name":"event_count","type":"long"}],` +
	`"connect.version":1,"connect.name":"event.collection"}]}],"default":null},` +
	`{"name":"ts_ms","type":"long"}],` +
	`"connect.version":1,"connect.name":"io.debezium.connector.common.TransactionMetadataValue"}`

const wantTxKeySchema = `{"type":"record","name":"TransactionMetadataKey","namespace":"io.debezium.connector.common",` +
	`"fields":[{"name":"id","type":"string"}],` +
	`"connect.version":1,"connect.name":"io.debezium.connector.common.TransactionMetadataKey"}`

// TestTxSchemas: the registered schemas are Debezium's, parse, and carry
// its record names and field order.
func TestTxSchemas(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	r, err := ta.enc.EncodeTransaction(txEnd(), "app.transaction")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		b    []byte
		text string
	}{{r.Key, wantTxKeySchema}, {r.Value, wantTxValueSchema}} {
		id, _, err := ParseWire(c.b)
		if err != nil {
			t.Fatal(err)
		}
		text, err := ta.store.SchemaByID(int(id))
		if err != nil {
			t.Fatal(err)
		}
		if text != c.text {
			t.Errorf("schema %d\n got %s\nwant %s", id, text, c.text)
		}
	}
	s, err := avro.Parse(txValueSchema())
	if err != nil {
		t.Fatal(err)
	}
	rec := s.(*avro.RecordSchema)
	if rec.FullName() != "io.debezium.connector.common.TransactionMetadataValue" {
		t.Errorf("value record %s", rec.FullName())
	}
	var names []string
	for _, f := range rec.Fields() {
		names = append(names, f.Name())
	}
	if want := []string{"status", "id", "event_count", "data_collections", "ts_ms"}; !reflect.DeepEqual(names, want) {
		t.Errorf("fields %v, want %v", names, want)
	}
	arr := rec.Fields()[3].Type().(*avro.UnionSchema).Types()[1].(*avro.ArraySchema)
	item := arr.Items().(*avro.UnionSchema).Types()[1].(*avro.RecordSchema)
	if item.FullName() != "event.collection" {
		t.Errorf("item record %s, want event.collection", item.FullName())
	}
	k, err := avro.Parse(txKeySchema())
	if err != nil {
		t.Fatal(err)
	}
	if k.(*avro.RecordSchema).FullName() != "io.debezium.connector.common.TransactionMetadataKey" {
		t.Errorf("key record %s", k.(*avro.RecordSchema).FullName())
	}
}
