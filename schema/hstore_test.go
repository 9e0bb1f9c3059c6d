package schema

import (
	"encoding/json"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// TestHStoreJSONMode: an hstore value is the JSON text of an object
// (Debezium's hstore.handling.mode=json), a string in JSON and an Avro
// string named io.debezium.data.Json.
func TestHStoreJSONMode(t *testing.T) {
	t.Parallel()
	col := event.Column{Name: "attrs", TypeOID: 16999, TypeName: "hstore", TypeMod: -1, Kind: event.KindOther}
	val := event.HStore{{Key: "a", Value: "1"}, {Key: `q"`, Value: "ü\n"}, {Key: "nul", Null: true}}
	const want = `{"a":"1","q\"":"ü\n","nul":null}`
	rel, row := modesRel([]modeCase{{col: col, val: val}})
	ch := change(event.OpCreate, rel, nil, row)

	var v struct{ After map[string]any }
	if err := json.Unmarshal(mustEncode(t, NewJSON(testOptions()), ch)[0].Value, &v); err != nil {
		t.Fatal(err)
	}
	if got := v.After["attrs"]; got != want {
		t.Errorf("JSON attrs = %#v, want the string %s", got, want)
	}
	ta := newTestAvro(t, registry.Backward)
	rec := mustEncode(t, ta.enc, ch)[0]
	if got := ta.decodeValue(t, rec.Value)["after"].(map[string]any)["attrs"]; got != want {
		t.Errorf("Avro attrs = %#v, want %s", got, want)
	}
	p := valueFields(t, ta, rec.Value)["attrs"].Type().(*avro.UnionSchema).Types()[1].(*avro.PrimitiveSchema)
	if p.Type() != avro.String || p.Prop("connect.name") != nameJSON {
		t.Errorf("Avro attrs has type %s, want a string named %s", p, nameJSON)
	}
}
