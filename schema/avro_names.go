package schema

import (
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/walrelay/walrelay/schema/registry"
)

// avroFullName sanitises a dotted name into a valid Avro full name, as
// Debezium's schema.name.adjustment.mode=avro does: every character other
// than [A-Za-z0-9_] in a segment becomes '_' (one per character), and a
// segment that starts with a digit or is empty gets it replaced or filled by
// '_', so every segment is a valid Avro name.
func avroFullName(dotted string) string {
	segs := strings.Split(dotted, ".")
	for i, s := range segs {
		segs[i] = avroName(s)
	}
	return strings.Join(segs, ".")
}

// avroName sanitises one name segment (also used for field names).
func avroName(s string) string {
	if validAvroName(s) {
		return s
	}
	b := make([]byte, 0, len(s)+1)
	for _, r := range s {
		if r < 0x80 && nameChar(byte(r)) {
			b = append(b, byte(r))
		} else {
			b = append(b, '_')
		}
	}
	if len(b) == 0 {
		return "_"
	}
	if b[0] >= '0' && b[0] <= '9' {
		b[0] = '_'
	}
	return string(b)
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func validAvroName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return false
		}
	}
	return true
}

// splitFullName splits a full name into namespace and name.
func splitFullName(full string) (namespace, name string) {
	i := strings.LastIndexByte(full, '.')
	if i < 0 {
		return "", full
	}
	return full[:i], full[i+1:]
}

// columnProp is the field property that records which PostgreSQL column an
// Avro field carries, set on the Value record's fields whose name is not
// the column's name (sanitised or suffixed): {"name":"x_y", ..., "pg.column":
// "x-y"}. Fields named as their column have none, as in Debezium's schemas.
const columnProp = "pg.column"

// priorField is one field of a relation's previous schema: its Avro name
// and the column it carries.
type priorField struct {
	name   string
	column string
}

// priorFields are the fields of a relation's previous schema, from which the
// field names of its next version are derived (fieldNames).
type priorFields struct {
	fields []priorField
	// legacy is set for a schema read from the registry that has no
	// pg.column property at all: it may have been registered by a walrelay
	// that did not record columns, where a field whose name is no column's
	// may carry a sanitised column ("x_y" for "x-y", "x_y_2" after a
	// collision).
	legacy bool
}

// fieldNames returns the Avro field name of each column of a relation's new
// version, given the fields of its previous schema (none for a new subject).
// The assignment is stable: a column the previous schema has (by pg.column,
// or by name for a field without one) keeps its field name, whatever other
// columns come or go. Other columns get a name in use neither by a kept
// column nor by any field of the previous schema, so no column takes over a
// name another column has or had one version ago: their own name when it is
// a valid Avro name and free (those first, in column order), else the
// sanitised name, with "_2", "_3"... appended until it is free. In a
// legacy previous schema a column it has no field named for keeps, in field
// order, the first field not yet claimed whose name is its sanitised name,
// possibly suffixed: the name the earlier naming gave it.
func fieldNames(cols []string, prior priorFields) []string {
	out := make([]string, len(cols))
	taken := make(map[string]bool, len(cols)+len(prior.fields))
	byColumn := make(map[string]string, len(prior.fields))
	for _, f := range prior.fields {
		taken[f.name] = true
		if _, dup := byColumn[f.column]; !dup {
			byColumn[f.column] = f.name
		}
	}
	claimed := make(map[string]bool, len(cols))
	for i, c := range cols {
		if n, ok := byColumn[c]; ok && !claimed[n] {
			out[i], claimed[n] = n, true
		}
	}
	if prior.legacy {
		matchLegacy(cols, out, prior.fields, claimed)
	}
	for i, c := range cols {
		if out[i] == "" && validAvroName(c) && !taken[c] {
			out[i], taken[c] = c, true
		}
	}
	for i, c := range cols {
		if out[i] != "" {
			continue
		}
		base := avroName(c)
		n := base
		for k := 2; taken[n]; k++ {
			n = base + "_" + strconv.Itoa(k)
		}
		out[i], taken[n] = n, true
	}
	return out
}

// matchLegacy names the columns still unnamed in out after the unclaimed
// fields of a legacy schema that the earlier naming gave them (see
// fieldNames), and marks those claimed.
func matchLegacy(cols, out []string, fields []priorField, claimed map[string]bool) {
	for i, c := range cols {
		if out[i] != "" {
			continue
		}
		base := avroName(c)
		for _, f := range fields {
			if !claimed[f.name] && (f.name == base || isSuffixed(f.name, base)) {
				out[i], claimed[f.name] = f.name, true
				break
			}
		}
	}
}

// isSuffixed reports whether name is base + "_<k>" with k >= 2, written
// without leading zeros.
func isSuffixed(name, base string) bool {
	rest, ok := strings.CutPrefix(name, base+"_")
	if !ok || rest == "" || rest[0] == '0' {
		return false
	}
	k, err := strconv.Atoi(rest)
	return err == nil && k >= 2
}

// priorFromPlan returns the fields of a relation's previous plan.
func priorFromPlan(p *avroPlan) priorFields {
	pf := priorFields{fields: make([]priorField, len(p.value))}
	for i := range p.value {
		pf.fields[i] = priorField{name: p.value[i].name, column: p.value[i].column.Name}
	}
	return pf
}

// priorFromSchema returns the Value fields of a registered Envelope schema,
// parsed with the schemas it references, each with its pg.column or,
// without one, its own name as column. A schema that is no Envelope
// (another writer's) has none to keep.
func priorFromSchema(latest registry.Registered) (priorFields, error) {
	s, err := latest.Parse()
	if err != nil {
		return priorFields{}, err
	}
	rec := envelopeValue(s)
	if rec == nil {
		return priorFields{}, nil
	}
	pf := priorFields{legacy: true}
	for _, f := range rec.Fields() {
		col := f.Name()
		if c, ok := f.Prop(columnProp).(string); ok && c != "" {
			col, pf.legacy = c, false
		}
		pf.fields = append(pf.fields, priorField{name: f.Name(), column: col})
	}
	return pf, nil
}

// envelopeValue returns the Value record of an Envelope schema (the record
// in the union of its before or after field), or nil.
func envelopeValue(s avro.Schema) *avro.RecordSchema {
	env, ok := s.(*avro.RecordSchema)
	if !ok {
		return nil
	}
	for _, f := range env.Fields() {
		if f.Name() != "before" && f.Name() != "after" {
			continue
		}
		u, ok := f.Type().(*avro.UnionSchema)
		if !ok {
			continue
		}
		for _, t := range u.Types() {
			if ref, ok := t.(*avro.RefSchema); ok {
				t = ref.Schema()
			}
			if r, ok := t.(*avro.RecordSchema); ok {
				return r
			}
		}
	}
	return nil
}
