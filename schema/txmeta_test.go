package schema

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// debeziumTx is the transaction of Debezium's documented example: xid 571,
// commit LSN 53195829, committed at 1486500577125 ms (+456789 ns, to show
// ce_time keeps nanoseconds where ts_ms truncates).
func debeziumTx() *event.Tx {
	return &event.Tx{Xid: 571, CommitLSN: 53195829,
		CommitTime: time.UnixMilli(1486500577125).Add(456789 * time.Nanosecond)}
}

func txBegin() *TxMetadata { return &TxMetadata{Status: TxBegin, Tx: debeziumTx()} }

func txEnd() *TxMetadata {
	return &TxMetadata{Status: TxEnd, Tx: debeziumTx(), EventCount: 2, Collections: []TxCollection{
		{Name: "public.a", EventCount: 1},
		{Name: "public.b", EventCount: 1},
	}}
}

// checkTxHeaders checks the six CloudEvents headers of a transaction
// metadata record, in headerKeys order.
func checkTxHeaders(t *testing.T, r event.Record, status, ceType, contentType string) {
	t.Helper()
	want := []event.Header{
		{Key: HeaderSpecVersion, Value: []byte("1.0")},
		{Key: HeaderID, Value: []byte("00000000032BB435-" + status)},
		{Key: HeaderSource, Value: []byte("/walrelay/7301234567890123456/appdb")},
		{Key: HeaderType, Value: []byte(ceType)},
		{Key: HeaderTime, Value: []byte("2017-02-07T20:49:37.125456789Z")},
		{Key: HeaderContentType, Value: []byte(contentType)},
	}
	if len(r.Headers) != len(want) {
		t.Fatalf("%d headers, want %d: %v", len(r.Headers), len(want), r.Headers)
	}
	for i, h := range r.Headers {
		if h.Key != want[i].Key || string(h.Value) != string(want[i].Value) {
			t.Errorf("header %d = %s: %q, want %s: %q", i, h.Key, h.Value, want[i].Key, want[i].Value)
		}
	}
}

// TestEncodeTransactionErrors: both encoders reject a nil event, a nil
// transaction, an unknown status and an empty topic, naming what is wrong.
func TestEncodeTransactionErrors(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	encoders := map[string]Encoder{"json": NewJSON(testOptions()), "avro": ta.enc}
	cases := []struct {
		name   string
		m      *TxMetadata
		topic  string
		is     error
		substr string
	}{
		{"nil event", nil, "app.transaction", ErrIncomplete, "nil transaction metadata event"},
		{"nil tx", &TxMetadata{Status: TxBegin}, "app.transaction", ErrIncomplete, `"BEGIN" has no transaction`},
		{"bad status", &TxMetadata{Status: "COMMIT", Tx: debeziumTx()}, "app.transaction", ErrTxStatus, `transaction 571:53195829 has status "COMMIT"`},
		{"lower-case status", &TxMetadata{Status: "begin", Tx: debeziumTx()}, "app.transaction", ErrTxStatus, `"begin"`},
		{"empty topic", txEnd(), "", nil, "END of transaction 571:53195829 has no topic"},
	}
	for encName, enc := range encoders {
		for _, c := range cases {
			t.Run(encName+"/"+c.name, func(t *testing.T) {
				r, err := enc.EncodeTransaction(c.m, c.topic)
				if err == nil {
					t.Fatalf("no error; record %+v", r)
				}
				if c.is != nil && !errors.Is(err, c.is) {
					t.Errorf("error %v is not %v", err, c.is)
				}
				if !strings.Contains(err.Error(), c.substr) {
					t.Errorf("error %q does not contain %q", err, c.substr)
				}
				if r.Topic != "" || r.Key != nil || r.Value != nil || r.Headers != nil {
					t.Errorf("record returned with the error: %+v", r)
				}
			})
		}
	}
	if subjects := ta.store.Subjects(); len(subjects) != 0 {
		t.Errorf("rejected events registered schemas: %v", subjects)
	}
}

// TestTxTimeFallback: a transaction without a commit time is stamped with
// the encoder's clock rather than the zero time.
func TestTxTimeFallback(t *testing.T) {
	t.Parallel()
	m := &TxMetadata{Status: TxBegin, Tx: &event.Tx{Xid: 1, CommitLSN: 16}}
	r, err := NewJSON(testOptions()).EncodeTransaction(m, "app.transaction")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"status":"BEGIN","id":"1:16","event_count":null,"data_collections":null,"ts_ms":1714979289123}`
	if string(r.Value) != want {
		t.Errorf("value\n got %s\nwant %s", r.Value, want)
	}
	if got := headerMap(t, r)[HeaderTime]; got != "2024-05-06T07:08:09.123456789Z" {
		t.Errorf("ce_time %q, want the encoder's now", got)
	}
}

func TestTransactionTopic(t *testing.T) {
	t.Parallel()
	if got := TransactionTopic("app"); got != "app.transaction" {
		t.Errorf("TransactionTopic(app) = %q", got)
	}
}
