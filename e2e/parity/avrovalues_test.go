package main

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/walrelay/walrelay/internal/avrogeneric"
)

// TestAvroAsJSON: a value encoded with a Debezium-like schema decodes to the
// JSON a comparison needs: union wrappers of records and arrays gone,
// decimals exact, bytes base64, non-finite floats named, logical times
// readable; each side's header is skipped by its own length.
func TestAvroAsJSON(t *testing.T) {
	s := avro.MustParse(`{"type":"record","name":"p.public.t.Value","fields":[
		{"name":"n","type":["null",{"type":"record","name":"VariableScaleDecimal","namespace":"io.debezium.data",
			"fields":[{"name":"scale","type":"int"},{"name":"value","type":"bytes"}]}]},
		{"name":"d","type":["null",{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}]},
		{"name":"arr","type":["null",{"type":"array","items":["null","int"]}]},
		{"name":"f","type":["null","double"]},
		{"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-millis"}]},
		{"name":"b","type":"bytes"}]}`)
	in := map[string]any{
		"n":   map[string]any{"io.debezium.data.VariableScaleDecimal": map[string]any{"scale": 1, "value": []byte{15}}},
		"d":   map[string]any{"bytes.decimal": big.NewRat(1250, 100)},
		"arr": map[string]any{"array": []any{1, nil}},
		"f":   math.NaN(),
		"ts":  map[string]any{"long.timestamp-millis": time.UnixMilli(1500).UTC()},
		"b":   []byte("hi"),
	}
	b, err := avro.Marshal(s, in)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := avro.Unmarshal(s, b, &v); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(jsonable(avrogeneric.Unwrap(v)))
	want := `{"arr":[1,null],"b":"aGk=","d":"25/2","f":"NaN","n":{"scale":1,"value":"Dw=="},"ts":"1970-01-01T00:00:01.5Z"}`
	if string(got) != want {
		t.Errorf("decoded\n got %s\nwant %s", got, want)
	}

	d := &avroDecoder{schemas: map[string]avro.Schema{schemaKey("walrelay", 7): s}}
	if _, err := d.decode("debezium", []byte{0, 0, 0, 0, 1}); err == nil {
		t.Error("5 bytes read as Debezium's 9-byte header gave no error")
	}
	js, err := d.decode("walrelay", append([]byte{0, 0, 0, 0, 7}, b...))
	if err != nil || string(js) != want {
		t.Errorf("walrelay wire: %s %v", js, err)
	}
}

// TestAvroDecodeByID: each record is decoded with the schema its header's
// ID names, not its subject's latest: records written before a column was
// added decode, on both sides (walrelay's Confluent ID, Debezium's Apicurio
// global ID, whose schema references another subject).
func TestAvroDecodeByID(t *testing.T) {
	const v1 = `{"type":"record","name":"V","fields":[{"name":"id","type":"int"}]}`
	const v2 = `{"type":"record","name":"V","fields":[{"name":"id","type":"int"},{"name":"c","type":["null","int"],"default":null}]}`
	const src = `{"type":"record","name":"S","namespace":"io.x","fields":[{"name":"db","type":"string"}]}`
	const v2ref = `{"type":"record","name":"V","fields":[{"name":"id","type":"int"},{"name":"c","type":["null","int"],"default":null},` +
		`{"name":"src","type":"io.x.S"}]}`
	routes := map[string]string{
		"/apis/ccompat/v7/schemas/ids/1":                        schemaBody(v1),
		"/apis/ccompat/v7/schemas/ids/2":                        schemaBody(v2),
		"/apis/ccompat/v7/subjects/wr.t-value/versions/latest":  schemaBody(v2),
		"/apis/ccompat/v7/subjects/dbz.t-value/versions/latest": schemaBody(v2ref),
		"/apis/ccompat/v7/subjects/io.x.S/versions/1":           schemaBody(src),
		"/apis/registry/v2/ids/globalIds/11":                    v1,
		"/apis/registry/v2/ids/globalIds/11/references":         `[]`,
		"/apis/registry/v2/ids/globalIds/12":                    v2ref,
		"/apis/registry/v2/ids/globalIds/12/references":         `[{"artifactId":"io.x.S","version":"1","name":"io.x.S"}]`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	enc := func(schema string, header []byte, v map[string]any) []byte {
		b, err := avro.Marshal(avro.MustParse(schema), v)
		if err != nil {
			t.Fatal(err)
		}
		return append(header, b...)
	}
	srcCache := &avro.SchemaCache{}
	if _, err := avro.ParseWithCache(src, "", srcCache); err != nil {
		t.Fatal(err)
	}
	ref, err := avro.ParseWithCache(v2ref, "", srcCache)
	if err != nil {
		t.Fatal(err)
	}
	refBytes, err := avro.Marshal(ref, map[string]any{"id": 2, "c": 42, "src": map[string]any{"db": "d"}})
	if err != nil {
		t.Fatal(err)
	}
	recs := []record{
		{Side: "walrelay", Topic: "t", Value: enc(v1, []byte{0, 0, 0, 0, 1}, map[string]any{"id": 1})},
		{Side: "walrelay", Topic: "t", Value: enc(v2, []byte{0, 0, 0, 0, 2}, map[string]any{"id": 2, "c": 42})},
		{Side: "debezium", Topic: "t", Value: enc(v1, []byte{0, 0, 0, 0, 0, 0, 0, 0, 11}, map[string]any{"id": 1})},
		{Side: "debezium", Topic: "t", Value: append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 12}, refBytes...)},
	}
	d := &avroDecoder{ctx: context.Background(), registry: srv.URL + "/apis/ccompat/v7",
		prefixes: map[string]string{"walrelay": "wr", "debezium": "dbz"}, schemas: map[string]avro.Schema{}}
	out, rows := d.asJSON("avro", recs)
	if len(rows) != 0 {
		t.Fatalf("undecodable: %+v", rows)
	}
	want := []string{`{"id":1}`, `{"c":42,"id":2}`, `{"id":1}`, `{"c":42,"id":2,"src":{"db":"d"}}`}
	for i, r := range out {
		if string(r.Value) != want[i] {
			t.Errorf("record %d (%s) = %s, want %s", i, r.Side, r.Value, want[i])
		}
	}
}

// schemaBody is a Confluent-compatible API answer holding schema.
func schemaBody(schema string) string {
	b, _ := json.Marshal(map[string]any{"schema": schema, "references": []any{}})
	return string(b)
}
