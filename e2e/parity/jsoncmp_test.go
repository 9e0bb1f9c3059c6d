package main

import (
	"reflect"
	"testing"
)

// TestCompareJSONEqual: key order, 1 vs 1.0 vs 1e0, and nested arrays do not
// make two documents differ.
func TestCompareJSONEqual(t *testing.T) {
	a := `{"a":1,"b":{"x":[1,2.50,{"k":null}],"y":"s"},"c":-0.000001}`
	b := `{"c":-1e-6,"b":{"y":"s","x":[1.0,2.5,{"k":null}]},"a":1.0}`
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
		{"t", "public.t", `{"id":1}`, "c", "key (bytes)", `{"id":1}`, `{"id":1.0}`},
		{"t", "public.t", `{"id":1}`, "c", "after.v", `"2024-01-02T03:04:05.5Z"`, `"2024-01-02T03:04:05.500000Z"`},
		{"t", "public.t", `{"id":1}`, "c", "source.xmin", absent, "null"},
	}
	if !reflect.DeepEqual(c.rows, want) {
		t.Errorf("rows = %+v\nwant %+v", c.rows, want)
	}
}
