package schema

import (
	"encoding/json"
	"strings"
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

// TestJavaHashOrder: hstore keys come out in java.util.HashMap's iteration
// order; the wants were printed by a JDK 25 HashMap filled in the same
// order (including resizes past 12 and 24 keys, and non-ASCII keys).
func TestJavaHashOrder(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"a|n|b c", "a|b c|n"},
		{"k1|k2|k3|k4|k5|k6|k7|k8|k9|k10|k11|k12|k13|k14|k15", "k1|k2|k3|k4|k5|k11|k6|k10|k7|k13|k8|k12|k9|k15|k14"},
		{"ü|日本|zz|Aa|BB|emoji😀", "zz|Aa|BB|emoji😀|日本|ü"},
		{"color|size|weight|brand|model|year|price|stock|sku|ean|upc|tags|notes|extra|misc|x|y|z|w|v|u|t|s|r|q|p",
			"notes|color|year|ean|price|extra|model|stock|sku|brand|misc|weight|upc|tags|p|q|r|s|size|t|u|v|w|x|y|z"},
	} {
		var h event.HStore
		for _, k := range strings.Split(c.in, "|") {
			h = append(h, event.HStorePair{Key: k})
		}
		var got []string
		for _, i := range javaHashOrder(h) {
			got = append(got, h[i].Key)
		}
		if strings.Join(got, "|") != c.want {
			t.Errorf("order of %s:\n got %s\nwant %s", c.in, strings.Join(got, "|"), c.want)
		}
	}
}
