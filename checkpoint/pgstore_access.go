package checkpoint

import (
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AccessError says why the role cannot use TableName as the checkpoint
// store, and the SQL that lets it (Fix). NewPostgresStore (walrelay run)
// returns it before trying, and `walrelay check` reports the same What
// and Fix, so that both give the fix that works: a role without USAGE on
// Schema needs that grant, not rights on the table.
type AccessError struct {
	What, Fix string
}

func (e *AccessError) Error() string {
	return fmt.Sprintf("checkpoint store postgres: %s (fix: %s)", e.What, e.Fix)
}

// Refusal is the AccessError for the first thing in st that keeps the
// role from creating, upgrading, reading or writing TableName as
// NewPostgresStore does; nil when nothing does.
func (st TableState) Refusal() *AccessError {
	role, db := pgx.Identifier{st.Role}.Sanitize(), pgx.Identifier{st.Database}.Sanitize()
	t := TableName
	beforehand := fmt.Sprintf("or create it beforehand as a superuser: %s GRANT USAGE ON SCHEMA %s TO %s; "+
		"GRANT SELECT, INSERT, UPDATE ON %s TO %s; or set checkpoint.store: file",
		CreateTableStatements(), Schema, role, t, role)
	refuse := func(fix string, what string, a ...any) *AccessError {
		return &AccessError{What: fmt.Sprintf(what, a...), Fix: fix}
	}
	switch {
	case st.ReadOnly:
		return refuse(fmt.Sprintf("point postgres.dsn at the primary (or ALTER ROLE %s SET default_transaction_read_only = off;), "+
			"or set checkpoint.store: file", role),
			"postgres.dsn opens read-only sessions (a standby, or default_transaction_read_only): walrelay run cannot write %s", t)
	case !st.SchemaExists && !st.CreateOnDatabase:
		return refuse(fmt.Sprintf("as the database owner: GRANT CREATE ON DATABASE %s TO %s; %s", db, role, beforehand),
			"%s is missing and role %s may not create it (no CREATE on database %s)", t, st.Role, st.Database)
	case !st.SchemaExists:
		return nil // created with the schema
	case !st.UsageOnSchema:
		return refuse(fmt.Sprintf("as the schema's owner: GRANT USAGE ON SCHEMA %s TO %s;", Schema, role),
			"role %s has no USAGE on schema %s", st.Role, Schema)
	case !st.TableExists && !st.CreateOnSchema:
		return refuse(fmt.Sprintf("as the schema's owner: GRANT CREATE ON SCHEMA %s TO %s; %s", Schema, role, beforehand),
			"%s is missing and role %s may not create it (no CREATE on schema %s)", t, st.Role, Schema)
	case !st.TableExists:
		return nil
	case !st.ReadWrite:
		return refuse(fmt.Sprintf("as the table's owner: GRANT SELECT, INSERT, UPDATE ON %s TO %s;", t, role),
			"role %s may not read and write %s", st.Role, t)
	case !st.HasCatchup && !st.Owner:
		return refuse(fmt.Sprintf("as the table's owner: ALTER TABLE %s ADD COLUMN IF NOT EXISTS catchup jsonb;", t),
			"%s, made by an older walrelay, lacks column catchup, and role %s, which does not own it, may not add it", t, st.Role)
	}
	return nil
}
