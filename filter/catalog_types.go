package filter

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
)

// domainBaseCTE maps each domain (over domains) to its base type: a query
// that follows it joins base on base.oid = the column's type.
const domainBaseCTE = `
WITH RECURSIVE dom(oid, base) AS (
    SELECT t.oid, t.typbasetype FROM pg_type t WHERE t.typtype = 'd'
  UNION ALL
    SELECT dom.oid, b.typbasetype FROM dom JOIN pg_type b ON b.oid = dom.base AND b.typtype = 'd'
), base AS (
  SELECT dom.oid, dom.base FROM dom JOIN pg_type b ON b.oid = dom.base AND b.typtype <> 'd'
)
`

// columnTypesSQL lists the column types of the publishable tables (see
// tablesSQL): each type as the decoder resolves it, a domain (over domains)
// as its base type, with its kind: e enum, a array, b a pg_catalog type,
// o any other (an extension's, a composite).
const columnTypesSQL = domainBaseCTE + `SELECT n.nspname::text, c.relname::text,
       array_agg(a.attname::text ORDER BY a.attnum),
       array_agg(t.typname::text ORDER BY a.attnum),
       array_agg(CASE WHEN t.typtype = 'e' THEN 'e'
                      WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN 'a'
                      WHEN tn.nspname = 'pg_catalog' THEN 'b' ELSE 'o' END ORDER BY a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN base ON base.oid = a.atttypid
JOIN pg_type t ON t.oid = coalesce(base.base, a.atttypid)
JOIN pg_namespace tn ON tn.oid = t.typnamespace
WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
GROUP BY n.nspname, c.relname`

// TablesWithTypes is TablesWithPartitioned with each table's Types: what
// CheckWhere needs to type-check where expressions. It reads the catalog
// twice (the types in a query of their own, so that Tables, which the
// publication poller runs every poll_interval, stays cheap).
func TablesWithTypes(ctx context.Context, q Querier) ([]Table, error) {
	tables, err := TablesWithPartitioned(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, columnTypesSQL)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing column types from pg_attribute: %w", err)
	}
	byTable := map[string]map[string]ColumnType{}
	var schema, name string
	var cols, typeNames, kinds []string
	_, err = pgx.ForEachRow(rows, []any{&schema, &name, &cols, &typeNames, &kinds}, func() error {
		m := make(map[string]ColumnType, len(cols))
		for i, c := range cols {
			if i < len(typeNames) && i < len(kinds) {
				m[c] = ColumnType{TypeName: typeNames[i], Kind: kindOf(kinds[i])}
			}
		}
		byTable[schema+"."+name] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing column types from pg_attribute: %w", err)
	}
	for i := range tables {
		t := &tables[i]
		m, ok := byTable[t.QualifiedName()]
		if !ok {
			continue // created between the two queries: names only
		}
		t.Types = make([]ColumnType, len(t.Columns))
		for j, c := range t.Columns {
			t.Types[j] = m[c] // a column added in between: unknown type (any)
		}
	}
	return tables, nil
}

// kindOf maps columnTypesSQL's kind letter to an event.TypeKind.
func kindOf(k string) event.TypeKind {
	switch k {
	case "e":
		return event.KindEnum
	case "a":
		return event.KindArray
	case "o":
		return event.KindOther
	}
	return event.KindBase
}
