package decoder

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// TypeLookup resolves a type OID that pgx does not know: enums, domains,
// arrays of them, and extension types. The decoder calls it from Decode (on
// the replication reader's goroutine) only while handling a Relation message,
// and caches the answer per OID for its lifetime.
//
// An implementation returns an error wrapping ErrTypeNotFound when the OID
// does not exist; the decoder then decodes the column as text. Any other
// error fails the Relation message (and so Decode) rather than guess.
type TypeLookup interface {
	LookupType(ctx context.Context, oid uint32) (TypeInfo, error)
}

// ErrTypeNotFound is wrapped by TypeLookup errors for an OID that pg_type
// does not hold.
var ErrTypeNotFound = errors.New("type not found")

// TypeInfo describes a non-built-in type.
type TypeInfo struct {
	Name string         // pg_type.typname
	Kind event.TypeKind // KindEnum, KindArray or KindOther; ignored for a domain
	// ElemOID is the element type of an array (KindArray), else 0.
	ElemOID uint32
	// BaseOID is the base type of a domain, else 0. A domain's values are
	// decoded as its base type's.
	BaseOID uint32
	// BaseTypeMod is the domain's typmod on its base type (pg_type.typtypmod,
	// e.g. numeric(10,2)); -1 if none. Ignored unless BaseOID is set.
	BaseTypeMod int32
	// Labels are an enum's labels in their sort order (pg_enum); nil when
	// not known, which leaves the column's schema without its labels.
	Labels []string
}

// TypeForgetter is implemented by a TypeLookup that caches: ForgetType drops
// what it holds for oid, so that the next LookupType reads the catalog again.
// The decoder calls it when a row carries an enum label its cached type does
// not list (ALTER TYPE ... ADD VALUE or RENAME VALUE while it streams, which
// sends no Relation message).
type TypeForgetter interface {
	ForgetType(oid uint32)
}

// typeDesc is a resolved type: the type whose encoding values follow (a
// domain resolves to its base), its name and kind, and for a domain the
// typmod it puts on its base type (-1 if none).
type typeDesc struct {
	oid    uint32
	name   string
	kind   event.TypeKind
	elem   uint32
	typmod int32
	labels []string // an enum's labels, nil if unknown
}

// OIDs of built-in types that pgx's type map does not register.
const (
	moneyOID         = 790
	moneyArrayOID    = 791
	macaddr8ArrayOID = 775
)

// extraBuiltins completes pgx's type map with the built-in types the decoder
// converts that pgx lacks.
var extraBuiltins = map[uint32]typeDesc{
	moneyOID:              {oid: moneyOID, name: "money", kind: event.KindBase, typmod: -1},
	moneyArrayOID:         {oid: moneyArrayOID, name: "_money", kind: event.KindArray, elem: moneyOID, typmod: -1},
	pgtype.TimetzOID:      {oid: pgtype.TimetzOID, name: "timetz", kind: event.KindBase, typmod: -1},
	pgtype.TimetzArrayOID: {oid: pgtype.TimetzArrayOID, name: "_timetz", kind: event.KindArray, elem: pgtype.TimetzOID, typmod: -1},
	macaddr8ArrayOID:      {oid: macaddr8ArrayOID, name: "_macaddr8", kind: event.KindArray, elem: pgtype.Macaddr8OID, typmod: -1},
}

// maxDomainDepth bounds the chain domain -> base -> ... a TypeLookup may
// describe, so a lookup that loops cannot hang the decoder.
const maxDomainDepth = 8

// resolve describes a type OID: from pgx's type map for built-ins, else from
// Options.Types, else as text (KindOther) named after pgoutput's Type message.
func (d *Decoder) resolve(ctx context.Context, oid uint32) (typeDesc, error) {
	return d.resolveDepth(ctx, oid, 0)
}

func (d *Decoder) resolveDepth(ctx context.Context, oid uint32, depth int) (typeDesc, error) {
	if td, ok := d.resolved[oid]; ok {
		return td, nil
	}
	td, ok := d.builtin(oid)
	if !ok {
		var err error
		if td, err = d.lookup(ctx, oid, depth); err != nil {
			return typeDesc{}, err
		}
	}
	d.resolved[oid] = td
	return td, nil
}

// builtin describes the types pgx's map knows, plus extraBuiltins.
func (d *Decoder) builtin(oid uint32) (typeDesc, bool) {
	if td, ok := extraBuiltins[oid]; ok {
		return td, true
	}
	t, ok := d.pgTypes.TypeForOID(oid)
	if !ok {
		return typeDesc{}, false
	}
	td := typeDesc{oid: oid, name: t.Name, kind: event.KindBase, typmod: -1}
	if ac, ok := t.Codec.(*pgtype.ArrayCodec); ok && ac.ElementType != nil {
		td.kind, td.elem = event.KindArray, ac.ElementType.OID
	}
	return td, true
}

// lookup asks Options.Types. Not found (or no TypeLookup) yields text.
func (d *Decoder) lookup(ctx context.Context, oid uint32, depth int) (typeDesc, error) {
	fallback := typeDesc{oid: oid, name: d.typeName[oid], kind: event.KindOther, typmod: -1}
	if d.types == nil {
		return fallback, nil
	}
	info, err := d.types.LookupType(ctx, oid)
	if errors.Is(err, ErrTypeNotFound) {
		d.log.Warn().Uint32("type_oid", oid).Msg("type not found in pg_type; decoding its values as text")
		return fallback, nil
	}
	if err != nil {
		return typeDesc{}, fmt.Errorf("look up type OID %d: %w", oid, err)
	}
	if info.BaseOID != 0 {
		if depth >= maxDomainDepth || info.BaseOID == oid {
			return typeDesc{}, fmt.Errorf("type OID %d: domain chain deeper than %d", oid, maxDomainDepth)
		}
		base, err := d.resolveDepth(ctx, info.BaseOID, depth+1)
		if err != nil {
			return typeDesc{}, fmt.Errorf("base of domain %s (OID %d): %w", info.Name, oid, err)
		}
		if info.BaseTypeMod >= 0 {
			base.typmod = info.BaseTypeMod
		}
		return base, nil
	}
	td := typeDesc{oid: oid, name: info.Name, kind: info.Kind, typmod: -1}
	switch info.Kind {
	case event.KindArray:
		if info.ElemOID == 0 {
			td.kind = event.KindOther
			break
		}
		if err := d.arrayElem(ctx, &td, info, depth); err != nil {
			return typeDesc{}, err
		}
	case event.KindEnum:
		td.labels = info.Labels
	case event.KindOther:
	default:
		td.kind = event.KindOther
	}
	if td.name == "" {
		td.name = fallback.name
	}
	return td, nil
}

// arrayElem sets td.elem for an array type from info: the element itself, or
// for an array of a domain the domain's base type, with the domain's typmod
// as td.typmod (the column's typmod when pgoutput sends none), so that the
// column is described, converted and encoded as an array of the base type
// (e.g. money2[] over numeric(10,2) as numeric(10,2)[]).
func (d *Decoder) arrayElem(ctx context.Context, td *typeDesc, info TypeInfo, depth int) error {
	td.elem = info.ElemOID
	if _, ok := d.builtin(info.ElemOID); ok || depth >= maxDomainDepth || info.ElemOID == td.oid {
		return nil
	}
	ed, err := d.resolveDepth(ctx, info.ElemOID, depth+1)
	if err != nil {
		return fmt.Errorf("element of array %s (OID %d): %w", info.Name, td.oid, err)
	}
	if ed.kind == event.KindArray { // cannot happen in Postgres; keep the element as it is
		return nil
	}
	td.elem, td.typmod = ed.oid, ed.typmod
	return nil
}
