package decoder

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
)

// Querier is the one method of *pgx.Conn, *pgxpool.Pool and pgx.Tx that the
// catalog needs. It must be a normal (not a replication) connection: the
// query uses the extended protocol.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Catalog is a TypeLookup that reads pg_type (and pg_enum for an enum's
// labels) and caches each answer by OID until ForgetType drops it (type OIDs
// are never reused for a different kind while a column uses them, but an
// enum can gain labels). It is safe for concurrent use.
type Catalog struct {
	q     Querier
	mu    sync.Mutex
	cache map[uint32]TypeInfo
}

// NewCatalog returns a Catalog that queries through q.
func NewCatalog(q Querier) *Catalog {
	return &Catalog{q: q, cache: make(map[uint32]TypeInfo)}
}

const typeQuery = `SELECT t.typname::text, t.typtype::text, t.typcategory::text, t.typelem, t.typbasetype, t.typtypmod
FROM pg_catalog.pg_type t WHERE t.oid = $1`

const enumQuery = `SELECT coalesce(array_agg(e.enumlabel::text ORDER BY e.enumsortorder), '{}')
FROM pg_catalog.pg_enum e WHERE e.enumtypid = $1`

// LookupType implements TypeLookup: typtype 'e' is an enum (Labels from
// pg_enum, in sort order), typtype 'd' a
// domain (BaseOID = typbasetype, BaseTypeMod = typtypmod), typcategory 'A'
// with a typelem an array; anything else is KindOther. A missing OID returns
// an error wrapping ErrTypeNotFound.
func (c *Catalog) LookupType(ctx context.Context, oid uint32) (TypeInfo, error) {
	c.mu.Lock()
	info, ok := c.cache[oid]
	c.mu.Unlock()
	if ok {
		return info, nil
	}
	var typtype, category string
	var elem, base uint32
	var typmod int32
	err := c.scan(ctx, typeQuery, oid, &info.Name, &typtype, &category, &elem, &base, &typmod)
	if errors.Is(err, pgx.ErrNoRows) {
		return TypeInfo{}, fmt.Errorf("pg_type OID %d: %w", oid, ErrTypeNotFound)
	}
	if err != nil {
		return TypeInfo{}, fmt.Errorf("query pg_type for OID %d: %w", oid, err)
	}
	info.Kind, info.BaseTypeMod = event.KindOther, -1
	switch {
	case typtype == "e":
		info.Kind = event.KindEnum
		if err := c.scan(ctx, enumQuery, oid, &info.Labels); err != nil {
			return TypeInfo{}, fmt.Errorf("query pg_enum for the labels of %s (OID %d): %w", info.Name, oid, err)
		}
	case typtype == "d":
		info.BaseOID, info.BaseTypeMod = base, typmod
	case category == "A" && elem != 0:
		info.Kind, info.ElemOID = event.KindArray, elem
	}
	c.mu.Lock()
	c.cache[oid] = info
	c.mu.Unlock()
	return info, nil
}

// ForgetType implements TypeForgetter.
func (c *Catalog) ForgetType(oid uint32) {
	c.mu.Lock()
	delete(c.cache, oid)
	c.mu.Unlock()
}

// queryTimeout bounds each catalog query: the reader's goroutine waits for
// them, and over a connection that went silent (a network partition sends
// no RST) a query would otherwise wait for TCP to give up, many minutes.
const queryTimeout = 30 * time.Second

// scan runs a one-row catalog query with one argument into dest, bounded by
// queryTimeout.
func (c *Catalog) scan(ctx context.Context, sql string, arg uint32, dest ...any) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	return c.q.QueryRow(ctx, sql, arg).Scan(dest...)
}
