package decoder

import (
	"context"
	"fmt"

	"github.com/jackc/pglogrepl"

	"github.com/walrelay/walrelay/event"
)

// RowDecoder converts rows read with SQL in text format (a snapshot's
// SELECT) into change values, with exactly the converters the stream decoder
// picks for the same relation: a snapshot row and a streamed row of the same
// table therefore carry identical Go values.
//
// A RowDecoder holds no mutable state after NewRowDecoder returns; DecodeRow
// is safe for concurrent use by any number of goroutines.
type RowDecoder struct {
	e *relEntry
}

// NewRowDecoder describes the relation m the way Decode describes a pgoutput
// Relation message with the same content (types resolved through opts.Types,
// REPLICA IDENTITY FULL keys and a composite key's order through opts.Keys,
// a domain as its base type)
// and returns a RowDecoder for its columns. The caller builds m from the
// catalog as pgoutput would: published columns in attnum order, flag 1 on the
// replica identity columns (all of them under FULL).
//
// ctx bounds the type and key look-ups. Errors name the table and column.
func NewRowDecoder(ctx context.Context, opts Options, m *pglogrepl.RelationMessage) (*RowDecoder, error) {
	d := New(opts)
	if err := d.relation(ctx, 0, m); err != nil {
		return nil, err
	}
	return &RowDecoder{e: d.rels[m.RelationID]}, nil
}

// Relation returns the relation the rows belong to (Version 1). It is shared
// by every change built from this RowDecoder and must not be modified.
func (r *RowDecoder) Relation() *event.Relation { return r.e.rel }

// DecodeRow converts one row: values holds one text value per column of
// Relation().Columns, nil for SQL NULL, as pgconn's ResultReader.Values
// returns them in text format. It returns a new slice; values are copied out,
// so the caller may reuse their buffers. The error names the table and column.
func (r *RowDecoder) DecodeRow(values [][]byte) ([]any, error) {
	if len(values) != len(r.e.convs) {
		return nil, fmt.Errorf("decoder: row of %s has %d columns, relation has %d",
			r.e.rel.QualifiedName(), len(values), len(r.e.convs))
	}
	row := make([]any, len(values))
	for i, v := range values {
		if v == nil {
			continue
		}
		x, err := r.e.convs[i](v)
		if err != nil {
			c := &r.e.rel.Columns[i]
			return nil, fmt.Errorf("decoder: %s column %q (%s): %w", r.e.rel.QualifiedName(), c.Name, c.TypeName, err)
		}
		row[i] = x
	}
	return row, nil
}
