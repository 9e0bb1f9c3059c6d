package event

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
// changes the column list, names or types; schema derivation keys on
// (OID, Version).
type Relation struct {
	OID             uint32
	Schema          string
	Table           string
	ReplicaIdentity byte
	Columns         []Column
	Version         int
}

// QualifiedName returns "schema.table".
func (r *Relation) QualifiedName() string { return r.Schema + "." + r.Table }

// KeyColumns returns the indexes of the key columns, in column order.
func (r *Relation) KeyColumns() []int {
	var idx []int
	for i, c := range r.Columns {
		if c.Key {
			idx = append(idx, i)
		}
	}
	return idx
}
