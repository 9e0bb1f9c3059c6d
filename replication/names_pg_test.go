package replication

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const namesDDL = `CREATE SCHEMA "x.y"; CREATE TABLE "x.y".z (id int PRIMARY KEY);
	CREATE SCHEMA x; CREATE TABLE x."y.z" (id int PRIMARY KEY);
	CREATE TABLE "Mixed Case" (id int PRIMARY KEY);
	CREATE UNLOGGED TABLE unl (id int PRIMARY KEY);
	CREATE TABLE base (id int PRIMARY KEY);
	CREATE VIEW vw AS SELECT * FROM base;
	CREATE MATERIALIZED VIEW mv AS SELECT * FROM base`

// TestCheckTablesDottedSchema: a table whose schema has a dot is checked as
// itself, whether postgres.tables names it ("x.y".z, as config keeps it) or
// every table is captured; x."y.z" is another table.
func TestCheckTablesDottedSchema(t *testing.T) {
	t.Parallel()
	db := pubDB(t, namesDDL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tables := range [][]string{{`"x.y".z`, "x.y.z", "public.Mixed Case"}, nil} {
		fs, err := checkTables(ctx, db, CheckOptions{Tables: tables})
		if err != nil {
			t.Fatal(err)
		}
		got := describe(fs)
		for _, want := range []string{`ok: table "x.y".z: primary key`, "ok: table x.y.z: primary key", "ok: table public.Mixed Case: primary key"} {
			if !strings.Contains(got, want) {
				t.Errorf("tables %q: findings lack %q:\n%s", tables, want, got)
			}
		}
		if strings.Contains(got, "does not exist") {
			t.Errorf("tables %q: a table reported missing:\n%s", tables, got)
		}
	}
	if _, err := ensure(t, db, "dotted", `"x.y".z`); err != nil {
		t.Fatal(err)
	}
	if _, names := pubState(t, db, "dotted"); !slices.Equal(names, []string{"x.y.z"}) {
		t.Errorf("publication holds %q", names) // pubState prints schema.table unquoted
	}
	var schema string
	if err := db.QueryRow(ctx, `SELECT schemaname FROM pg_publication_tables WHERE pubname = 'dotted'`).Scan(&schema); err != nil || schema != "x.y" {
		t.Errorf("publication's table is in schema %q (%v), want x.y", schema, err)
	}
	if _, err := ensure(t, db, "dotted", `"x.y".z`, "x.y.z"); err != nil {
		t.Errorf("adding x.\"y.z\" to a publication holding \"x.y\".z: %v", err)
	}
}

// TestCheckTablesNotCapturable: an unlogged table, a view and a materialized
// view in postgres.tables are reported as what they are, with the fix (SET
// LOGGED for the unlogged one), by check and at start (EnsurePublication);
// with every table captured, the unlogged table is a warning.
func TestCheckTablesNotCapturable(t *testing.T) {
	t.Parallel()
	db := pubDB(t, namesDDL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fs, err := checkTables(ctx, db, CheckOptions{Tables: []string{"public.unl", "public.vw", "public.mv"}})
	if err != nil {
		t.Fatal(err)
	}
	got := describe(fs)
	for _, want := range []string{
		`FAIL: public.unl is an unlogged table: it cannot be captured [ALTER TABLE "public"."unl" SET LOGGED;`,
		"FAIL: public.vw is a view: it cannot be captured [remove it from postgres.tables",
		"FAIL: public.mv is a materialized view: it cannot be captured",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("findings lack %q:\n%s", want, got)
		}
	}
	fs, err = checkTables(ctx, db, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var warned bool
	for _, f := range fs {
		warned = warned || f.Warn && strings.Contains(f.What, "public.unl is an unlogged table")
	}
	if !warned {
		t.Errorf("capture-all: no warning for the unlogged table:\n%s", describe(fs))
	}
	_, err = ensure(t, db, "unl", "public.base", "public.unl")
	var ue *UncapturableTableError
	if !errors.As(err, &ue) || ue.Table != "public.unl" || !strings.Contains(err.Error(), "SET LOGGED") {
		t.Errorf("EnsurePublication with an unlogged table: %v, want an UncapturableTableError with SET LOGGED", err)
	}
	_, err = ensure(t, db, "vw", "public.vw")
	if !errors.As(err, &ue) || ue.Kind != "a view" {
		t.Errorf("EnsurePublication with a view: %v, want an UncapturableTableError", err)
	}
}
