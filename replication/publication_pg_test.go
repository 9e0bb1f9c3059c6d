package replication

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/internal/testenv"
)

// pubDB returns a connection to a fresh database holding ddl.
func pubDB(t *testing.T, ddl ...string) *pgx.Conn {
	t.Helper()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, ddl...)
	return testenv.Connect(t, dsn)
}

// pubState returns the publication's pubviaroot and pg_publication_tables
// rows, sorted; it fails t when the publication does not exist.
func pubState(t *testing.T, db *pgx.Conn, pub string) (bool, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := ReadPublication(ctx, db, pub)
	if err != nil || !p.Exists {
		t.Fatalf("ReadPublication(%s) = %+v, %v; want an existing publication", pub, p, err)
	}
	rows, err := db.Query(ctx, "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1", pub)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return p.ViaRoot, names
}

// ensure runs EnsurePublication and returns its log output and error.
func ensure(t *testing.T, db *pgx.Conn, pub string, tables ...string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := EnsurePublication(ctx, db, pub, tables, zerolog.New(&buf))
	return buf.String(), err
}

// TestEnsurePublicationPartitionedRestart: a partitioned table in
// postgres.tables gets a publication with publish_via_partition_root, so
// PostgreSQL publishes it as itself (pg_publication_tables lists pt, not its
// partitions); calling it again, as every restart does, succeeds and
// changes nothing (the audit's D2: ADD TABLE of a member failed every
// restart).
func TestEnsurePublicationPartitionedRestart(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL)
	if _, err := ensure(t, db, "p", "public.pt"); err != nil {
		t.Fatalf("first EnsurePublication: %v", err)
	}
	viaRoot, tables := pubState(t, db, "p")
	if !viaRoot || strings.Join(tables, ",") != "public.pt" {
		t.Fatalf("publication: via root %v, tables %v; want true, [public.pt]", viaRoot, tables)
	}
	for i := range 2 {
		log, err := ensure(t, db, "p", "public.pt")
		if err != nil {
			t.Fatalf("EnsurePublication on restart %d: %v", i+1, err)
		}
		if log != "" {
			t.Errorf("restart %d logged %q, want nothing (no change)", i+1, log)
		}
	}
	// A configured partition besides its root: a direct member of its own,
	// added once, then left alone.
	if log, err := ensure(t, db, "p", "public.pt", "public.pt_a", "public.plain"); err != nil || !strings.Contains(log, "added tables to publication") {
		t.Fatalf("adding pt_a and plain: %v, log %q", err, log)
	}
	if log, err := ensure(t, db, "p", "public.pt", "public.pt_a", "public.plain"); err != nil || log != "" {
		t.Fatalf("again: %v, log %q; want no error and no change", err, log)
	}
	if _, tables = pubState(t, db, "p"); strings.Join(tables, ",") != "public.plain,public.pt" {
		t.Errorf("pg_publication_tables %v, want public.plain and public.pt (pt_a is published as pt)", tables)
	}
}

// TestEnsurePublicationSetsViaRoot: a publication made without
// publish_via_partition_root (by an earlier walrelay) gets it, logged, and
// the tables it lacks, in one go; its partitioned member is not added again.
func TestEnsurePublicationSetsViaRoot(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL, "CREATE PUBLICATION p FOR TABLE pt")
	if viaRoot, tables := pubState(t, db, "p"); viaRoot || strings.Join(tables, ",") != "public.pt_a,public.pt_b1" {
		t.Fatalf("setup: via root %v, tables %v; want the leaf partitions without via root", viaRoot, tables)
	}
	log, err := ensure(t, db, "p", "public.pt", "public.plain")
	if err != nil {
		t.Fatalf("EnsurePublication: %v", err)
	}
	if !strings.Contains(log, ViaRootSetMessage) || !strings.Contains(log, `"added":["public.plain"]`) {
		t.Errorf("log %q does not record the via-root change and the added plain table", log)
	}
	if viaRoot, tables := pubState(t, db, "p"); !viaRoot || strings.Join(tables, ",") != "public.plain,public.pt" {
		t.Errorf("publication: via root %v, tables %v; want true, [public.plain public.pt]", viaRoot, tables)
	}
}

// TestEnsurePublicationAllTables: without tables the publication is FOR
// ALL TABLES with publish_via_partition_root (partitioned tables listed as
// themselves); an existing FOR ALL TABLES one without it gets it.
func TestEnsurePublicationAllTables(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL, "CREATE PUBLICATION old FOR ALL TABLES")
	if _, err := ensure(t, db, "p"); err != nil {
		t.Fatalf("EnsurePublication: %v", err)
	}
	if viaRoot, tables := pubState(t, db, "p"); !viaRoot || strings.Join(tables, ",") != "public.plain,public.pt" {
		t.Errorf("new FOR ALL TABLES publication: via root %v, tables %v; want true, [public.plain public.pt]", viaRoot, tables)
	}
	log, err := ensure(t, db, "old")
	if err != nil || !strings.Contains(log, ViaRootSetMessage) {
		t.Fatalf("existing FOR ALL TABLES publication: %v, log %q; want the via-root change logged", err, log)
	}
	if viaRoot, _ := pubState(t, db, "old"); !viaRoot {
		t.Error("existing FOR ALL TABLES publication still lacks publish_via_partition_root")
	}
}

// TestEnsurePublicationSchemaMember: a table already published through its
// schema (FOR TABLES IN SCHEMA, PostgreSQL 15) is not added again.
func TestEnsurePublicationSchemaMember(t *testing.T) {
	t.Parallel()
	db := pubDB(t, "CREATE SCHEMA s2; CREATE TABLE s2.t (id int PRIMARY KEY)")
	ctx := context.Background()
	if v, err := ServerVersion(ctx, db); err != nil || v < schemaPubVersion {
		t.Skipf("server_version_num %d (%v): FOR TABLES IN SCHEMA needs PostgreSQL 15", v, err)
	}
	testenv.ExecDSN(t, db.Config().ConnString(), "CREATE PUBLICATION p FOR TABLES IN SCHEMA s2 WITH (publish_via_partition_root = true)")
	if log, err := ensure(t, db, "p", "s2.t"); err != nil || log != "" {
		t.Fatalf("EnsurePublication: %v, log %q; want no error and no change", err, log)
	}
	var direct int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_publication_rel").Scan(&direct); err != nil || direct != 0 {
		t.Errorf("pg_publication_rel holds %d rows (%v), want 0: s2.t is a member through its schema", direct, err)
	}
}

// TestEnsurePublicationMissingTable: a configured table that does not exist
// (renamed since) is an error that names it and says to fix
// postgres.tables, both when the publication exists and when it is to be
// created; nothing is changed.
func TestEnsurePublicationMissingTable(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL, "CREATE TABLE j1x (id int PRIMARY KEY); CREATE PUBLICATION p FOR TABLE plain")
	for _, pub := range []string{"p", "fresh"} {
		_, err := ensure(t, db, pub, "public.plain", "public.j1", "public.pt")
		var me *MissingTablesError
		if !errors.As(err, &me) || !slices.Equal(me.Tables, []string{"public.j1"}) {
			t.Fatalf("publication %s: error %v, want a MissingTablesError for public.j1", pub, err)
		}
		for _, want := range []string{"postgres.tables names public.j1", "renamed or dropped", "current schema.name"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("publication %s: error %q does not say %q", pub, err, want)
			}
		}
	}
	if _, tables := pubState(t, db, "p"); strings.Join(tables, ",") != "public.plain" {
		t.Errorf("publication p holds %v after the failed start, want it unchanged", tables)
	}
	if p, err := ReadPublication(context.Background(), db, "fresh"); err != nil || p.Exists {
		t.Errorf("publication fresh: %+v, %v; want it not created", p, err)
	}
}

// TestEnsurePublicationLeavesPlainAlone: a publication its owner created
// for plain tables (README: "Running beside an existing database", where
// walrelay's role may not alter it) is left as it is: it publishes no
// partitioned table, so it needs no publish_via_partition_root.
func TestEnsurePublicationLeavesPlainAlone(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL, "CREATE PUBLICATION p FOR TABLE plain")
	log, err := ensure(t, db, "p", "public.plain")
	if err != nil {
		t.Fatalf("EnsurePublication: %v", err)
	}
	if viaRoot, tables := pubState(t, db, "p"); viaRoot || strings.Join(tables, ",") != "public.plain" || log != "" {
		t.Errorf("publication altered: via root %v, tables %v, log %q; want it untouched", viaRoot, tables, log)
	}
}
