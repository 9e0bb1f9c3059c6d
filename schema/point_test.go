package schema

import (
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// TestPoint: a point is Debezium's io.debezium.data.geometry.Point: x, y,
// the little-endian WKB of the point and a null srid, in JSON and Avro,
// and the Avro schema node is AvroData's rendering of Point.builder().
func TestPoint(t *testing.T) {
	t.Parallel()
	col := avroCol("pos", pgtype.PointOID, "point", -1)
	rel, row := modesRel([]modeCase{{col: col, val: event.Point{X: 1.5, Y: -2}}})
	ch := change(event.OpCreate, rel, nil, row)
	// 01 | 01000000 | 1.5 LE | -2.0 LE
	const wkb = "AQEAAAAAAAAAAAD4PwAAAAAAAADA"

	var v struct{ After map[string]json.RawMessage }
	if err := json.Unmarshal(mustEncode(t, NewJSON(testOptions()), ch)[0].Value, &v); err != nil {
		t.Fatal(err)
	}
	if got, want := string(v.After["pos"]), `{"x":1.5,"y":-2.0,"wkb":"`+wkb+`","srid":null}`; got != want {
		t.Errorf("JSON pos = %s, want %s", got, want)
	}

	ta := newTestAvro(t, registry.Backward)
	rec := mustEncode(t, ta.enc, ch)[0]
	got := ta.decodeValue(t, rec.Value)["after"].(map[string]any)["pos"].(map[string]any)
	if got["x"] != 1.5 || got["y"] != -2.0 || string(got["wkb"].([]byte)) != string(pointWKB(event.Point{X: 1.5, Y: -2})) || got["srid"] != nil {
		t.Errorf("Avro pos = %#v", got)
	}
	node := jsonText(newSchemaBuilder().node(baseType(pgtype.PointOID, -1)))
	want := `{"type":"record","name":"Point","namespace":"io.debezium.data.geometry","fields":[` +
		`{"name":"x","type":"double"},{"name":"y","type":"double"},` +
		`{"name":"wkb","type":["null","bytes"],"default":null},{"name":"srid","type":["null","int"],"default":null}],` +
		`"connect.doc":"Geometry (POINT)","connect.version":1,"connect.name":"io.debezium.data.geometry.Point"}`
	if node != want {
		t.Errorf("schema node\n got %s\nwant %s", node, want)
	}
}
