package schema

import (
	"testing"
)

// TestJSONEncodeTransaction: BEGIN and END records are byte for byte what
// Debezium's JsonConverter (schemas.enable=false) writes, with the
// CloudEvents headers.
func TestJSONEncodeTransaction(t *testing.T) {
	t.Parallel()
	enc := NewJSON(testOptions())
	cases := []struct {
		name          string
		m             *TxMetadata
		value, ceType string
	}{
		{"begin", txBegin(),
			`{"status":"BEGIN","id":"571:53195829","event_count":null,"data_collections":null,"ts_ms":1486500577125}`,
			TxBeginType},
		{"end", txEnd(),
			`{"status":"END","id":"571:53195829","event_count":2,"data_collections":[{"data_collection":"public.a","event_count":1},{"data_collection":"public.b","event_count":1}],"ts_ms":1486500577125}`,
			TxEndType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := enc.EncodeTransaction(c.m, "app.transaction")
			if err != nil {
				t.Fatal(err)
			}
			if r.Topic != "app.transaction" || r.Ack != nil {
				t.Errorf("topic %q, ack set %v", r.Topic, r.Ack != nil)
			}
			if want := `{"id":"571:53195829"}`; string(r.Key) != want {
				t.Errorf("key\n got %s\nwant %s", r.Key, want)
			}
			if string(r.Value) != c.value {
				t.Errorf("value\n got %s\nwant %s", r.Value, c.value)
			}
			decode(t, r.Value)
			checkTxHeaders(t, r, c.m.Status, c.ceType, ContentTypeJSON)
		})
	}
}

// TestJSONEncodeTransactionEdges: BEGIN ignores counts set by mistake; an
// END without collections has an empty array; table names are escaped.
func TestJSONEncodeTransactionEdges(t *testing.T) {
	t.Parallel()
	enc := NewJSON(testOptions())
	begin := txEnd()
	begin.Status = TxBegin
	end := txEnd()
	end.EventCount, end.Collections = 0, nil
	quoted := txEnd()
	quoted.EventCount, quoted.Collections = 3, []TxCollection{{Name: `s."t\x"`, EventCount: 3}}
	cases := []struct {
		name  string
		m     *TxMetadata
		value string
	}{
		{"begin with counts", begin,
			`{"status":"BEGIN","id":"571:53195829","event_count":null,"data_collections":null,"ts_ms":1486500577125}`},
		{"end without collections", end,
			`{"status":"END","id":"571:53195829","event_count":0,"data_collections":[],"ts_ms":1486500577125}`},
		{"escaped name", quoted,
			`{"status":"END","id":"571:53195829","event_count":3,"data_collections":[{"data_collection":"s.\"t\\x\"","event_count":3}],"ts_ms":1486500577125}`},
	}
	for _, c := range cases {
		r, err := enc.EncodeTransaction(c.m, "app.transaction")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(r.Value) != c.value {
			t.Errorf("%s: value\n got %s\nwant %s", c.name, r.Value, c.value)
		}
		decode(t, r.Value)
	}
}

// TestJSONEncodeTransactionOwnership: the record's key, value and header
// values do not share capacity, so appending to one cannot overwrite another.
func TestJSONEncodeTransactionOwnership(t *testing.T) {
	t.Parallel()
	r, err := NewJSON(testOptions()).EncodeTransaction(txBegin(), "app.transaction")
	if err != nil {
		t.Fatal(err)
	}
	value := string(r.Value)
	_ = append(r.Key, "XXXXXXXXXXXXXXXX"...)
	for _, h := range r.Headers {
		_ = append(h.Value, "XXXXXXXXXXXXXXXX"...)
	}
	if string(r.Value) != value {
		t.Errorf("value changed by appending to the key or headers: %s", r.Value)
	}
	checkTxHeaders(t, r, TxBegin, TxBeginType, ContentTypeJSON)
}
