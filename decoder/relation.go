package decoder

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"

	"github.com/walrelay/walrelay/event"
)

// relEntry is the decoder's cache entry for one relation OID: the shared
// event.Relation, the raw Relation message it came from (to detect changes),
// one converter per column, and the CollectionOrder counter of the current
// transaction.
type relEntry struct {
	rel   *event.Relation
	raw   *pglogrepl.RelationMessage
	convs []convertFunc
	enums []enumColumn // the enum columns whose labels are known

	orderGen uint64 // Decoder.txGen when order was last reset
	order    uint32
}

// sameAs reports whether m describes exactly the relation e was built from:
// same names, replica identity, and columns (names, types, typmods, flags).
func (e *relEntry) sameAs(m *pglogrepl.RelationMessage) bool {
	r := e.raw
	if r.Namespace != m.Namespace || r.RelationName != m.RelationName ||
		r.ReplicaIdentity != m.ReplicaIdentity || len(r.Columns) != len(m.Columns) {
		return false
	}
	for i, a := range r.Columns {
		b := m.Columns[i]
		if a.Flags != b.Flags || a.Name != b.Name || a.DataType != b.DataType || a.TypeModifier != b.TypeModifier {
			return false
		}
	}
	return true
}

// relation registers a Relation message. An identical message keeps the
// cached relation and its Version; a different one replaces it with a new
// *event.Relation whose Version is one more (changes already emitted keep
// pointing at the old one). Type look-ups happen here, not per row.
//
// An identical message is not proof of an unchanged key. Under REPLICA
// IDENTITY FULL pgoutput flags every column whatever the primary key, so
// ADD PRIMARY KEY or a replaced primary key changes nothing in the message
// PostgreSQL re-sends after the DDL's invalidation; and pgoutput's flags
// carry no order, so a composite key re-created over the same columns in
// another order changes nothing either. The key is therefore read again
// for every such Relation message (see needsKeyLookup), and a different one
// installs a new version.
func (d *Decoder) relation(ctx context.Context, lsn event.LSN, m *pglogrepl.RelationMessage) error {
	old := d.rels[m.RelationID]
	if old == nil || !old.sameAs(m) {
		return d.install(ctx, lsn, m, old, "")
	}
	if !d.needsKeyLookup(old.rel) {
		return nil
	}
	names, err := d.catalogKeyNames(ctx, old.rel)
	if err != nil {
		return fmt.Errorf("decoder: Relation %s at LSN %s: %w", old.rel.QualifiedName(), lsn, err)
	}
	why := keyChange(old.rel, func(i int) bool { return m.Columns[i].Flags&1 != 0 }, names)
	if why == "" {
		return nil
	}
	return d.installKeyed(ctx, lsn, m, old, why, names, true)
}

// install describes m, resolving its types, and caches it as the next
// version after old (nil for a first Relation message). The new entry takes
// over old's CollectionOrder counter, so a relation that changes in the
// middle of a transaction keeps counting its changes from where it was.
// The key is completed from the catalog (see KeyLookup): the primary key
// under FULL, the order of a composite key. why, if not empty, is logged as
// the reason for a new version that m itself does not explain.
func (d *Decoder) install(ctx context.Context, lsn event.LSN, m *pglogrepl.RelationMessage, old *relEntry, why string) error {
	return d.installKeyed(ctx, lsn, m, old, why, nil, false)
}

// installKeyed is install; when known, names is the catalog's key that
// relation just read for m (so it is not read twice), else install looks
// it up when needsKeyLookup says so.
func (d *Decoder) installKeyed(ctx context.Context, lsn event.LSN, m *pglogrepl.RelationMessage, old *relEntry, why string,
	names []string, known bool) error {
	rel := &event.Relation{
		OID:             m.RelationID,
		Schema:          m.Namespace,
		Table:           m.RelationName,
		ReplicaIdentity: m.ReplicaIdentity,
		Columns:         make([]event.Column, len(m.Columns)),
		Version:         1,
	}
	e := &relEntry{rel: rel, raw: m, convs: make([]convertFunc, len(m.Columns))}
	if old != nil {
		rel.Version = old.rel.Version + 1
		e.orderGen, e.order = old.orderGen, old.order
	}
	for i, c := range m.Columns {
		col, conv, labels, err := d.column(ctx, c)
		if err != nil {
			return fmt.Errorf("decoder: Relation %s.%s (OID %d) at LSN %s, column %q (type OID %d): %w",
				m.Namespace, m.RelationName, m.RelationID, lsn, c.Name, c.DataType, err)
		}
		rel.Columns[i], e.convs[i] = col, conv
		if labels != nil {
			e.enums = append(e.enums, newEnumColumn(i, labels))
		}
	}
	if d.needsKeyLookup(rel) {
		var err error
		if !known {
			if names, err = d.catalogKeyNames(ctx, rel); err != nil {
				return fmt.Errorf("decoder: Relation %s at LSN %s: %w", rel.QualifiedName(), lsn, err)
			}
		}
		applyKey(rel, names)
	}
	d.rels[m.RelationID] = e
	// A first Relation message is logged at debug: it comes for every
	// table at each session's first change of it, the tables the rules drop
	// included (an unmanaged FOR ALL TABLES publication), and says nothing an
	// operator acts on; a new version of a relation (a schema change) is
	// logged at info.
	ev := d.log.Info()
	if old == nil {
		ev = d.log.Debug()
	}
	ev = ev.Str("table", rel.QualifiedName()).Uint32("oid", rel.OID).
		Int("version", rel.Version).Int("columns", len(rel.Columns)).
		Str("replica_identity", string(rune(rel.ReplicaIdentity))).Strs("key", keyNames(rel)).Stringer("lsn", lsn)
	if why != "" {
		ev.Str("reason", why)
	}
	if old == nil {
		ev.Msg("relation registered")
	} else {
		ev.Msg("relation changed")
	}
	return nil
}

// column describes one relation column and picks its converter. A domain
// column is described by its base type (TypeOID, TypeName, Kind, ElemOID),
// with the domain's typmod when the column has none, because that is how its
// values are encoded. labels are an enum column's labels, nil if it is not
// one or they are not known.
func (d *Decoder) column(ctx context.Context, c *pglogrepl.RelationMessageColumn) (col event.Column, conv convertFunc, labels []string, err error) {
	td, err := d.resolve(ctx, c.DataType)
	if err != nil {
		return event.Column{}, nil, nil, err
	}
	typmod := c.TypeModifier
	if typmod < 0 && td.typmod >= 0 {
		typmod = td.typmod
	}
	col = event.Column{
		Name:     c.Name,
		TypeOID:  td.oid,
		TypeName: td.name,
		TypeMod:  typmod,
		Key:      c.Flags&1 != 0,
		Kind:     td.kind,
		ElemOID:  td.elem,
	}
	if td.kind == event.KindEnum && td.labels != nil {
		col.EnumLabels, labels = strings.Join(td.labels, ","), td.labels
	}
	if td.kind != event.KindArray {
		return col, scalarConverter(td, typmod), labels, nil
	}
	ed, err := d.resolve(ctx, td.elem)
	if err != nil {
		return event.Column{}, nil, nil, fmt.Errorf("element type OID %d: %w", td.elem, err)
	}
	if ed.kind == event.KindArray { // cannot happen in Postgres; keep the text form
		ed = typeDesc{oid: ed.oid, name: ed.name, kind: event.KindOther, typmod: -1}
	}
	return col, arrayConverter(scalarConverter(ed, typmod), arrayDelimiter(ed.oid)), nil, nil
}
