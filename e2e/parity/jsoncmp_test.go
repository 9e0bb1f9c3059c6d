package main

import (
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestCompareJSONEqual: key order, 1.0 vs 1e0 vs 1.00, and nested arrays do
// not make two documents differ.
func TestCompareJSONEqual(t *testing.T) {
	a := `{"a":1.0,"b":{"x":[1,2.50,{"k":null}],"y":"s"},"c":-0.000001,"z":-0.0}`
	b := `{"c":-1e-6,"b":{"y":"s","x":[1,2.5,{"k":null}]},"a":1e0,"z":-0E0}`
	if d := compareJSON([]byte(a), []byte(b)); len(d) != 0 {
		t.Fatalf("compareJSON(%s, %s) = %v, want no difference", a, b, d)
	}
	if canonical([]byte(a)) != canonical([]byte(b)) {
		t.Errorf("canonical forms differ: %s vs %s", canonical([]byte(a)), canonical([]byte(b)))
	}
}

// TestCompareJSONDiffs: a string's text difference is reported exactly, with
// the path; and numbers, types, absent fields, nulls and array lengths are
// told apart.
func TestCompareJSONDiffs(t *testing.T) {
	cases := []struct {
		a, b string
		want []jsonDiff
	}{
		{`{"ts":"2024-01-02T03:04:05.5Z"}`, `{"ts":"2024-01-02T03:04:05.500000Z"}`,
			[]jsonDiff{{"ts", `"2024-01-02T03:04:05.5Z"`, `"2024-01-02T03:04:05.500000Z"`}}},
		{`{"n":1}`, `{"n":1.0000000000000001}`, []jsonDiff{{"n", "1", "1.0000000000000001"}}},
		{`{"n":1}`, `{"n":"1"}`, []jsonDiff{{"n", "1", `"1"`}}},
		// a float written as an integer is read as another type
		{`{"f4":16777216}`, `{"f4":1.6777216E7}`, []jsonDiff{{"f4", "16777216", "1.6777216E7"}}},
		{`{"y":-2}`, `{"y":-2.0}`, []jsonDiff{{"y", "-2", "-2.0"}}},
		{`{"f8":0}`, `{"f8":0.0}`, []jsonDiff{{"f8", "0", "0.0"}}},
		{`{"f8":0.0}`, `{"f8":-0.0}`, []jsonDiff{{"f8", "0.0", "-0.0"}}},
		{`{"n":null}`, `{}`, []jsonDiff{{"n", "null", absent}}},
		{`{}`, `{"n":0}`, []jsonDiff{{"n", absent, "0"}}},
		{`{"a":[1,2]}`, `{"a":[1]}`, []jsonDiff{{"a", "[1,2]", "[1]"}}},
		{`{"a":[[1,2]]}`, `{"a":[[1,3]]}`, []jsonDiff{{"a[0][1]", "2", "3"}}},
		{`{"s":"<&>"}`, `{"s":"<&> "}`, []jsonDiff{{"s", `"<&>"`, `"<&> "`}}},
		{`true`, `false`, []jsonDiff{{"", "true", "false"}}},
		{`{"x":1}`, `null`, []jsonDiff{{"", `{"x":1}`, "null"}}},
	}
	for _, c := range cases {
		got := compareJSON([]byte(c.a), []byte(c.b))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("compareJSON(%s, %s) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

// TestCompareJSONUnparsable: invalid JSON is compared as text, never as equal
// to something else.
func TestCompareJSONUnparsable(t *testing.T) {
	if d := compareJSON([]byte(`{"a":`), []byte(`{"a":1}`)); len(d) != 1 {
		t.Errorf("invalid vs valid: %v, want one difference", d)
	}
	if d := compareJSON([]byte(`{"a":`), []byte(`{"a":`)); len(d) != 0 {
		t.Errorf("identical invalid texts: %v, want none", d)
	}
}

// TestComparePairFields: a record pair is compared column by column, with
// source.name's own prefix and the processing-time ts_ms ignored.
func TestComparePairFields(t *testing.T) {
	c := &comparer{pass: "t", prefixes: map[string]string{"walrelay": "wr", "debezium": "dbz"}}
	wr := record{Side: "walrelay", Topic: "public.t", Key: []byte(`{"id":1}`),
		Value: []byte(`{"before":null,"after":{"id":1,"v":"2024-01-02T03:04:05.5Z"},"source":{"name":"wr","lsn":10},"op":"c","ts_ms":1}`)}
	dbz := record{Side: "debezium", Topic: "public.t", Key: []byte(`{"id":1.0}`),
		Value: []byte(`{"op":"c","ts_ms":2,"after":{"v":"2024-01-02T03:04:05.500000Z","id":1},"before":null,"source":{"lsn":10,"name":"dbz","xmin":null}}`)}
	c.comparePair(wr, dbz)
	want := []diffRow{
		{"t", "public.t", `{"id":1}`, "c", "key", `{"id":1}`, `{"id":1.0}`},
		{"t", "public.t", `{"id":1}`, "c", "after.v", `"2024-01-02T03:04:05.5Z"`, `"2024-01-02T03:04:05.500000Z"`},
		{"t", "public.t", `{"id":1}`, "c", "source.xmin", absent, "null"},
	}
	if !reflect.DeepEqual(c.rows, want) {
		t.Errorf("rows = %+v\nwant %+v", c.rows, want)
	}
}

// TestHeadersPerRecord: a header both connectors set in a topic is compared
// record by record, so one missing from a single record is reported; a
// header only one connector sets is listed once for the topic.
func TestHeadersPerRecord(t *testing.T) {
	h := func(kv ...string) []kgo.RecordHeader {
		var out []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			out = append(out, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return out
	}
	v := func(op string) []byte { return []byte(`{"op":"` + op + `"}`) }
	recs := []record{
		{Side: "walrelay", Topic: "t", Key: []byte(`{"id":1}`), Value: v("d"), Headers: h("__debezium.newkey", `{"id":2}`, "ce_id", "1")},
		{Side: "walrelay", Topic: "t", Key: []byte(`{"id":2}`), Value: v("c"), Headers: h("__debezium.oldkey", `{"id":1}`, "ce_id", "2")},
		{Side: "walrelay", Topic: "t", Key: []byte(`{"id":3}`), Value: v("c"), Headers: h("__debezium.oldkey", `{"id":9}`, "ce_id", "3")},
		{Side: "debezium", Topic: "t", Key: []byte(`{"id":1}`), Value: v("d"), Headers: h("__debezium.newkey", `{"id":2}`)},
		{Side: "debezium", Topic: "t", Key: []byte(`{"id":2}`), Value: v("c")},
		{Side: "debezium", Topic: "t", Key: []byte(`{"id":3}`), Value: v("c"), Headers: h("__debezium.oldkey", `{"id":1}`)},
	}
	c := &comparer{pass: "p", prefixes: map[string]string{"walrelay": "wr", "debezium": "dbz"}}
	c.compareRecords(recs)
	want := []diffRow{
		{"p", "t", `{"id":2}`, "c", "header __debezium.oldkey", `"{\"id\":1}"`, absent},
		{"p", "t", `{"id":3}`, "c", "header __debezium.oldkey", `"{\"id\":9}"`, `"{\"id\":1}"`},
		{"p", "t", "*", "*", "header ce_id", `3 records, e.g. "1"`, absent},
	}
	if !reflect.DeepEqual(c.rows, want) {
		t.Errorf("rows = %+v\nwant %+v", c.rows, want)
	}
}
