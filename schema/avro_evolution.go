package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// IncompatibleChangeError is returned by AvroEncoder.Encode when a table's
// new definition (after DDL) yields a schema the registry must not accept
// under the subject's compatibility level. The change is not published: the
// pipeline must halt and retry from its checkpoint, so nothing is lost once
// the operator resolves it. Its message names the table, each column and
// its change, and what the operator can do.
type IncompatibleChangeError struct {
	Table   string // schema.table
	Subject string
	Key     bool // the key schema (primary key columns) changed
	Changes []ColumnChange
	// Registry is the registry's base URL, for the fix ("" if unknown).
	Registry string
	Err      *registry.IncompatibleError
	// Also are the table's other subjects that refuse the same change: the
	// value subject when the key subject does too (a column joining the
	// key is required in the value), so that one fix covers both.
	Also []*IncompatibleChangeError
}

// ColumnChange is one column's part in an incompatible change.
type ColumnChange struct {
	Column string
	Change string // registry.ChangeAdded, ChangeRemoved, ChangeType, ChangeOther
	Old    string // the column's type before, e.g. `int8 (Avro "optional long")`
	New    string // and after
	Reason string
}

func (e *IncompatibleChangeError) Unwrap() error { return e.Err }

func (e *IncompatibleChangeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schema: table %s: ", e.Table)
	e.describe(&b)
	subjects, fixes := []string{e.Subject}, []string{e.fix()}
	for _, o := range e.Also {
		b.WriteString(" And an ")
		o.describe(&b)
		subjects, fixes = append(subjects, o.Subject), append(fixes, o.fix())
	}
	which := "this subject"
	if len(subjects) > 1 {
		which = fmt.Sprintf("each of these subjects (%s)", strings.Join(subjects, ", "))
	}
	fmt.Fprintf(&b, " walrelay does not publish this change: it halts and retries from its checkpoint, "+
		"so nothing is lost once this is resolved. To go on, allow the change for %s and "+
		"upgrade the topic's consumers: %s, or set schema_registry.compatibility: NONE and restart walrelay. "+
		"Reverting the DDL does not help: the rows already written under the new definition must be published first.",
		which, strings.Join(fixes, "; "))
	return b.String()
}

// describe writes what changed in e's subject and why the registry refuses it.
func (e *IncompatibleChangeError) describe(b *strings.Builder) {
	what := "schema"
	if e.Key {
		what = "key schema"
	}
	fmt.Fprintf(b, "incompatible %s change", what)
	for i, c := range e.Changes {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		b.WriteString(sep)
		b.WriteString(c.String())
	}
	b.WriteString(". ")
	if ie := e.Err; ie.Level != "" && len(e.Changes) > 0 {
		fmt.Fprintf(b, "Subject %q is %s and this breaks against version %d (schema id %d): %s",
			e.Subject, ie.Level, ie.Against.Version, ie.Against.ID, e.consequence())
	} else {
		b.WriteString(ie.Error())
		b.WriteString(".")
	}
}

func (c ColumnChange) String() string {
	switch c.Change {
	case registry.ChangeType:
		return fmt.Sprintf("column %q changed type from %s to %s", c.Column, c.Old, c.New)
	case registry.ChangeAdded:
		return fmt.Sprintf("column %q was added as %s, which has no default", c.Column, c.New)
	case registry.ChangeRemoved:
		return fmt.Sprintf("column %q (%s, no default) was removed", c.Column, c.Old)
	}
	if c.Column != "" {
		return fmt.Sprintf("column %q changed (%s)", c.Column, c.Reason)
	}
	return c.Reason
}

func (e *IncompatibleChangeError) consequence() string {
	switch {
	case strings.HasPrefix(string(e.Err.Level), "FORWARD"):
		return "consumers still using the current schema could not read the new records."
	case strings.HasPrefix(string(e.Err.Level), "FULL"):
		return "consumers on either the current or the new schema could not read the other's records."
	}
	return "consumers using the new schema could not read the records already in the topic."
}

func (e *IncompatibleChangeError) fix() string {
	body := `'{"compatibility":"NONE"}'`
	if e.Registry == "" {
		return "PUT " + body + " to /config/" + e.Subject + " on the schema registry"
	}
	return registry.RelaxCommand(e.Registry, e.Subject)
}

// newIncompatibleChange maps the registry's field-level problems to
// columns of rel (and of prev, the relation's previous version, for the old
// PostgreSQL types). In a value schema a column is the field under
// before/after; in a key schema the top-level field.
func newIncompatibleChange(rel *event.Relation, p, prev *avroPlan, key bool, ie *registry.IncompatibleError, url string) error {
	e := &IncompatibleChangeError{Table: rel.QualifiedName(), Subject: ie.Subject, Key: key, Registry: url, Err: ie}
	seen := map[string]bool{}
	for _, pr := range ie.Problems {
		path := pr.Path
		if !key && len(path) > 0 && (path[0] == "before" || path[0] == "after") {
			path = path[1:]
		}
		c := ColumnChange{Change: pr.Change, Old: pr.Old, New: pr.New, Reason: pr.Reason}
		if len(path) > 0 {
			c.Column = columnOf(p, prev, path[0])
			c.Old = withPGType(prev, path[0], pr.Old)
			c.New = withPGType(p, path[0], pr.New)
		}
		if k := c.String(); !seen[k] {
			seen[k] = true
			e.Changes = append(e.Changes, c)
		}
	}
	return e
}

// columnOf maps an Avro field name back to its column name.
func columnOf(p, prev *avroPlan, field string) string {
	for _, pl := range []*avroPlan{p, prev} {
		if f := pl.fieldByName(field); f != nil {
			return f.column.Name
		}
	}
	return field
}

func (p *avroPlan) fieldByName(name string) *avroField {
	if p == nil {
		return nil
	}
	for i := range p.value {
		if p.value[i].name == name {
			return &p.value[i]
		}
	}
	return nil
}

// withPGType prefixes an Avro type description with the column's
// PostgreSQL type when the plan knows it: `int8 (Avro optional long)`.
// Without it (no plan of the previous version: after a restart the old
// type is known only from the registered schema, which does not record the
// PostgreSQL type) it says where the type comes from: `the registered
// Avro int`.
func withPGType(p *avroPlan, field, avroDesc string) string {
	if avroDesc == "" {
		return ""
	}
	f := p.fieldByName(field)
	if f == nil {
		return "the registered Avro " + avroDesc
	}
	return pgTypeName(f.column) + " (Avro " + avroDesc + ")"
}

// pgTypeName renders a column's type with its modifier where it matters:
// numeric(10,2), varchar(20), bit(5); arrays as int4[].
func pgTypeName(c *event.Column) string {
	name := c.TypeName
	array := c.Kind == event.KindArray && strings.HasPrefix(name, "_")
	if array {
		name = name[1:]
	}
	switch name {
	case "numeric":
		if p, s, ok := numericTypmod(c.TypeMod); ok {
			name += "(" + strconv.Itoa(int(p)) + "," + strconv.Itoa(int(s)) + ")"
		}
	case "varchar", "bpchar":
		if c.TypeMod > 4 {
			name += "(" + strconv.Itoa(int(c.TypeMod-4)) + ")"
		}
	case "bit", "varbit":
		if c.TypeMod > 0 {
			name += "(" + strconv.Itoa(int(c.TypeMod)) + ")"
		}
	}
	if array {
		name += "[]"
	}
	return name
}
