package main

import (
	"strings"
)

// avroPrimitives are Avro's primitive type names.
var avroPrimitives = map[string]bool{"null": true, "boolean": true, "int": true, "long": true,
	"float": true, "double": true, "bytes": true, "string": true}

// flattener turns an Avro schema into "path attribute" -> value lines, so
// two schemas compare line by line: "after.c_int4 type" = "int",
// "after.c_ts connect.name" = "io.debezium.time.MicroTimestamp",
// "after union" = `["null","record"]`. Named types referenced by name are
// expanded where they are used, so an inline definition and a reference
// compare equal; the connector's topic prefix in names is replaced by
// "<prefix>".
type flattener struct {
	prefix string
	defs   map[string]map[string]any // full and short names -> definition
	out    map[string]string
}

// flattenSchema flattens a decoded Avro schema (see flattener); refs are the
// decoded schemas it references (Confluent schema references), whose named
// types are expanded where used.
func flattenSchema(schema any, prefix string, refs []any) map[string]string {
	f := &flattener{prefix: prefix, defs: map[string]map[string]any{}, out: map[string]string{}}
	for _, r := range refs {
		f.walk("(reference)", r, "", 0) // defines its named types
	}
	f.out = map[string]string{}
	f.walk("", schema, "", 0)
	return f.out
}

// set records one line, the prefix normalized.
func (f *flattener) set(path, attr, v string) {
	key := attr
	if path != "" {
		key = path + " " + attr
	}
	f.out[key] = strings.ReplaceAll(v, f.prefix, "<prefix>")
}

// walk flattens schema s found at path, in namespace ns.
func (f *flattener) walk(path string, s any, ns string, depth int) {
	if depth > 20 {
		f.set(path, "type", "(recursion)")
		return
	}
	switch x := s.(type) {
	case string:
		if avroPrimitives[x] {
			f.set(path, "type", x)
			return
		}
		if def := f.lookup(x, ns); def != nil {
			f.walk(path, def, ns, depth+1)
			return
		}
		f.set(path, "type", "unresolved reference "+x)
	case []any:
		var names, nonNull []string
		var branches []any
		for _, b := range x {
			n := typeName(b)
			if !avroPrimitives[n] {
				if name, ok := b.(string); ok {
					if def := f.lookup(name, ns); def != nil {
						n = typeName(def) // a reference: its kind, as an inline definition
					}
				}
			}
			names = append(names, n)
			if n != "null" {
				nonNull = append(nonNull, n)
				branches = append(branches, b)
			}
		}
		f.set(path, "union", render(names))
		if len(branches) == 1 {
			f.walk(path, branches[0], ns, depth+1)
			return
		}
		for i, b := range branches {
			f.walk(path+"|"+nonNull[i], b, ns, depth+1)
		}
	case map[string]any:
		f.walkObject(path, x, ns, depth)
	default:
		f.set(path, "type", render(s))
	}
}

// walkObject flattens a schema object: records (with their fields), arrays,
// maps, enums, fixed, and annotated primitives.
func (f *flattener) walkObject(path string, m map[string]any, ns string, depth int) {
	t := m["type"]
	ts, isName := t.(string)
	if !isName {
		f.walk(path, t, ns, depth+1) // {"type": {...}} or {"type": [...]}
	}
	for k, v := range m {
		switch k {
		case "type", "fields", "items", "values", "name", "namespace", "doc":
			continue
		}
		f.set(path, k, render(v))
	}
	if !isName {
		return
	}
	switch ts {
	case "record", "error", "enum", "fixed":
		full, nns := fullName(m, ns)
		f.defs[full] = m
		f.defs[full[strings.LastIndex(full, ".")+1:]] = m
		f.set(path, "type", ts)
		f.set(path, "name", full)
		if ts != "record" && ts != "error" {
			return
		}
		fields, _ := m["fields"].([]any)
		var order []string
		for _, fv := range fields {
			fm, _ := fv.(map[string]any)
			name, _ := fm["name"].(string)
			order = append(order, name)
			fp := joinPath(path, name)
			for k, v := range fm {
				if k != "name" && k != "type" && k != "doc" {
					f.set(fp, "field."+k, render(v))
				}
			}
			f.walk(fp, fm["type"], nns, depth+1)
		}
		f.set(path, "field order", strings.Join(order, ","))
	case "array":
		f.set(path, "type", "array")
		f.walk(path+"[]", m["items"], ns, depth+1)
	case "map":
		f.set(path, "type", "map")
		f.walk(path+"{}", m["values"], ns, depth+1)
	default:
		f.walk(path, ts, ns, depth+1)
	}
}

// lookup finds a named type by full name, by name in namespace ns, or by
// short name.
func (f *flattener) lookup(name, ns string) map[string]any {
	if d := f.defs[name]; d != nil {
		return d
	}
	if ns != "" {
		if d := f.defs[ns+"."+name]; d != nil {
			return d
		}
	}
	return f.defs[name[strings.LastIndex(name, ".")+1:]]
}

// fullName returns a named type's full name and the namespace its fields
// resolve names in.
func fullName(m map[string]any, ns string) (string, string) {
	name, _ := m["name"].(string)
	if strings.Contains(name, ".") {
		return name, name[:strings.LastIndex(name, ".")]
	}
	if n, ok := m["namespace"].(string); ok {
		ns = n
	}
	if ns == "" {
		return name, ""
	}
	return ns + "." + name, ns
}

// typeName is a short description of a union branch: a primitive or
// reference name, or the complex type's kind with its logical type.
func typeName(b any) string {
	switch x := b.(type) {
	case string:
		return x
	case map[string]any:
		t, _ := x["type"].(string)
		if lt, ok := x["logicalType"].(string); ok {
			return t + "/" + lt
		}
		if t == "" {
			return "complex"
		}
		return t
	}
	return "?"
}
