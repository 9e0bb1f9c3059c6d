package replication

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/pgident"
)

// collectNames reads rows of (schema, table) as qualified names in
// pgident.Format's spelling, the one postgres.tables is kept in: never
// "schema || '.' || table" in SQL, which a schema with a dot makes
// ambiguous.
func collectNames(rows pgx.Rows) ([]string, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var s, t string
		err := r.Scan(&s, &t)
		return pgident.Format(s, t), err
	})
}

// splitNames splits qualified names (pgident.Parse) into parallel schema
// and table lists, for unnest($1::text[], $2::text[]). A name that does not
// parse gets an empty schema, so it matches no table.
func splitNames(names []string) (schemas, tables []string) {
	schemas, tables = make([]string, len(names)), make([]string, len(names))
	for i, n := range names {
		var ok bool
		if schemas[i], tables[i], ok = pgident.Cut(n); !ok {
			schemas[i], tables[i] = "", n
		}
	}
	return schemas, tables
}

// relationKind describes a pg_class row that is not a table logical
// decoding publishes: relkind and relpersistence. "" for an ordinary or
// partitioned permanent table.
func relationKind(kind, persistence string) string {
	switch {
	case kind == "v":
		return "a view"
	case kind == "m":
		return "a materialized view"
	case kind == "f":
		return "a foreign table"
	case kind == "S":
		return "a sequence"
	case kind == "i" || kind == "I":
		return "an index"
	case kind == "c":
		return "a composite type"
	case kind == "t":
		return "a TOAST table"
	case persistence == "u":
		return "an unlogged table"
	case persistence == "t":
		return "a temporary table"
	}
	return ""
}

// uncapturableFix says what to do about table name, which is kind
// (relationKind): an unlogged table can be made logged; anything else
// cannot be captured at all.
func uncapturableFix(name, kind string) string {
	if kind == "an unlogged table" {
		return fmt.Sprintf("ALTER TABLE %s SET LOGGED; (logical decoding skips unlogged tables), or remove it from postgres.tables",
			pgident.SQLName(name))
	}
	return "remove it from postgres.tables: only tables can be captured (capture the table(s) it reads from instead)"
}

// UncapturableTableError says that a table of postgres.tables exists but is
// not a relation logical replication publishes: a view, a materialized
// view, a foreign table, an unlogged table.
type UncapturableTableError struct {
	Table string // as in postgres.tables
	Kind  string // relationKind, e.g. "an unlogged table"
}

func (e *UncapturableTableError) Error() string {
	return fmt.Sprintf("postgres.tables names %s, which is %s: it cannot be captured: %s",
		e.Table, e.Kind, uncapturableFix(e.Table, e.Kind))
}

func quoteTables(tables []string) string {
	q := make([]string, len(tables))
	for i, t := range tables {
		q[i] = pgident.SQLName(t)
	}
	return strings.Join(q, ", ")
}

// UncapturableKinds returns, for each of names (qualified, as
// pgident.Format spells them) that exists but is not a table logical
// decoding publishes, what it is (relationKind: "an unlogged table", "a
// view", ...). Names that do not exist, or are publishable tables, are not
// in the map.
func UncapturableKinds(ctx context.Context, db *pgx.Conn, names []string) (map[string]string, error) {
	out := map[string]string{}
	if len(names) == 0 {
		return out, nil
	}
	schemas, tables := splitNames(names)
	rows, err := db.Query(ctx, `SELECT n.nspname::text, c.relname::text, c.relkind::text, c.relpersistence::text
		FROM unnest($1::text[], $2::text[]) AS w(s, t)
		JOIN pg_namespace n ON n.nspname = w.s JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.t`, schemas, tables)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s, t, kind, persistence string
		if err := rows.Scan(&s, &t, &kind, &persistence); err != nil {
			return nil, err
		}
		if k := relationKind(kind, persistence); k != "" {
			out[pgident.Format(s, t)] = k
		}
	}
	return out, rows.Err()
}
