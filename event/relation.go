package event

import "github.com/walrelay/walrelay/internal/pgident"

// Replica identity settings of a relation (pg_class.relreplident).
const (
	IdentityDefault = 'd'
	IdentityFull    = 'f'
	IdentityIndex   = 'i'
	IdentityNothing = 'n'
)

// Column describes one column of a relation as pgoutput announced it, enriched
// by the decoder with the type's name and kind from the catalog.
type Column struct {
	Name     string
	TypeOID  uint32
	TypeName string // pg_type.typname, e.g. "int4", "numeric", "_text", "mood"
	TypeMod  int32  // atttypmod: numeric precision/scale, varchar length; -1 if none
	Key      bool   // part of the replica identity (primary key by default)
	Kind     TypeKind
	ElemOID  uint32 // element type of an array column, else 0
	// EnumLabels lists an enum column's labels in their sort order, joined
	// by commas (Debezium's "allowed" parameter of io.debezium.data.Enum);
	// "" when the column is not an enum or its labels are not known. A
	// string, so that Column stays comparable.
	EnumLabels string
}

// TypeKind classifies a column's type where the kind changes its encoding.
type TypeKind byte

// Type kinds.
const (
	KindBase  TypeKind = iota // a built-in scalar type, decoded by pgx
	KindEnum                  // a user enum: string
	KindArray                 // an array: []any of the element's kind
	KindOther                 // composite, domain over unknown, extension type: text form
)

// Relation is a table as pgoutput's Relation message describes it. Version
// starts at 1 and increases every time a Relation message for the same OID
// changes the column list, names or types, or the key's columns or their
// order; schema derivation keys on (OID, Version).
type Relation struct {
	OID             uint32
	Schema          string
	Table           string
	ReplicaIdentity byte
	Columns         []Column
	Version         int
	// KeyOrder, when not nil, lists the indexes in Columns of the key
	// columns (exactly those with Key set) in key order: the order of the
	// primary key's (or replica identity index's) columns in the index, as
	// Debezium orders its key fields, or the order a rule lists its key
	// columns in. pgoutput flags key columns without an order, so the
	// decoder reads it from pg_index. nil means column order. Whoever sets
	// or clears a Key flag keeps KeyOrder in step.
	KeyOrder []int
}

// QualifiedName returns "schema.table" as pgident.Format prints it: as is,
// but a schema with a dot double-quoted ("x.y".z), so the name says which
// table it is, as users write it in postgres.tables and rules.
func (r *Relation) QualifiedName() string { return pgident.Format(r.Schema, r.Table) }

// KeyColumns returns the indexes of the key columns in key order (see
// KeyOrder; column order when it is nil). Key fields, key bytes and the
// key-change headers follow this order. The result may share KeyOrder's
// array: the caller must not modify it (appending copies).
func (r *Relation) KeyColumns() []int {
	if r.KeyOrder != nil {
		return r.KeyOrder[:len(r.KeyOrder):len(r.KeyOrder)]
	}
	var idx []int
	for i, c := range r.Columns {
		if c.Key {
			idx = append(idx, i)
		}
	}
	return idx
}
