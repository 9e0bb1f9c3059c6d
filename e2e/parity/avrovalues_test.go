package main

import (
	"encoding/json"
	"math"
	"math/big"
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

	d := &avroDecoder{schemas: map[string]avro.Schema{"x-value": s}}
	if _, _, err := d.decode("debezium", "x-value", []byte{0, 0, 0, 0, 1}); err == nil {
		t.Error("5 bytes read as Debezium's 9-byte header gave no error")
	}
	js, id, err := d.decode("walrelay", "x-value", append([]byte{0, 0, 0, 0, 7}, b...))
	if err != nil || string(js) != want || id != "00000007" {
		t.Errorf("walrelay wire: %s %s %v", js, id, err)
	}
}
