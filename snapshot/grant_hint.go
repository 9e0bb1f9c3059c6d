package snapshot

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// deniedQuery lists, of the tables named by unnest($1, $2), those the
// current role may not SELECT and whose schema it may not USAGE, as
// `walrelay check` does (replication.ReadAccess), with the role's name.
const deniedQuery = `SELECT current_user::text, n.nspname::text, c.relname::text,
	has_table_privilege(c.oid, 'SELECT'), has_schema_privilege(n.oid, 'USAGE')
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(s, t, i)
JOIN pg_namespace n ON n.nspname = x.s JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.t
WHERE NOT has_table_privilege(c.oid, 'SELECT') OR NOT has_schema_privilege(n.oid, 'USAGE')
ORDER BY x.i`

// access is what deniedHint found the role lacks: SELECT on noSelect,
// USAGE on the schemas noUsage; unread when that could not be read
// (noSelect is then every table).
type access struct {
	role     string
	noSelect []Table
	noUsage  []string
	unread   bool
}

// deniedHint is the fix of a snapshot statement PostgreSQL refused for
// lack of a privilege (SQLSTATE 42501), "" for other errors: LOCK TABLE and
// the reads need SELECT on each captured table and USAGE on its schema.
// It names only what the role lacks, read on conn after rolling back the
// failed transaction; when that cannot be read it names every table.
func (r *Reader) deniedHint(ctx context.Context, conn *pgx.Conn, err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" {
		return ""
	}
	a, rerr := readDenied(ctx, conn, r.opts.Tables)
	if rerr != nil || len(a.noSelect) == 0 && len(a.noUsage) == 0 {
		a = access{role: conn.Config().User, noSelect: r.opts.Tables, unread: true}
	}
	return grantHint(a)
}

// readDenied rolls back conn's failed transaction and reads, of tables,
// what the role may not read (deniedQuery).
func readDenied(ctx context.Context, conn *pgx.Conn, tables []Table) (access, error) {
	var a access
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		return a, err
	}
	schemas, names := make([]string, len(tables)), make([]string, len(tables))
	for i, t := range tables {
		schemas[i], names[i] = t.Schema, t.Name
	}
	rows, err := conn.Query(ctx, deniedQuery, schemas, names)
	if err != nil {
		return a, err
	}
	var t Table
	var sel, usage bool
	_, err = pgx.ForEachRow(rows, []any{&a.role, &t.Schema, &t.Name, &sel, &usage}, func() error {
		if !sel {
			a.noSelect = append(a.noSelect, t)
		}
		if !usage && !slices.Contains(a.noUsage, t.Schema) {
			a.noUsage = append(a.noUsage, t.Schema)
		}
		return nil
	})
	return a, err
}

// grantHint is the text deniedHint appends to the error: the GRANTs that
// give the role what a lacks.
func grantHint(a access) string {
	role := pgx.Identifier{a.role}.Sanitize()
	var grants []string
	for _, s := range a.noUsage {
		grants = append(grants, "GRANT USAGE ON SCHEMA "+pgx.Identifier{s}.Sanitize()+" TO "+role+";")
	}
	if len(a.noSelect) > 0 {
		names := make([]string, len(a.noSelect))
		for i, t := range a.noSelect {
			names[i] = pgx.Identifier{t.Schema, t.Name}.Sanitize()
		}
		grants = append(grants, "GRANT SELECT ON "+strings.Join(names, ", ")+" TO "+role+";")
	}
	if a.unread {
		grants = append(grants, "and GRANT USAGE on their schema;")
	}
	return " (as the tables' owner: " + strings.Join(grants, " ") + " `walrelay check` names what is missing)"
}
