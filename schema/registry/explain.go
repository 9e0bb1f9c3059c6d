package registry

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// explain turns a failed compatibility check between reader and writer into
// problems, field by field. newIsReader says which side is the new schema
// (BACKWARD checks the new schema reading old data; FORWARD the reverse), so
// that a field the reader lacks in the writer reads as "added" or
// "removed". cause is the checker's error, used when no field explains it.
func explain(sc *avro.SchemaCompatibility, reader, writer avro.Schema, newIsReader bool, cause error) []Problem {
	var out []Problem
	explainAt(sc, nil, reader, writer, newIsReader, &out)
	if len(out) == 0 {
		out = append(out, Problem{Change: ChangeOther, Reason: cause.Error()})
	}
	return out
}

func explainAt(sc *avro.SchemaCompatibility, path []string, reader, writer avro.Schema, newIsReader bool, out *[]Problem) {
	r, w := record(reader), record(writer)
	if r == nil || w == nil {
		old, nw := describe(writer), describe(reader)
		if !newIsReader {
			old, nw = nw, old
		}
		pr := Problem{Path: clone(path), Change: ChangeType, Old: old, New: nw,
			Reason: fmt.Sprint(sc.Compatible(reader, writer))}
		if nullabilityOnly(sc, reader, writer) {
			pr.Change, pr.Reason = nullabilityChange(old, nw, newIsReader)
		}
		*out = append(*out, pr)
		return
	}
	before := len(*out)
	for _, rf := range r.Fields() {
		p := append(clone(path), rf.Name())
		wf := field(w, rf.Name())
		if wf == nil {
			if rf.HasDefault() {
				continue
			}
			pr := Problem{Path: p, Reason: "the reader's field is missing from the writer's schema and has no default"}
			if newIsReader {
				pr.Change, pr.New = ChangeAdded, describe(rf.Type())
			} else {
				pr.Change, pr.Old = ChangeRemoved, describe(rf.Type())
			}
			*out = append(*out, pr)
			continue
		}
		if sc.Compatible(rf.Type(), wf.Type()) != nil {
			explainAt(sc, p, rf.Type(), wf.Type(), newIsReader, out)
		}
	}
	if len(*out) == before && r.Name() != w.Name() {
		*out = append(*out, Problem{Path: clone(path), Change: ChangeOther,
			Reason: fmt.Sprintf("record name %s is not %s", r.FullName(), w.FullName())})
	}
}

// nullabilityOnly reports whether reader and writer break only because the
// writer's type is nullable (["null", T]) and the reader's is not: T alone
// would resolve.
func nullabilityOnly(sc *avro.SchemaCompatibility, reader, writer avro.Schema) bool {
	rt, wt := nonNull(reader), nonNull(writer)
	return rt == reader && wt != writer && sc.Compatible(rt, wt) == nil
}

// nullabilityChange names a change of a field between optional and required.
// In walrelay's value schemas that is a column entering or leaving the key
// (schema/avro_doc.go: key columns are required, the others optional), not a
// change of its type, and the reason says so. The new schema being the reader
// means it is the one that made the field required (BACKWARD); else the old
// schema's required field cannot read the new optional one (FORWARD).
func nullabilityChange(old, nw string, newIsReader bool) (change, reason string) {
	same := ""
	if strings.TrimPrefix(old, "optional ") == strings.TrimPrefix(nw, "optional ") {
		same = " and its type did not change"
	}
	if newIsReader {
		return ChangeRequired, fmt.Sprintf("it became a key column: walrelay makes the primary key or replica "+
			"identity columns required in the value schema, so %s is now %s%s; consumers on the new schema "+
			"cannot read a record already in the topic that holds a null in it", old, nw, same)
	}
	return ChangeOptional, fmt.Sprintf("it is no longer a key column: walrelay makes the columns outside the "+
		"primary key or replica identity optional in the value schema, so %s is now %s%s; consumers on the "+
		"old schema cannot read a new record that holds a null in it", old, nw, same)
}

// record returns s as a record, looking through references and nullable
// unions (["null", record]); nil when it is something else.
func record(s avro.Schema) *avro.RecordSchema {
	s = deref(nonNull(s))
	r, _ := s.(*avro.RecordSchema)
	return r
}

func deref(s avro.Schema) avro.Schema {
	if ref, ok := s.(*avro.RefSchema); ok {
		return ref.Schema()
	}
	return s
}

// nonNull returns T of a union ["null", T] (in either order), else s.
func nonNull(s avro.Schema) avro.Schema {
	u, ok := s.(*avro.UnionSchema)
	if !ok || len(u.Types()) != 2 || !u.Nullable() {
		return s
	}
	for _, t := range u.Types() {
		if t.Type() != avro.Null {
			return t
		}
	}
	return s
}

func field(r *avro.RecordSchema, name string) *avro.Field {
	for _, f := range r.Fields() {
		if f.Name() == name {
			return f
		}
	}
	return nil
}

func clone(p []string) []string { return append([]string(nil), p...) }

// describe names a type for a person: "long", "string (io.debezium.data.Json)",
// "decimal(10,2)", "array of int", "optional long" for ["null","long"].
func describe(s avro.Schema) string {
	prefix := ""
	if t := nonNull(s); t != s {
		prefix, s = "optional ", t
	}
	s = deref(s)
	switch x := s.(type) {
	case *avro.PrimitiveSchema:
		if d, ok := x.Logical().(*avro.DecimalLogicalSchema); ok {
			return fmt.Sprintf("%sdecimal(%d,%d)", prefix, d.Precision(), d.Scale())
		}
		if name, ok := x.Prop("connect.name").(string); ok {
			return fmt.Sprintf("%s%s (%s)", prefix, x.Type(), name)
		}
		if ct, ok := x.Prop("connect.type").(string); ok {
			return fmt.Sprintf("%s%s (%s)", prefix, x.Type(), ct)
		}
		return prefix + string(x.Type())
	case *avro.ArraySchema:
		return prefix + "array of " + strings.TrimPrefix(describe(x.Items()), "optional ")
	case *avro.RecordSchema:
		return prefix + "record " + x.FullName()
	}
	return prefix + string(s.Type())
}
