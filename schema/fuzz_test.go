package schema

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// FuzzEncodeJSON builds a row change and a logical message from fuzzed
// strings and bytes and asserts that key and value are valid JSON whose
// strings decode to the input (invalid UTF-8 bytes as U+FFFD) and whose
// base64 fields decode to the input bytes.
func FuzzEncodeJSON(f *testing.F) {
	f.Add("name", "text", []byte("bytes"), "prefix", "__placeholder")
	f.Add("", "", []byte{}, "", "x")
	f.Add("q\"\\", "\x00\n\u2028\xff", []byte{0, 0xff}, "\xe6\x97", "\x7f")
	f.Add("日本", "😀\xed\xa0\x80", []byte("{}"), "p\x1f", "é")
	f.Fuzz(func(t *testing.T, name, text string, data []byte, prefix, placeholder string) {
		o := testOptions()
		o.ToastPlaceholder = placeholder
		e := NewJSON(o)
		if placeholder == "" {
			placeholder = DefaultToastPlaceholder // the documented default
		}
		rel := &event.Relation{Schema: "s" + name, Table: "t" + text, Columns: []event.Column{
			{Name: "k", TypeName: "text", TypeOID: 25, Key: true},
			{Name: "c_" + name, TypeName: "text", TypeOID: 25},
			{Name: "b", TypeName: "bytea", TypeOID: 17},
			{Name: "j", TypeName: "jsonb", TypeOID: 3802},
			{Name: "a", TypeOID: 1009, TypeName: "_text", Kind: event.KindArray, ElemOID: 25},
			{Name: "u", TypeName: "text", TypeOID: 25},
			{Name: "ub", TypeName: "bytea", TypeOID: 17},
		}}
		row := []any{text, name, data, event.JSON(text), []any{prefix, nil, text}, event.Unavailable{}, event.Unavailable{}}
		ch := change(event.OpUpdate, rel, row, row)
		ch.Snapshot = "" // streaming
		recs, err := e.Encode(ch)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		r := recs[0]
		var key map[string]string
		mustUnmarshal(t, r.Key, &key)
		if want := string([]rune(text)); key["k"] != want {
			t.Fatalf("key.k = %q, want %q", key["k"], want)
		}
		var v struct {
			Before, After map[string]any
			Source        map[string]any
		}
		mustUnmarshal(t, r.Value, &v)
		for _, row := range []map[string]any{v.Before, v.After} {
			wantStr(t, row, "k", text)
			wantStr(t, row, string([]rune("c_"+name)), name) // the key, too, is sanitised
			wantStr(t, row, "j", text)
			wantStr(t, row, "u", placeholder)
			wantB64(t, row, "b", data)
			wantB64(t, row, "ub", []byte(placeholder))
			arr, ok := row["a"].([]any)
			if !ok || len(arr) != 3 || arr[0] != string([]rune(prefix)) || arr[1] != nil || arr[2] != string([]rune(text)) {
				t.Fatalf("a = %#v", row["a"])
			}
		}
		wantStr(t, v.Source, "schema", "s"+name)
		wantStr(t, v.Source, "table", "t"+text)
		if len(r.Topic) == 0 {
			t.Fatal("empty topic")
		}
		for i := 0; i < len(r.Topic); i++ {
			if !topicChar(r.Topic[i]) {
				t.Fatalf("topic %q has illegal character %q", r.Topic, r.Topic[i])
			}
		}

		msg := &event.Change{Op: event.OpMessage, Tx: testTx(), LSN: 1,
			Message: &event.LogicalMessage{Prefix: prefix, Content: data}}
		recs, err = e.Encode(msg)
		if err != nil {
			t.Fatalf("Encode message: %v", err)
		}
		var mk map[string]any
		mustUnmarshal(t, recs[0].Key, &mk)
		wantStr(t, mk, "prefix", prefix)
		var mv struct{ Message map[string]any }
		mustUnmarshal(t, recs[0].Value, &mv)
		wantStr(t, mv.Message, "prefix", prefix)
		wantB64(t, mv.Message, "content", data)
	})
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %q", b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("unmarshal %q: %v", b, err)
	}
}

func wantStr(t *testing.T, m map[string]any, k, in string) {
	t.Helper()
	if want := string([]rune(in)); m[k] != want {
		t.Fatalf("%s = %#v, want %q", k, m[k], want)
	}
}

func wantB64(t *testing.T, m map[string]any, k string, in []byte) {
	t.Helper()
	s, ok := m[k].(string)
	if !ok {
		t.Fatalf("%s = %#v, want a base64 string", k, m[k])
	}
	got, err := base64.StdEncoding.DecodeString(s)
	if err != nil || string(got) != string(in) {
		t.Fatalf("%s = %q decodes to %q (%v), want %q", k, s, got, err, in)
	}
}
