package replication

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/pgident"
)

// Access is what the connected role may do with the captured tables, and
// whether the server can decode logical replication at all.
type Access struct {
	Role    string
	Version int // server_version_num
	// InRecovery: the DSN points at a hot standby (pg_is_in_recovery()).
	InRecovery bool
	// NoSelect are the captured tables the role may not SELECT: the
	// snapshot locks and reads them.
	NoSelect []string
	// NoUsage are the schemas of captured tables the role may not USAGE.
	NoUsage []string
}

// StandbyDecodingVersion is the first server_version_num that decodes
// logical replication on a hot standby (PostgreSQL 16).
const StandbyDecodingVersion = 160000

// ReadAccess reads the role's access to tables ("schema.table", those that
// exist; RequireTables reports the others) and the server's recovery state.
func ReadAccess(ctx context.Context, db *pgx.Conn, tables []string) (Access, error) {
	var a Access
	err := db.QueryRow(ctx, `SELECT current_user::text, current_setting('server_version_num')::int, pg_is_in_recovery()`).
		Scan(&a.Role, &a.Version, &a.InRecovery)
	if err != nil {
		return a, fmt.Errorf("postgres: reading the role and recovery state: %w", err)
	}
	if len(tables) == 0 {
		return a, nil
	}
	schemas, names := splitNames(tables)
	rows, err := db.Query(ctx, `SELECT n.nspname::text, c.relname::text, has_table_privilege(c.oid, 'SELECT'),
			has_schema_privilege(n.oid, 'USAGE')
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(s, t, i)
		JOIN pg_namespace n ON n.nspname = x.s JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.t
		WHERE NOT has_table_privilege(c.oid, 'SELECT') OR NOT has_schema_privilege(n.oid, 'USAGE')
		ORDER BY x.i`, schemas, names)
	if err != nil {
		return a, fmt.Errorf("postgres: reading the role's privileges on the captured tables: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s, t string
		var sel, usage bool
		if err := rows.Scan(&s, &t, &sel, &usage); err != nil {
			return a, fmt.Errorf("postgres: reading the role's privileges on the captured tables: %w", err)
		}
		if !sel {
			a.NoSelect = append(a.NoSelect, pgident.Format(s, t))
		}
		if !usage && !contains(a.NoUsage, s) {
			a.NoUsage = append(a.NoUsage, s)
		}
	}
	if err := rows.Err(); err != nil {
		return a, fmt.Errorf("postgres: reading the role's privileges on the captured tables: %w", err)
	}
	return a, nil
}

// StandbyProblem says why the server cannot serve walrelay because it is
// a hot standby, and the fix; "" when it is a primary, or a standby of
// PostgreSQL 16+ (which decodes logical replication).
func (a Access) StandbyProblem() (what, fix string) {
	if !a.InRecovery || a.Version >= StandbyDecodingVersion {
		return "", ""
	}
	return fmt.Sprintf("postgres.dsn points at a read-only hot standby (pg_is_in_recovery() is true): PostgreSQL %d "+
			"cannot create a replication slot or decode logical replication there", a.Version/10000),
		"point postgres.dsn at the primary (logical decoding on a standby needs PostgreSQL 16 or later)"
}

// GrantProblem says which captured tables the role may not read, and the
// GRANT that lets it; "" when it may read them all.
func (a Access) GrantProblem() (what, fix string) {
	if len(a.NoSelect) == 0 && len(a.NoUsage) == 0 {
		return "", ""
	}
	role := pgx.Identifier{a.Role}.Sanitize()
	var bad, grants []string
	for _, s := range a.NoUsage {
		bad = append(bad, "schema "+s+" (USAGE)")
		grants = append(grants, "GRANT USAGE ON SCHEMA "+pgx.Identifier{s}.Sanitize()+" TO "+role+";")
	}
	if len(a.NoSelect) > 0 {
		bad = append(bad, strings.Join(a.NoSelect, ", ")+" (SELECT)")
		grants = append(grants, "GRANT SELECT ON "+quoteTables(a.NoSelect)+" TO "+role+";")
	}
	return fmt.Sprintf("role %q may not read captured %s: the snapshot locks and reads each captured table",
			a.Role, strings.Join(bad, ", ")),
		"as the tables' owner: " + strings.Join(grants, " ")
}

// RequireSelect returns an error, with the GRANT that fixes it, when the
// role may not read a captured table (GrantProblem). EnsurePublication
// calls it, so a session finds it before it creates a slot: a slot created
// for a snapshot that then fails holds WAL until someone drops it.
func RequireSelect(ctx context.Context, db *pgx.Conn, tables []string) error {
	if len(tables) == 0 {
		return nil
	}
	a, err := ReadAccess(ctx, db, tables)
	if err != nil {
		return err
	}
	if what, fix := a.GrantProblem(); what != "" {
		return fmt.Errorf("postgres: %s (%s): %w", what, fix, ErrPrivilege)
	}
	return nil
}

// requirePrimary returns an error, with its fix, when the server is a hot
// standby that cannot decode logical replication (StandbyProblem).
func requirePrimary(ctx context.Context, db *pgx.Conn) error {
	a, err := ReadAccess(ctx, db, nil)
	if err != nil {
		return err
	}
	if what, fix := a.StandbyProblem(); what != "" {
		return fmt.Errorf("postgres: %s (%s)", what, fix)
	}
	return nil
}
