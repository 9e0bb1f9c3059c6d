package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/replication"
)

// checkStoreWritable says whether `walrelay run` will be able to create
// the checkpoint store where it is missing and write it. It only reads:
// check creates neither data_dir nor the postgres store's schema and table.
func checkStoreWritable(ctx context.Context, db *pgx.Conn, cfg *config.Config) []replication.Finding {
	if cfg.Checkpoint.Store != "postgres" {
		return checkDataDir(cfg.DataDir)
	}
	st, err := checkpoint.InspectTable(ctx, db)
	if err != nil {
		return []replication.Finding{{What: "checkpoint store postgres: " + err.Error(), Fix: "check the role's privileges"}}
	}
	return []replication.Finding{tableFinding(st)}
}

// tableFinding is the finding about the postgres store's table: what run
// will create or add and whether the role may, with the SQL that lets it.
func tableFinding(st checkpoint.TableState) replication.Finding {
	role, db := pgx.Identifier{st.Role}.Sanitize(), pgx.Identifier{st.Database}.Sanitize()
	t := checkpoint.TableName
	what := func(s string, a ...any) string { return "checkpoint store postgres: " + fmt.Sprintf(s, a...) }
	beforehand := fmt.Sprintf("or create it beforehand as a superuser: %s GRANT USAGE ON SCHEMA %s TO %s; "+
		"GRANT SELECT, INSERT, UPDATE ON %s TO %s; or set checkpoint.store: file",
		checkpoint.CreateTableStatements(), checkpoint.Schema, role, t, role)
	switch {
	case st.ReadOnly:
		return replication.Finding{What: what("postgres.dsn opens read-only sessions (a standby, or default_transaction_read_only): walrelay run cannot write %s", t),
			Fix: fmt.Sprintf("point postgres.dsn at the primary (or ALTER ROLE %s SET default_transaction_read_only = off;), or set checkpoint.store: file", role)}
	case !st.SchemaExists && !st.CreateOnDatabase:
		return replication.Finding{What: what("%s is missing and role %s may not create it (no CREATE on database %s)", t, st.Role, st.Database),
			Fix: fmt.Sprintf("as the database owner: GRANT CREATE ON DATABASE %s TO %s; %s", db, role, beforehand)}
	case !st.SchemaExists:
		return replication.Finding{OK: true, What: what("%s is missing; walrelay run creates it (and schema %s)", t, checkpoint.Schema)}
	case !st.UsageOnSchema:
		return replication.Finding{What: what("role %s has no USAGE on schema %s", st.Role, checkpoint.Schema),
			Fix: fmt.Sprintf("as the schema's owner: GRANT USAGE ON SCHEMA %s TO %s;", checkpoint.Schema, role)}
	case !st.TableExists && !st.CreateOnSchema:
		return replication.Finding{What: what("%s is missing and role %s may not create it (no CREATE on schema %s)", t, st.Role, checkpoint.Schema),
			Fix: fmt.Sprintf("as the schema's owner: GRANT CREATE ON SCHEMA %s TO %s; %s", checkpoint.Schema, role, beforehand)}
	case !st.TableExists:
		return replication.Finding{OK: true, What: what("%s is missing; walrelay run creates it", t)}
	case !st.ReadWrite:
		return replication.Finding{What: what("role %s may not read and write %s", st.Role, t),
			Fix: fmt.Sprintf("as the table's owner: GRANT SELECT, INSERT, UPDATE ON %s TO %s;", t, role)}
	case !st.HasCatchup && !st.Owner:
		return replication.Finding{What: what("%s, made by an older walrelay, lacks column catchup, and role %s, which does not own it, may not add it", t, st.Role),
			Fix: fmt.Sprintf("as the table's owner: ALTER TABLE %s ADD COLUMN IF NOT EXISTS catchup jsonb;", t)}
	case !st.HasCatchup:
		return replication.Finding{OK: true, What: what("%s lacks column catchup (made by an older walrelay); walrelay run adds it", t)}
	case !st.HasLineage && !st.Owner:
		return replication.Finding{Warn: true, What: what("%s, made by an older walrelay, lacks column lineage, and role %s, which does not own it, "+
			"may not add it: walrelay run keeps the column lineage in data_dir only", t, st.Role),
			Fix: "as the table's owner: " + checkpoint.AddLineageStatement()}
	case !st.HasLineage:
		return replication.Finding{OK: true, What: what("%s lacks column lineage (made by an older walrelay); walrelay run adds it", t)}
	}
	return replication.Finding{OK: true, What: what("role %s may read and write %s", st.Role, t)}
}

// checkDataDir says whether `walrelay run` can use data_dir, without
// creating it: an existing directory, or a missing one under an existing
// directory (run creates it). Write permission is not checked.
func checkDataDir(dir string) []replication.Finding {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return []replication.Finding{{What: fmt.Sprintf("data_dir %s is not a directory", dir),
			Fix: "set data_dir to a directory, or to a path walrelay run may create"}}
	case !os.IsNotExist(err):
		return []replication.Finding{{What: "data_dir: " + err.Error(),
			Fix: fmt.Sprintf("make data_dir %s a directory the user running walrelay may write", dir)}}
	}
	parent := filepath.Dir(filepath.Clean(dir))
	for {
		fi, err := os.Stat(parent)
		if err == nil && !fi.IsDir() {
			return []replication.Finding{{What: fmt.Sprintf("data_dir %s cannot be created: %s is not a directory", dir, parent),
				Fix: "set data_dir to a path walrelay run may create"}}
		}
		if err == nil || parent == filepath.Dir(parent) {
			break
		}
		parent = filepath.Dir(parent)
	}
	return []replication.Finding{{OK: true, What: fmt.Sprintf("data_dir %s does not exist yet; walrelay run creates it", dir)}}
}
