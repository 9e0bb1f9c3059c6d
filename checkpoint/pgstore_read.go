package checkpoint

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// TableState is what the database holds of TableName and what the
// connected role may do with it: what NewPostgresStore creates or upgrades,
// and what `walrelay check` reports.
type TableState struct {
	SchemaExists bool
	TableExists  bool
	// HasCatchup: the table has the catchup column (a table of a walrelay
	// before the catch-up snapshots lacks it).
	HasCatchup bool
	// HasLineage: the table has the lineage column (the column lineage,
	// see SaveLineage; a table of an older walrelay lacks it).
	HasLineage bool
	// CreateOnDatabase: the role may create Schema (CREATE on the database).
	CreateOnDatabase bool
	// CreateOnSchema and UsageOnSchema: the role's privileges on Schema
	// (false while it is missing).
	CreateOnSchema, UsageOnSchema bool
	// ReadWrite: the role has SELECT, INSERT and UPDATE on the table.
	ReadWrite bool
	// Owner: the role owns the table (or is a member of its owner), so it
	// may add the catchup column.
	Owner bool
	// ReadOnly: the session cannot write (a standby, or
	// default_transaction_read_only).
	ReadOnly bool
	// Database and Role are the connection's database and role.
	Database, Role string
}

// tableStateSQL reads TableState from the catalogs only: to_regclass
// would need USAGE on Schema.
const tableStateSQL = `SELECT n.oid IS NOT NULL, c.oid IS NOT NULL,
	EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'catchup' AND NOT a.attisdropped),
	EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'lineage' AND NOT a.attisdropped),
	has_database_privilege(current_database(), 'CREATE'),
	n.oid IS NOT NULL AND has_schema_privilege(n.oid, 'CREATE'),
	n.oid IS NOT NULL AND has_schema_privilege(n.oid, 'USAGE'),
	c.oid IS NOT NULL AND has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT')
		AND has_table_privilege(c.oid, 'UPDATE'),
	c.oid IS NOT NULL AND pg_has_role(c.relowner, 'USAGE'),
	current_setting('transaction_read_only') = 'on',
	current_database()::text, current_user::text
FROM (SELECT 1) AS one
LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = $1
LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = $2`

// InspectTable reads TableState over conn. It only reads.
func InspectTable(ctx context.Context, conn *pgx.Conn) (TableState, error) {
	st, err := inspectTable(ctx, conn)
	if err != nil {
		return TableState{}, fmt.Errorf("checkpoint: %w", pgErr("look up", err))
	}
	return st, nil
}

func inspectTable(ctx context.Context, conn *pgx.Conn) (TableState, error) {
	var st TableState
	err := conn.QueryRow(ctx, tableStateSQL, Schema, table).Scan(&st.SchemaExists, &st.TableExists, &st.HasCatchup, &st.HasLineage,
		&st.CreateOnDatabase, &st.CreateOnSchema, &st.UsageOnSchema, &st.ReadWrite, &st.Owner, &st.ReadOnly,
		&st.Database, &st.Role)
	return st, err
}

// CreateTableStatements is the SQL, on one line, that creates Schema and
// TableName as NewPostgresStore does: for an administrator who creates them
// beforehand.
func CreateTableStatements() string {
	one := strings.Join(strings.Fields(createSchemaSQL+"; "+createTableSQL+";"), " ")
	return strings.ReplaceAll(one, "( ", "(")
}

// NewPostgresReader opens TableName as NewPostgresStore does but creates and
// changes nothing: for `walrelay check` and `walrelay status`. Its sessions
// are read-only (default_transaction_read_only); Load reports nothing stored
// while Schema or TableName is missing, an error naming the GRANT while
// the role lacks USAGE on Schema, and reads a table of an older
// walrelay without the catchup column as holding no catch-up; Save fails.
func NewPostgresReader(ctx context.Context, dsn, slot string) (*PostgresStore, error) {
	s, conn, err := openPostgres(ctx, dsn, slot, true)
	if err != nil {
		return nil, err
	}
	s.conn = conn
	return s, nil
}

// unreadableError says that TableName exists but the role cannot read it
// for lack of USAGE on Schema: a checkpoint may well be stored.
type unreadableError struct{ role string }

func (e *unreadableError) Error() string {
	return fmt.Sprintf("%s exists but role %s lacks USAGE on schema %s, so a stored checkpoint cannot be read: "+
		"GRANT USAGE ON SCHEMA %s TO %s (and SELECT on %s)", TableName, e.role, Schema, Schema,
		pgx.Identifier{e.role}.Sanitize(), TableName)
}

// loadQuery is the query that Load runs on conn: loadSQL, or for a reader
// the query that fits the table as it is; pgx.ErrNoRows (nothing stored)
// when a reader finds no table.
func (s *PostgresStore) loadQuery(ctx context.Context, conn *pgx.Conn) (string, error) {
	if !s.readOnly {
		return loadSQL, nil
	}
	st, err := inspectTable(ctx, conn)
	switch {
	case err != nil:
		return "", err
	case !st.TableExists:
		return "", pgx.ErrNoRows
	case !st.UsageOnSchema:
		return "", &unreadableError{role: st.Role}
	case !st.HasCatchup:
		return loadOldSQL, nil
	}
	return loadSQL, nil
}
