package snapshot

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/decoder"
)

const classQuery = `SELECT c.oid, c.relkind::text, c.relreplident::text, c.reltuples::float8
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2`

// columnsQuery lists the columns pgoutput publishes: not dropped, not generated.
const columnsQuery = `SELECT a.attname::text, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum`

// indexQuery lists the primary key and the replica identity index, each
// with its columns in index order.
const indexQuery = `SELECT i.indisprimary, i.indisreplident,
  ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)
FROM pg_catalog.pg_index i WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisreplident)`

// publicationQuery reads a table's column list and row filter (PostgreSQL 15+).
const publicationQuery = `SELECT attnames::text[], rowfilter FROM pg_catalog.pg_publication_tables
WHERE pubname = $1 AND schemaname = $2 AND tablename = $3`

// plan describes table t inside the worker's snapshot, without its chunk
// bounds (see bound). A table without a usable chunk key is planned to be
// read whole.
func (w *worker) plan(ctx context.Context, t Table) (*TablePlan, error) {
	return w.planKeyed(ctx, t, false)
}

// planKeyed is plan; with chunked set (ReadChunk) the chunk key is the
// replica identity index first when the table's replica identity is 'i',
// and a table without a usable chunk key is an error wrapping ErrNoChunkKey.
func (w *worker) planKeyed(ctx context.Context, t Table, chunked bool) (*TablePlan, error) {
	p := &TablePlan{Table: t, chunkSize: w.r.opts.ChunkSize}
	var kind, ident string
	var reltuples float64
	err := w.conn.QueryRow(ctx, classQuery, t.Schema, t.Name).Scan(&p.oid, &kind, &ident, &reltuples)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("snapshot: %s: %w", t, ErrNoTable)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: reading pg_class for %s: %w", t, err)
	}
	if kind != "r" && kind != "p" {
		return nil, fmt.Errorf("snapshot: %s is not a table (relkind %q)", t, kind)
	}
	p.kind, p.Estimate = kind[0], int64(reltuples)
	if p.Estimate < 0 {
		p.Estimate = -1
	}
	if err := w.columns(ctx, p); err != nil {
		return nil, err
	}
	identity, err := w.keys(ctx, p, ident[0], chunked)
	if err != nil {
		return nil, err
	}
	if err := w.relation(ctx, p, ident[0], identity); err != nil {
		return nil, err
	}
	return p, nil
}

// columns reads the published columns and the publication's row filter.
func (w *worker) columns(ctx context.Context, p *TablePlan) error {
	rows, err := w.conn.Query(ctx, columnsQuery, p.oid)
	if err != nil {
		return fmt.Errorf("snapshot: reading columns of %s: %w", p.Table, err)
	}
	p.cols, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		err := r.Scan(&c.name, &c.typeOID, &c.typmod, &c.sqlType)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("snapshot: reading columns of %s: %w", p.Table, err)
	}
	if w.r.opts.Publication == "" || w.r.serverVersion < 150000 {
		return nil
	}
	var attnames []string
	var filter *string
	err = w.conn.QueryRow(ctx, publicationQuery, w.r.opts.Publication, p.Table.Schema, p.Table.Name).Scan(&attnames, &filter)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("snapshot: reading publication %q entry of %s: %w", w.r.opts.Publication, p.Table, err)
	}
	if attnames != nil {
		p.cols = slices.DeleteFunc(p.cols, func(c column) bool { return !slices.Contains(attnames, c.name) })
	}
	if filter != nil {
		p.filter = *filter
	}
	return nil
}

// keys sets the chunk key and returns the replica identity columns for the
// relation's key flags. The chunk key is the primary key, else the replica
// identity index; when chunked (ReadChunk) it is the replica identity index
// first for ident 'i', and a missing or unpublished key is an error wrapping
// ErrNoChunkKey instead of an empty ChunkKey.
func (w *worker) keys(ctx context.Context, p *TablePlan, ident byte, chunked bool) ([]string, error) {
	pk, replIdx, err := w.indexes(ctx, p)
	if err != nil {
		return nil, err
	}
	key := pk
	if len(key) == 0 || chunked && ident == 'i' && len(replIdx) > 0 {
		key = replIdx
	}
	unlisted := p.setChunkKey(key)
	if chunked && len(p.ChunkKey) == 0 {
		if unlisted != "" {
			return nil, fmt.Errorf("snapshot: %s: key column %q is not in publication %q's column list: %w",
				p.Table, unlisted, w.r.opts.Publication, ErrNoChunkKey)
		}
		return nil, fmt.Errorf("snapshot: %s has no primary key or replica identity index: %w", p.Table, ErrNoChunkKey)
	}
	switch ident {
	case 'd':
		return pk, nil
	case 'i':
		return replIdx, nil
	case 'f':
		all := make([]string, len(p.cols))
		for i, c := range p.cols {
			all[i] = c.name
		}
		return all, nil
	}
	return nil, nil
}

// indexes returns the columns of p's primary key and of its replica identity
// index, each nil when there is none.
func (w *worker) indexes(ctx context.Context, p *TablePlan) (pk, replIdx []string, err error) {
	rows, err := w.conn.Query(ctx, indexQuery, p.oid)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot: reading indexes of %s: %w", p.Table, err)
	}
	var primary, replident bool
	var cols []string
	_, err = pgx.ForEachRow(rows, []any{&primary, &replident, &cols}, func() error {
		if primary {
			pk = slices.Clone(cols)
		}
		if replident {
			replIdx = slices.Clone(cols)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot: reading indexes of %s: %w", p.Table, err)
	}
	return pk, replIdx, nil
}

// setChunkKey sets ChunkKey to key and keyTypes to its columns' SQL types.
// When a key column is not published (outside the publication's column
// list) it leaves both nil and returns that column's name.
func (p *TablePlan) setChunkKey(key []string) (unlisted string) {
	p.ChunkKey, p.keyTypes = nil, nil
	var types []string
	for _, k := range key {
		i := slices.IndexFunc(p.cols, func(c column) bool { return c.name == k })
		if i < 0 {
			return k
		}
		types = append(types, p.cols[i].sqlType)
	}
	p.ChunkKey, p.keyTypes = key, types
	return ""
}

// relation builds the Relation message pgoutput would send for p and the
// RowDecoder of its columns.
func (w *worker) relation(ctx context.Context, p *TablePlan, ident byte, identity []string) error {
	m := &pglogrepl.RelationMessage{
		RelationID:      p.oid,
		Namespace:       p.Table.Schema,
		RelationName:    p.Table.Name,
		ReplicaIdentity: ident,
		ColumnNum:       uint16(len(p.cols)),
	}
	for _, c := range p.cols {
		var flags uint8
		if slices.Contains(identity, c.name) {
			flags = 1
		}
		m.Columns = append(m.Columns, &pglogrepl.RelationMessageColumn{
			Flags: flags, Name: c.name, DataType: c.typeOID, TypeModifier: c.typmod,
		})
	}
	catalog := decoder.NewCatalog(w.conn)
	rd, err := decoder.NewRowDecoder(ctx, decoder.Options{Types: catalog, Keys: catalog, Log: w.r.opts.Log}, m)
	if err != nil {
		return fmt.Errorf("snapshot: describing %s: %w", p.Table, err)
	}
	p.Decoder, p.Relation = rd, rd.Relation()
	return nil
}
