package filter

import (
	"cmp"
	"slices"
	"strings"

	"github.com/walrelay/walrelay/event"
)

// StoppedChange is a table whose columns in the catalog at start differ
// from the ones the previous process saved (ReconcileLineage): changed
// while walrelay was stopped, or after the last change of it walrelay saw.
// The decoder logs a first relation of a process at debug only, so this is
// the one trace at info of such a change.
type StoppedChange struct {
	OID    uint32
	Table  string   // schema.table
	Before []string // the saved columns, "name type" in order (see shapeOf)
	After  []string // the catalog's
}

// Added returns the names of the columns After has and Before lacks.
func (c StoppedChange) Added() []string { return missingNames(c.After, c.Before) }

// Dropped returns the names of the columns Before has and After lacks.
func (c StoppedChange) Dropped() []string { return missingNames(c.Before, c.After) }

// Retyped returns the names of the columns both have, with other types.
func (c StoppedChange) Retyped() []string {
	before := shapeTypes(c.Before)
	var out []string
	for _, s := range c.After {
		name, typ := splitShape(s)
		if old, ok := before[name]; ok && old != typ {
			out = append(out, name)
		}
	}
	return out
}

// StoppedChanges returns, sorted by table, the changes the last
// ReconcileLineage found, and forgets them.
func (rs *Rules) StoppedChanges() []StoppedChange {
	l := rs.lineage
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.stopped
	l.stopped = nil
	slices.SortFunc(out, func(a, b StoppedChange) int { return cmp.Compare(a.Table, b.Table) })
	return out
}

// shapeOf is cols as a table's shape is saved for a table saved without
// its columns (LineageTable.Shape): "name type" each, in order.
func shapeOf(cols []event.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name + " " + c.TypeName
	}
	return out
}

// splitShape is a shapeOf entry's name and type (a type name has no space;
// a column name may).
func splitShape(s string) (name, typ string) {
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// shapeTypes maps the names of shape's columns to their types.
func shapeTypes(shape []string) map[string]string {
	out := make(map[string]string, len(shape))
	for _, s := range shape {
		name, typ := splitShape(s)
		out[name] = typ
	}
	return out
}

// missingNames returns the names of the columns of a that b lacks.
func missingNames(a, b []string) []string {
	have := shapeTypes(b)
	var out []string
	for _, s := range a {
		if name, _ := splitShape(s); !hasKey(have, name) {
			out = append(out, name)
		}
	}
	return out
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// shapeNow is h's shape as saved for a table saved without its columns:
// its columns' once a relation was seen, else the shape it was seeded with.
func (h *tableLineage) shapeNow() []string {
	if h.cols != nil {
		return shapeOf(h.cols)
	}
	return h.shape
}

// reshape compares the shape h, a table saved without its columns, was
// seeded with to the catalog's cat: a table whose columns differ is a
// StoppedChange, and takes the catalog's shape, saved at the next save, so
// that the next start does not report it again. Called with l.mu held.
func (l *lineage) reshape(oid uint32, h *tableLineage, cat []CatalogColumn) {
	cols, _ := publishedColumns(cat)
	after := shapeOf(cols)
	if len(cols) == 0 || slices.Equal(after, h.shape) {
		return
	}
	ch := StoppedChange{OID: oid, Table: h.name, Before: h.shape, After: after}
	if h.saved {
		h.moved = movedOf(ch)
	}
	l.stopped = append(l.stopped, ch)
	h.shape, l.changed = after, true
}

// movedColumns are, for a table known by its shape only ("name type" in
// attnum order, no attnums), the columns whose values may have moved to
// another name while walrelay was stopped: PostgreSQL appends a new column
// and never reorders, so a column still at its position under its name is
// taken as itself, and one gone or at another position (renamed, swapped,
// or shifted by a drop) is Suspect. Its values may now be in any column of
// Holders: the suspects still there and the columns added.
type movedColumns struct {
	Suspect []string
	Holders []string
}

// movedOf is ch's movedColumns; nil when nothing may have moved: the
// shapes have the same names in the same places (a retype), or columns were
// only dropped (the others shift, but no name was added). A drop of one
// column and a rename of another to the dropped name cannot be told from a
// drop by names and places alone (a limit README states).
func movedOf(ch StoppedChange) *movedColumns {
	added := ch.Added()
	if len(added) == 0 && len(ch.After) < len(ch.Before) {
		return nil
	}
	before, after := shapeNames(ch.Before), shapeNames(ch.After)
	var m movedColumns
	for i, name := range before {
		j := slices.Index(after, name)
		if j == i {
			continue
		}
		m.Suspect = append(m.Suspect, name)
		if j >= 0 {
			m.Holders = append(m.Holders, name)
		}
	}
	if len(m.Suspect) == 0 {
		return nil
	}
	m.Holders = append(m.Holders, added...)
	return &m
}

// shapeNames is the column names of a shape, in order.
func shapeNames(shape []string) []string {
	out := make([]string, len(shape))
	for i, s := range shape {
		out[i], _ = splitShape(s)
	}
	return out
}
