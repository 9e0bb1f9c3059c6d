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
