package decoder

import (
	"context"
	"fmt"
	"slices"

	"github.com/walrelay/walrelay/event"
)

// KeyLookup names a table's primary-key columns in key order. The decoder
// asks it for tables under REPLICA IDENTITY FULL, where pgoutput flags every
// column as part of the identity but Kafka keys must be the primary key (as
// in Debezium). An empty answer means the table has no primary key.
//
// The decoder calls PrimaryKey from its caller's goroutine (the replication
// reader) for every Relation message of a FULL table: the first one, each
// one PostgreSQL re-sends after DDL or another invalidation of the table,
// and the first of every session. A key that differs from the cached one
// makes a new relation version, so ADD PRIMARY KEY, DROP CONSTRAINT of the
// primary key and a primary key on other columns take effect from the next
// change on. An error fails the Relation message (Decode returns it).
//
// The answer is the catalog as of the look-up, not as of the WAL being
// decoded: the key of a change written before a primary-key change but
// decoded after it (a backlog, a restart, or a race with the DDL) follows
// the newer key. Debezium reads its key from the live catalog the same
// way. Rows written under one key and decoded under another are published
// under the key the catalog names at decode time.
type KeyLookup interface {
	PrimaryKey(ctx context.Context, relOID uint32) ([]string, error)
}

const primaryKeyQuery = `SELECT coalesce(array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)), '{}')
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey::int2[])
WHERE i.indrelid = $1 AND i.indisprimary`

// PrimaryKey implements KeyLookup with pg_index. It is not cached: the
// decoder asks once per Relation message.
func (c *Catalog) PrimaryKey(ctx context.Context, relOID uint32) ([]string, error) {
	var cols []string
	if err := c.scan(ctx, primaryKeyQuery, relOID, &cols); err != nil {
		return nil, fmt.Errorf("query pg_index for the primary key of relation OID %d: %w", relOID, err)
	}
	return cols, nil
}

// fullIdentityKeys replaces the Key flags of a REPLICA IDENTITY FULL relation
// (all set by pgoutput) with its primary key.
func (d *Decoder) fullIdentityKeys(ctx context.Context, rel *event.Relation) error {
	if d.keys == nil {
		return nil
	}
	pk, err := d.keys.PrimaryKey(ctx, rel.OID)
	if err != nil {
		return err
	}
	for i := range rel.Columns {
		rel.Columns[i].Key = slices.Contains(pk, rel.Columns[i].Name)
	}
	return nil
}

// sameFullIdentityKey reports whether the primary key the catalog names now
// flags exactly the Key columns of rel, a cached FULL relation.
func (d *Decoder) sameFullIdentityKey(ctx context.Context, rel *event.Relation) (bool, error) {
	pk, err := d.keys.PrimaryKey(ctx, rel.OID)
	if err != nil {
		return false, err
	}
	for i := range rel.Columns {
		if rel.Columns[i].Key != slices.Contains(pk, rel.Columns[i].Name) {
			return false, nil
		}
	}
	return true, nil
}
