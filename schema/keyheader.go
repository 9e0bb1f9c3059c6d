package schema

import (
	"github.com/walrelay/walrelay/event"
)

// Headers Debezium puts on the records of an update that changes a row's
// key (see event.Change.KeyPeer).
const (
	// HeaderNewKey is on the delete half and its tombstone: the new key.
	HeaderNewKey = "__debezium.newkey"
	// HeaderOldKey is on the create half: the old key.
	HeaderOldKey = "__debezium.oldkey"
)

// keyHeaderName is the key-change header of ch, "" when it has none.
func keyHeaderName(ch *event.Change) string {
	switch {
	case ch.KeyPeer == nil:
		return ""
	case ch.Op == event.OpDelete:
		return HeaderNewKey
	case ch.Op == event.OpCreate:
		return HeaderOldKey
	}
	return ""
}

// appendKeyHeader appends the key-change header of ch, if it has one, to
// the layouts of its records (a delete's tombstone shares the delete's
// value). The value is what Debezium Server's default header format (JSON
// with schemas) writes: {"schema": the Key struct, "payload": the key of
// ch.KeyPeer}, whatever the record format.
func appendKeyHeader(buf []byte, ls []recordLayout, j *JSONEncoder, ch *event.Change, prefix string) ([]byte, error) {
	name := keyHeaderName(ch)
	if name == "" || len(ls) == 0 || !ls[0].hasKey {
		return buf, nil
	}
	var sp span
	sp.start = len(buf)
	buf = append(buf, `{"schema":`...)
	buf = appendJSONNode(buf, connectKeySchema(&j.o, prefix, ch.Relation))
	buf = append(buf, `,"payload":`...)
	var err error
	if buf, err = j.appendKey(buf, ch.Relation, j.plans.get(ch.Relation).names, ch.KeyPeer); err != nil {
		return buf, err
	}
	buf = append(buf, '}')
	sp.end = len(buf)
	for i := range ls {
		ls[i].extraKey, ls[i].extra = name, sp
	}
	return buf, nil
}

// connectKeySchema is the Kafka Connect schema of rel's Key struct as
// JsonConverter writes it: the key columns in key order (KeyColumns) under
// their own names, required, typed as the Avro key's fields are (the
// inverse of AvroData, see connectType).
func connectKeySchema(o *Options, prefix string, rel *event.Relation) jobj {
	fields := jarr{}
	for _, i := range rel.KeyColumns() {
		col := &rel.Columns[i]
		t := o.withModes(columnType(col), col)
		f := connectType(newSchemaBuilder().node(t), false)
		fields = append(fields, f.set("field", col.Name))
	}
	keyName, _, _ := relationNames(prefix, rel)
	return jobj{{"type", "struct"}, {"fields", fields}, {"optional", false}, {"name", keyName}}
}

// avroToConnect maps Avro primitive names to Kafka Connect's.
var avroToConnect = map[string]string{
	"boolean": "boolean", "int": "int32", "long": "int64", "float": "float",
	"double": "double", "string": "string", "bytes": "bytes",
}

// connectType renders an Avro schema node of schemaBuilder (a primitive
// name, a typed object with connect.* properties, a record, an array or a
// ["null", T] union) as JsonConverter renders the Connect schema AvroData
// reads from it: type (with fields or items), optional, name, version, doc,
// parameters.
func connectType(node any, optional bool) jobj {
	switch n := node.(type) {
	case string:
		return jobj{{"type", avroToConnect[n]}, {"optional", optional}}
	case jarr: // ["null", T]
		return connectType(n[len(n)-1], true)
	case jobj:
		return connectObject(n, optional)
	}
	return jobj{{"type", "string"}, {"optional", optional}}
}

// connectObject renders a typed Avro object node (see connectType).
func connectObject(n jobj, optional bool) jobj {
	typ, _ := n.get("type").(string)
	var o jobj
	switch typ {
	case "record":
		fields := jarr{}
		for _, f := range n.get("fields").(jarr) {
			fo := f.(jobj)
			fields = append(fields, connectType(fo.get("type"), false).set("field", fo.get("name")))
		}
		o = jobj{{"type", "struct"}, {"fields", fields}}
	case "array":
		o = jobj{{"type", "array"}, {"items", connectType(n.get("items"), false)}}
	default:
		ct, _ := n.get("connect.type").(string)
		if ct == "" {
			ct = avroToConnect[typ]
		}
		o = jobj{{"type", ct}}
	}
	o = o.set("optional", optional)
	for _, p := range [...]struct{ avro, connect string }{
		{"connect.name", "name"}, {"connect.version", "version"},
		{"connect.doc", "doc"}, {"connect.parameters", "parameters"},
	} {
		if v := n.get(p.avro); v != nil {
			o = o.set(p.connect, v)
		}
	}
	return o
}
