package decoder

import (
	"context"
	"fmt"

	"github.com/walrelay/walrelay/event"
)

// enumColumn is an enum column of a relation entry, by index, and the labels
// its type listed when the entry was built.
type enumColumn struct {
	idx    int
	labels map[string]struct{}
}

func newEnumColumn(idx int, labels []string) enumColumn {
	set := make(map[string]struct{}, len(labels))
	for _, l := range labels {
		set[l] = struct{}{}
	}
	return enumColumn{idx: idx, labels: set}
}

// unknownLabel finds the first enum value in rows (tuples of e's relation;
// nil ones are skipped) that its column's labels do not list. k indexes
// e.enums.
func (e *relEntry) unknownLabel(rows ...[]any) (k int, label string, found bool) {
	for _, row := range rows {
		if row == nil {
			continue
		}
		for k, ec := range e.enums {
			v, ok := row[ec.idx].(event.Enum)
			if !ok {
				continue
			}
			if _, known := ec.labels[string(v)]; !known {
				return k, string(v), true
			}
		}
	}
	return 0, "", false
}

// knownLabels returns the entry that rows (tuples just decoded with e) must
// be published under: e itself when every enum value is a label e's schema
// lists. A label that is not listed was added (ALTER TYPE ... ADD VALUE) or
// renamed after the type was read, and PostgreSQL announces neither with a
// Relation message; so the decoder reads the type again and describes the
// relation anew, as its next Version, whose schema lists the label. A label
// still missing then (renamed again before this row was decoded) is logged
// and accepted, so that the row is published and the type is read at most
// once per row.
func (d *Decoder) knownLabels(ctx context.Context, lsn event.LSN, e *relEntry, rows ...[]any) (*relEntry, error) {
	if len(e.enums) == 0 {
		return e, nil
	}
	var reread []uint32
	for {
		k, label, found := e.unknownLabel(rows...)
		if !found {
			return e, nil
		}
		col := &e.rel.Columns[e.enums[k].idx]
		if containsOID(reread, col.TypeOID) {
			e.enums[k].labels[label] = struct{}{}
			d.log.Warn().Str("table", e.rel.QualifiedName()).Str("column", col.Name).Str("type", col.TypeName).
				Str("label", label).Stringer("lsn", lsn).
				Msg("enum label not in pg_enum (renamed since the row was written); publishing it under the current labels")
			continue
		}
		reread = append(reread, col.TypeOID)
		why := fmt.Sprintf("column %q has label %q, which type %s did not list", col.Name, label, col.TypeName)
		if err := d.rereadType(ctx, lsn, e, col.TypeOID, why); err != nil {
			return nil, err
		}
		e = d.rels[e.rel.OID]
	}
}

// rereadType forgets what the decoder and its TypeLookup know of type oid
// and installs e's Relation message again as the next version.
func (d *Decoder) rereadType(ctx context.Context, lsn event.LSN, e *relEntry, oid uint32, why string) error {
	if f, ok := d.types.(TypeForgetter); ok {
		f.ForgetType(oid)
	}
	for k, td := range d.resolved {
		if td.oid == oid { // the type, and domains over it
			delete(d.resolved, k)
		}
	}
	return d.install(ctx, lsn, e.raw, e, why)
}

func containsOID(s []uint32, oid uint32) bool {
	for _, x := range s {
		if x == oid {
			return true
		}
	}
	return false
}
