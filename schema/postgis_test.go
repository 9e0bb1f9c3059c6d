package schema

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// TestPostGIS: geometry and geography columns are Debezium's Geometry and
// Geography structs {wkb: the EWKB, srid}, in JSON and Avro; elements of a
// geometry array are the hex EWKB text.
func TestPostGIS(t *testing.T) {
	t.Parallel()
	ewkb, _ := hex.DecodeString("0101000020E6100000000000000000F03F0000000000000040")
	geom := event.Column{Name: "geom", TypeOID: 17001, TypeName: "geometry", TypeMod: -1, Kind: event.KindOther}
	geog := event.Column{Name: "geog", TypeOID: 17002, TypeName: "geography", TypeMod: -1, Kind: event.KindOther}
	arr := event.Column{Name: "geoms", TypeOID: 17003, TypeName: "_geometry", TypeMod: -1, Kind: event.KindArray, ElemOID: 17001}
	g := event.Geometry{WKB: ewkb, SRID: 4326, HasSRID: true}
	noSRID := event.Column{Name: "plain", TypeOID: 17001, TypeName: "geometry", TypeMod: -1, Kind: event.KindOther}
	rel, row := modesRel([]modeCase{{col: geom, val: g}, {col: noSRID, val: event.Geometry{WKB: ewkb[:5]}}, {col: geog, val: event.Geometry{WKB: ewkb, SRID: 4326, HasSRID: true, Geography: true}},
		{col: arr, val: []any{g, nil}}})
	ch := change(event.OpCreate, rel, nil, row)

	var v struct{ After map[string]json.RawMessage }
	if err := json.Unmarshal(mustEncode(t, NewJSON(testOptions()), ch)[0].Value, &v); err != nil {
		t.Fatal(err)
	}
	const b64 = "AQEAACDmEAAAAAAAAAAA8D8AAAAAAAAAQA=="
	for col, want := range map[string]string{
		"geom": `{"wkb":"` + b64 + `","srid":4326}`, "geog": `{"wkb":"` + b64 + `","srid":4326}`,
		"geoms": `["0101000020E6100000000000000000F03F0000000000000040",null]`,
		"plain": `{"wkb":"AQEAACA=","srid":null}`,
	} {
		if got := string(v.After[col]); got != want {
			t.Errorf("JSON %s = %s, want %s", col, got, want)
		}
	}

	ta := newTestAvro(t, registry.Backward)
	rec := mustEncode(t, ta.enc, ch)[0]
	after := ta.decodeValue(t, rec.Value)["after"].(map[string]any)
	for _, col := range []string{"geom", "geog"} {
		got := after[col].(map[string]any)
		if !bytes.Equal(got["wkb"].([]byte), ewkb) || got["srid"] != 4326 {
			t.Errorf("Avro %s = %#v", col, got)
		}
	}
	fields := valueFields(t, ta, rec.Value)
	for col, want := range map[string]string{
		"geom": `{"type":"record","name":"Geometry","namespace":"io.debezium.data.geometry","fields":[{"name":"wkb","type":"bytes"},` +
			`{"name":"srid","type":["null","int"],"default":null}],"connect.doc":"Geometry","connect.version":1,"connect.name":"io.debezium.data.geometry.Geometry"}`,
		"geog": `{"type":"record","name":"Geography","namespace":"io.debezium.data.geometry","fields":[{"name":"wkb","type":"bytes"},` +
			`{"name":"srid","type":["null","int"],"default":null}],"connect.doc":"Geography","connect.version":1,"connect.name":"io.debezium.data.geometry.Geography"}`,
	} {
		if fields[col] == nil {
			t.Fatalf("no field %s", col)
		}
		if got := jsonText(newSchemaBuilder().node(postgisType(map[string]string{"geom": "geometry", "geog": "geography"}[col]))); got != want {
			t.Errorf("%s schema node\n got %s\nwant %s", col, got, want)
		}
	}
}
