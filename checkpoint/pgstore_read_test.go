package checkpoint

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
)

// freshDatabase creates a database of its own (the shared one may hold
// TableName already) and a login role without privileges in it, dropped at
// t's cleanup; it returns the superuser's and the role's DSNs and the role.
func freshDatabase(t *testing.T, ctx context.Context) (adminDSN, roleDSN, role string) {
	t.Helper()
	dsn := testDSN(t)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	db, role := uniqueName("cp_read_db"), uniqueName("cp_read_role")
	for _, q := range []string{"CREATE DATABASE " + db, "CREATE ROLE " + role + " LOGIN PASSWORD 'pw'"} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Errorf("drop %s: %v", db, err)
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
	})
	return withParams(t, dsn, map[string]string{"dbname": db}),
		withParams(t, dsn, map[string]string{"dbname": db, "user": role, "password": "pw"}), role
}

// exec runs statements on dsn, failing t on the first error.
func exec(t *testing.T, ctx context.Context, dsn string, sql ...string) {
	t.Helper()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for _, q := range sql {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// inspect returns TableState as the superuser of dsn sees it.
func inspect(t *testing.T, ctx context.Context, dsn string) TableState {
	t.Helper()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	st, err := InspectTable(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestPostgresReaderCreatesNothing: the reader of `walrelay check` and
// `walrelay status` finds nothing stored in a database without Schema, and
// leaves it without Schema, also for a role that may create nothing; its
// Save fails. Before, opening the store created Schema and TableName.
func TestPostgresReaderCreatesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adminDSN, roleDSN, _ := freshDatabase(t, ctx)
	for _, dsn := range []string{adminDSN, roleDSN} {
		r, err := NewPostgresReader(ctx, dsn, "s")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := r.Load(ctx); ok || err != nil {
			t.Errorf("Load without %s = %v, %v; want false, nil", TableName, ok, err)
		}
		if err := r.Save(ctx, Position{LSN: 0x10, Slot: "s"}); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("Save of a reader = %v, want a read-only error", err)
		}
		r.Close()
	}
	if st := inspect(t, ctx, adminDSN); st.SchemaExists || st.TableExists {
		t.Fatalf("after the reader: schema exists %v, table exists %v; want neither", st.SchemaExists, st.TableExists)
	}
}

// TestPostgresReaderOldTable: a table of a walrelay before the catch-up
// snapshots (no catchup column) is read as holding no catch-up, and stays
// without the column; a missing row is nothing stored.
func TestPostgresReaderOldTable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adminDSN, _, _ := freshDatabase(t, ctx)
	exec(t, ctx, adminDSN, "CREATE SCHEMA "+Schema,
		"CREATE TABLE "+TableName+" (slot text PRIMARY KEY, lsn pg_lsn NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())",
		"INSERT INTO "+TableName+" (slot, lsn) VALUES ('old', '0/16B3748')")
	r, err := NewPostgresReader(ctx, adminDSN, "old")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pos, ok, err := r.Load(ctx)
	if err != nil || !ok || pos.LSN != event.LSN(0x16B3748) || pos.Catchup != nil {
		t.Fatalf("Load of an old table = %+v, %v, %v; want LSN 0/16B3748 without catch-up", pos, ok, err)
	}
	other, err := NewPostgresReader(ctx, adminDSN, "other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, ok, err := other.Load(ctx); ok || err != nil {
		t.Errorf("Load of a slot without a row = %v, %v; want false, nil", ok, err)
	}
	if st := inspect(t, ctx, adminDSN); st.HasCatchup {
		t.Fatal("the reader added the catchup column")
	}
}

// TestPostgresStoreExistingSchema: walrelay run creates TableName in an
// existing Schema with CREATE on the schema only, not on the database.
// Before, it ran CREATE SCHEMA IF NOT EXISTS, which needs CREATE on the
// database even when the schema exists.
func TestPostgresStoreExistingSchema(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adminDSN, roleDSN, role := freshDatabase(t, ctx)
	exec(t, ctx, adminDSN, "CREATE SCHEMA "+Schema, "GRANT USAGE, CREATE ON SCHEMA "+Schema+" TO "+role)
	s, err := NewPostgresStore(ctx, roleDSN, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Save(ctx, Position{LSN: 0x20, Slot: "s"}); err != nil {
		t.Fatal(err)
	}
	if st := inspect(t, ctx, adminDSN); !st.TableExists || !st.HasCatchup {
		t.Fatalf("table exists %v, has catchup %v; want both", st.TableExists, st.HasCatchup)
	}
}

// TestInspectTablePrivileges: TableState tells what a role may do, read
// from the catalogs even without USAGE on Schema.
func TestInspectTablePrivileges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adminDSN, roleDSN, _ := freshDatabase(t, ctx)
	exec(t, ctx, adminDSN, CreateTableStatements())
	st := inspect(t, ctx, roleDSN)
	want := TableState{SchemaExists: true, TableExists: true, HasCatchup: true, HasLineage: true, Database: st.Database, Role: st.Role}
	if st != want {
		t.Fatalf("role without privileges: %+v, want %+v", st, want)
	}
	if st := inspect(t, ctx, adminDSN); !st.CreateOnDatabase || !st.CreateOnSchema || !st.UsageOnSchema || !st.ReadWrite || !st.Owner || st.ReadOnly {
		t.Fatalf("superuser: %+v, want every privilege", st)
	}
}
