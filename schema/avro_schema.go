package schema

import (
	"github.com/walrelay/walrelay/event"
)

// schemaBuilder renders Avro types as schema JSON nodes. A named type is
// defined the first time it is used in one schema and referenced by its
// full name after that, as Avro requires; use one builder per schema text.
type schemaBuilder struct {
	defined map[string]bool
}

func newSchemaBuilder() *schemaBuilder { return &schemaBuilder{defined: map[string]bool{}} }

// named returns def the first time full is asked for, then a reference.
func (b *schemaBuilder) named(full string, def func() jobj) any {
	if b.defined[full] {
		return jref(full)
	}
	b.defined[full] = true
	return def()
}

// node renders t in AvroData's form: a bare primitive name when it has no
// properties, else an object with the type, decimal precision and scale,
// connect.version, connect.parameters, connect.name, connect.type and
// logicalType.
func (b *schemaBuilder) node(t *avroType) any {
	switch t.kind {
	case kindVarDecimal:
		return b.named(nameVarDecimal, varDecimalRecord)
	case kindPoint:
		return b.named(namePoint, pointRecord)
	case kindGeometry:
		if t.name == nameGeography {
			return b.named(nameGeography, geographyRecord)
		}
		return b.named(nameGeometry, geometryRecord)
	case kindArray:
		return jobj{{"type", "array"}, {"items", jarr{"null", b.node(t.elem)}}}
	}
	if t.name == "" && t.connType == "" {
		return t.kind.String()
	}
	o := jobj{{"type", t.kind.String()}}
	if t.kind == kindDecimal {
		o = o.set("scale", int(t.scale)).set("precision", t.precision)
	}
	if t.name != "" {
		o = o.set("connect.version", connectVersion1)
	}
	if len(t.params) > 0 {
		o = o.set("connect.parameters", t.params)
	}
	if t.name != "" {
		o = o.set("connect.name", t.name)
	}
	if t.connType != "" {
		o = o.set("connect.type", t.connType)
	}
	if t.kind == kindDecimal {
		o = o.set("logicalType", "decimal")
	}
	if t.logical != "" {
		o = o.set("logicalType", t.logical)
	}
	return o
}

func varDecimalRecord() jobj {
	return structRecord(nameVarDecimal, "Variable scaled decimal", jarr{
		jobj{{"name", "scale"}, {"type", "int"}},
		jobj{{"name", "value"}, {"type", "bytes"}},
	})
}

// structRecord renders one of Debezium's version-1 struct types as AvroData
// does: the record, then connect.doc, connect.version and connect.name.
func structRecord(full, doc string, fields jarr) jobj {
	ns, name := splitFullName(full)
	return jobj{{"type", "record"}, {"name", name}, {"namespace", ns}, {"fields", fields},
		{"connect.doc", doc}, {"connect.version", connectVersion1}, {"connect.name", full}}
}

// field renders a record field; an optional one is ["null", T] with
// default null.
func (b *schemaBuilder) field(name string, t *avroType, optional bool) jobj {
	if optional {
		return jobj{{"name", name}, {"type", jarr{"null", b.node(t)}}, {"default", nil}}
	}
	return jobj{{"name", name}, {"type", b.node(t)}}
}

// record renders a record named full (namespace split off) with fields and
// connect.name (and connect.version when version > 0).
func record(full string, fields jarr, version int) jobj {
	ns, name := splitFullName(full)
	o := jobj{{"type", "record"}, {"name", name}}
	if ns != "" {
		o = o.set("namespace", ns)
	}
	o = o.set("fields", fields)
	if version > 0 {
		o = o.set("connect.version", version)
	}
	return o.set("connect.name", full)
}

// relationNames returns the full record names of a relation's schemas:
// <prefix>.<schema>.<table>.Key, .Value and .Envelope, sanitised.
func relationNames(prefix string, rel *event.Relation) (key, value, envelope string) {
	base := avroFullName(prefix + "." + rel.Schema + "." + rel.Table)
	return base + ".Key", base + ".Value", base + ".Envelope"
}

// keySchema renders the Key record: the key columns, required.
func keySchema(full string, fields []avroField) string {
	b := newSchemaBuilder()
	fs := jarr{}
	for i := range fields {
		f := &fields[i]
		fs = append(fs, b.field(f.name, f.t, false))
	}
	return jsonText(record(full, fs, 0))
}

// envelopeVersion is the connect.version of Debezium's Envelope since it
// gained ts_us and ts_ns.
const envelopeVersion = 2

// valueSchema renders the Envelope record of a relation: before and after
// (the Value record, nullable), source, op, ts_ms, ts_us, ts_ns and
// transaction, in Debezium's order. A Value field whose name is not its
// column's records the column in a pg.column property (columnProp); the
// Key record's fields have none, so key schemas (whose IDs are part of the
// key bytes, hence of the partition) are as before.
func valueSchema(valueName, envelopeName string, fields []avroField) string {
	b := newSchemaBuilder()
	fs := jarr{}
	for i := range fields {
		f := &fields[i]
		fo := b.field(f.name, f.t, f.optional)
		if f.name != f.column.Name {
			fo = fo.set(columnProp, f.column.Name)
		}
		fs = append(fs, fo)
	}
	value := record(valueName, fs, 0)
	env := jarr{
		jobj{{"name", "before"}, {"type", jarr{"null", value}}, {"default", nil}},
		jobj{{"name", "after"}, {"type", jarr{"null", jref(valueName)}}, {"default", nil}},
		jobj{{"name", "source"}, {"type", sourceRecord()}},
		jobj{{"name", "op"}, {"type", "string"}},
		optionalField("ts_ms", "long"),
		optionalField("ts_us", "long"),
		optionalField("ts_ns", "long"),
		jobj{{"name", "transaction"}, {"type", jarr{"null", blockRecord()}}, {"default", nil}},
	}
	return jsonText(record(envelopeName, env, envelopeVersion))
}

func optionalField(name string, typ any) jobj {
	return jobj{{"name", name}, {"type", jarr{"null", typ}}, {"default", nil}}
}

// sourceRecord is io.debezium.connector.postgresql.Source as AvroData
// renders Debezium 3.6's (connect.version 1, origin and origin_lsn after
// xmin, always null here); snapshot is an optional Enum with default
// "false", so its union lists the string first.
func sourceRecord() jobj {
	snapshot := jobj{{"type", "string"}, {"connect.version", connectVersion1},
		{"connect.parameters", jobj{{"allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"}}},
		{"connect.default", "false"}, {"connect.name", nameEnum}}
	return record("io.debezium.connector.postgresql.Source", jarr{
		jobj{{"name", "version"}, {"type", "string"}},
		jobj{{"name", "connector"}, {"type", "string"}},
		jobj{{"name", "name"}, {"type", "string"}},
		jobj{{"name", "ts_ms"}, {"type", "long"}},
		jobj{{"name", "snapshot"}, {"type", jarr{snapshot, "null"}}, {"default", "false"}},
		jobj{{"name", "db"}, {"type", "string"}},
		optionalField("sequence", "string"),
		optionalField("ts_us", "long"),
		optionalField("ts_ns", "long"),
		jobj{{"name", "schema"}, {"type", "string"}},
		jobj{{"name", "table"}, {"type", "string"}},
		optionalField("txId", "long"),
		optionalField("lsn", "long"),
		optionalField("xmin", "long"),
		optionalField("origin", "string"),
		optionalField("origin_lsn", "long"),
	}, connectVersion1)
}

// blockRecord is Debezium's transaction block, event.block.
func blockRecord() jobj {
	return record("event.block", jarr{
		jobj{{"name", "id"}, {"type", "string"}},
		jobj{{"name", "total_order"}, {"type", "long"}},
		jobj{{"name", "data_collection_order"}, {"type", "long"}},
	}, connectVersion1)
}

// Record names of logical decoding messages, as Debezium's
// LogicalDecodingMessageMonitor names them.
const (
	messageKeyName   = "io.debezium.connector.postgresql.MessageKey"
	messageValueName = "io.debezium.connector.postgresql.MessageValue"
	messageBlockName = "io.debezium.connector.postgresql.Message"
)

// messageKeySchema and messageValueSchema are the schemas of <prefix>.message,
// as Debezium 3.6 registers them (connect.version 1; the value has a
// transaction block and a required message, whose content follows
// binary.handling.mode).
func messageKeySchema() string {
	return jsonText(record(messageKeyName, jarr{optionalField("prefix", "string")}, connectVersion1))
}

func messageValueSchema(bin BinaryMode) string {
	content := "bytes"
	if bin != BinaryBytes {
		content = "string"
	}
	msg := record(messageBlockName, jarr{optionalField("prefix", "string"), optionalField("content", content)}, connectVersion1)
	return jsonText(record(messageValueName, jarr{
		jobj{{"name", "op"}, {"type", "string"}},
		optionalField("ts_ms", "long"),
		jobj{{"name", "source"}, {"type", sourceRecord()}},
		jobj{{"name", "transaction"}, {"type", jarr{"null", blockRecord()}}, {"default", nil}},
		jobj{{"name", "message"}, {"type", msg}},
	}, connectVersion1))
}
