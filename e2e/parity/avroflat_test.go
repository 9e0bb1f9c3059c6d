package main

import (
	"reflect"
	"testing"
)

// TestFlattenSchemaReferences: a named type used by reference (Debezium's
// "after": ["null","Value"], a Source from a schema reference) flattens like
// its inline definition, with the topic prefix normalized; a differing
// connect.name is kept apart.
func TestFlattenSchemaReferences(t *testing.T) {
	inline := `{"type":"record","name":"Envelope","namespace":"wr.public.t","fields":[
		{"name":"before","type":["null",{"type":"record","name":"Value","fields":[{"name":"id","type":"int"}]}],"default":null},
		{"name":"after","type":["null",{"type":"record","name":"Value2","fields":[{"name":"id","type":"int"}]}],"default":null},
		{"name":"source","type":{"type":"record","name":"Source","namespace":"io.debezium","fields":[{"name":"lsn","type":"long"}]}}]}`
	refd := `{"type":"record","name":"Envelope","namespace":"dbz.public.t","fields":[
		{"name":"before","type":["null",{"type":"record","name":"Value","fields":[{"name":"id","type":"int"}]}],"default":null},
		{"name":"after","type":["null",{"type":"record","name":"Value2","fields":[{"name":"id","type":"int"}]}],"default":null},
		{"name":"source","type":"io.debezium.Source"}]}`
	source := `{"type":"record","name":"Source","namespace":"io.debezium","fields":[{"name":"lsn","type":"long"}]}`
	a, _ := decodeJSON([]byte(inline))
	b, _ := decodeJSON([]byte(refd))
	src, _ := decodeJSON([]byte(source))
	fa := flattenSchema(a, "wr", nil)
	fb := flattenSchema(b, "dbz", []any{src})
	if !reflect.DeepEqual(fa, fb) {
		t.Errorf("flattened schemas differ:\n%v\n%v", fa, fb)
	}
	if fa["source.lsn type"] != "long" || fa["after.id type"] != "int" || fa["name"] != "<prefix>.public.t.Envelope" {
		t.Errorf("unexpected lines: %v", fa)
	}
	c, _ := decodeJSON([]byte(`{"type":"record","name":"R","fields":[{"name":"ts","type":{"type":"long","connect.name":"io.debezium.time.MicroTimestamp"}}]}`))
	d, _ := decodeJSON([]byte(`{"type":"record","name":"R","fields":[{"name":"ts","type":{"type":"long","connect.name":"io.debezium.time.Timestamp"}}]}`))
	if x, y := flattenSchema(c, "p", nil)["ts connect.name"], flattenSchema(d, "p", nil)["ts connect.name"]; x == y {
		t.Errorf("connect.name %s vs %s compare equal", x, y)
	}
}
