package avrogeneric

import (
	"math"
	"reflect"
	"testing"

	"github.com/hamba/avro/v2"
)

// TestUnwrap: values hamba decodes from unions of a record, an array and a
// map come out bare; a record with one plain field stays a record.
func TestUnwrap(t *testing.T) {
	s := avro.MustParse(`{"type":"record","name":"a.Outer","fields":[
		{"name":"rec","type":["null",{"type":"record","name":"b.Inner","fields":[{"name":"x","type":"int"}]}]},
		{"name":"arr","type":["null",{"type":"array","items":["null","int"]}]},
		{"name":"m","type":["null",{"type":"map","values":"int"}]},
		{"name":"one","type":{"type":"record","name":"c.One","fields":[{"name":"array","type":"int"}]}},
		{"name":"s","type":["null","string"]}]}`)
	in := map[string]any{
		"rec": map[string]any{"b.Inner": map[string]any{"x": 1}},
		"arr": map[string]any{"array": []any{2, nil}},
		"m":   map[string]any{"map": map[string]any{"k": 3}},
		"one": map[string]any{"array": 4},
		"s":   "t",
	}
	b, err := avro.Marshal(s, in)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := avro.Unmarshal(s, b, &v); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"rec": map[string]any{"x": 1},
		"arr": []any{2, nil},
		"m":   map[string]any{"k": 3},
		"one": map[string]any{"array": 4},
		"s":   "t",
	}
	if got := Unwrap(v); !reflect.DeepEqual(got, want) {
		t.Errorf("Unwrap:\n got %#v\nwant %#v", got, want)
	}
}

// TestFloatName: Jackson's names for the three non-finite values; none for
// a finite one.
func TestFloatName(t *testing.T) {
	for f, want := range map[float64]string{math.Inf(1): "Infinity", math.Inf(-1): "-Infinity", 1.5: ""} {
		if got, ok := FloatName(f); got != want || ok != (want != "") {
			t.Errorf("FloatName(%v) = %q, %v", f, got, ok)
		}
	}
	if got, ok := FloatName(math.NaN()); got != "NaN" || !ok {
		t.Errorf("FloatName(NaN) = %q, %v", got, ok)
	}
}
