package filter

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/pgident"
)

// Querier runs a query; *pgx.Conn and *pgxpool.Pool satisfy it.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Table is a table that logical replication can publish: an ordinary,
// permanent (not unlogged or temporary) table outside the system schemas,
// partitions included (they match rules that name them, and without
// publish_via_partition_root their changes are published under their own
// name); with TablesWithPartitioned, also a partitioned table (Partitioned).
type Table struct {
	Schema  string
	Name    string
	Columns []string // in attnum order
	Key     []string // primary key columns, in attnum order
	// Identity is the columns a delete's or key change's old row carries
	// (the replica identity: the primary key by default, an index's
	// columns, all of them with FULL, none with NOTHING), and IdentityKind
	// pg_class.relreplident (d, i, f or n).
	Identity     []string
	IdentityKind string
	// Partitioned says the table is partitioned (relkind 'p'): a root, or a
	// partition that is partitioned itself. Only TablesWithPartitioned lists them.
	Partitioned bool
	// Types are the Columns' types, in the same order; only TablesWithTypes
	// fills them in (nil otherwise).
	Types []ColumnType
}

// QualifiedName returns "schema.table" as event.Relation's does
// (pgident.Format).
func (t Table) QualifiedName() string { return pgident.Format(t.Schema, t.Name) }

const tablesSQL = `
SELECT n.nspname::text, c.relname::text,
       coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attname IS NOT NULL), '{}'),
       coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum = ANY (pk.indkey)), '{}'),
       c.relreplident::text,
       coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum = ANY (ri.indkey)), '{}'),
       c.relkind = 'p'
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_index pk ON pk.indrelid = c.oid AND pk.indisprimary
LEFT JOIN pg_index ri ON ri.indrelid = c.oid AND ri.indisreplident
WHERE (c.relkind = 'r' OR $1 AND c.relkind = 'p' AND current_setting('server_version_num')::int >= 130000)
  AND c.relpersistence = 'p'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
GROUP BY n.nspname, c.relname, c.relreplident, c.relkind
ORDER BY 1, 2`

// Tables lists the database's publishable tables (see Table), partitioned
// tables left out, sorted by schema and name: what a publication without
// publish_via_partition_root publishes, and the candidates from which
// pipeline's rulesTables builds a managed publication (it adds the
// partitioned tables itself when the publication publishes via the root).
func Tables(ctx context.Context, q Querier) ([]Table, error) { return listTables(ctx, q, false) }

// TablesWithPartitioned is Tables plus, on PostgreSQL 13 and later, the
// partitioned tables (Partitioned set), which a publication can hold from
// 13 on: what rules may name, for Describe and `walrelay check`. On 12 and
// earlier it is Tables.
func TablesWithPartitioned(ctx context.Context, q Querier) ([]Table, error) {
	return listTables(ctx, q, true)
}

// listTables runs tablesSQL, with partitioned tables when partitioned is set.
func listTables(ctx context.Context, q Querier, partitioned bool) ([]Table, error) {
	rows, err := q.Query(ctx, tablesSQL, partitioned)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing tables from pg_class: %w", err)
	}
	tables, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Table, error) {
		var t Table
		var indexCols []string
		err := row.Scan(&t.Schema, &t.Name, &t.Columns, &t.Key, &t.IdentityKind, &indexCols, &t.Partitioned)
		t.Identity = identityColumns(t, indexCols)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing tables from pg_class: %w", err)
	}
	return tables, nil
}

// CapturedTables returns the qualified names of the tables the rules
// capture (Captures), in schema and table order: what a managed publication
// must hold.
func (rs *Rules) CapturedTables(tables []Table) []string {
	var out []string
	for _, t := range tables {
		if name := t.QualifiedName(); rs.Captures(name) {
			out = append(out, name)
		}
	}
	return out
}

// identityColumns returns the columns of t's replica identity, given the
// columns of its replica identity index (relreplident i).
func identityColumns(t Table, indexCols []string) []string {
	switch t.IdentityKind {
	case "f":
		return t.Columns
	case "i":
		return indexCols
	case "n":
		return nil
	}
	return t.Key
}
