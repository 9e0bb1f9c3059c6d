package checkpoint

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
)

// oldTableSQL creates TableName as a walrelay before the lineage column did.
const oldTableSQL = "CREATE TABLE " + TableName + " (slot text PRIMARY KEY, lsn pg_lsn NOT NULL, " +
	"updated_at timestamptz NOT NULL DEFAULT now(), catchup jsonb)"

// TestPostgresStoreLineage: the column lineage is kept in the slot's row.
// Saved before any checkpoint (no row), it is written with the first
// checkpoint; saved later, at once; a checkpoint saved afterwards keeps
// it; a reader (walrelay check) reads it and cannot write it.
func TestPostgresStoreLineage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adminDSN, _, _ := freshDatabase(t, ctx)
	s, err := NewPostgresStore(ctx, adminDSN, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	load := func(what string, from LineageStore, want string) {
		t.Helper()
		b, err := from.LoadLineage(ctx)
		if err != nil || string(b) != want {
			t.Fatalf("%s: LoadLineage = %q, %v; want %q", what, b, err, want)
		}
	}
	if err := s.SaveLineage(ctx, []byte(`{"version": 1}`)); err != nil {
		t.Fatalf("SaveLineage before a checkpoint: %v", err)
	}
	load("no checkpoint yet", s, "")
	if err := s.Save(ctx, Position{LSN: 0x10, Slot: "s"}); err != nil {
		t.Fatal(err)
	}
	load("with the first checkpoint", s, `{"version": 1}`)
	if err := s.SaveLineage(ctx, []byte(`{"version": 2}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, Position{LSN: 0x20, Slot: "s"}); err != nil {
		t.Fatal(err)
	}
	load("after a later checkpoint", s, `{"version": 2}`)

	r, err := NewPostgresReader(ctx, adminDSN, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	load("reader", r, `{"version": 2}`)
	if err := r.SaveLineage(ctx, []byte(`{}`)); err == nil {
		t.Fatal("a reader saved the lineage")
	}
}

// TestPostgresStoreLineageOldTable: a table of an older walrelay gets the
// lineage column from walrelay run when the role owns it, not from a
// reader (which finds nothing stored); a role that does not own it runs
// without: SaveLineage says so (ErrNoLineageColumn, naming the ALTER TABLE)
// and checkpoints are saved as before.
func TestPostgresStoreLineageOldTable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adminDSN, roleDSN, role := freshDatabase(t, ctx)
	exec(t, ctx, adminDSN, "CREATE SCHEMA "+Schema, oldTableSQL,
		"GRANT USAGE ON SCHEMA "+Schema+" TO "+role, "GRANT SELECT, INSERT, UPDATE ON "+TableName+" TO "+role)

	r, err := NewPostgresReader(ctx, adminDSN, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, err := r.LoadLineage(ctx); b != nil || err != nil {
		t.Fatalf("reader of an old table: %q, %v; want nothing", b, err)
	}
	if inspect(t, ctx, adminDSN).HasLineage {
		t.Fatal("the reader added the lineage column")
	}

	notOwner, err := NewPostgresStore(ctx, roleDSN, "s")
	if err != nil {
		t.Fatalf("a role that does not own an old table: %v", err)
	}
	defer notOwner.Close()
	if err := notOwner.SaveLineage(ctx, []byte(`{}`)); !errors.Is(err, ErrNoLineageColumn) {
		t.Fatalf("SaveLineage without the column: %v, want ErrNoLineageColumn", err)
	}
	if err := notOwner.Save(ctx, Position{LSN: 0x10, Slot: "s"}); err != nil {
		t.Fatal(err)
	}

	owner, err := NewPostgresStore(ctx, adminDSN, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if !inspect(t, ctx, adminDSN).HasLineage {
		t.Fatal("walrelay run did not add the lineage column")
	}
	if err := owner.SaveLineage(ctx, []byte(`{"version": 1}`)); err != nil {
		t.Fatal(err)
	}
	if b, err := owner.LoadLineage(ctx); string(b) != `{"version": 1}` || err != nil {
		t.Fatalf("LoadLineage after the upgrade: %q, %v", b, err)
	}
}

// TestPostgresStoreLineageFence: while another backend holds the slot, a
// lineage save through a store that does not name it as the holder is
// refused (ErrSlotHeld) and changes nothing; the holder's goes through.
func TestPostgresStoreLineageFence(t *testing.T) {
	dsn := testDSN(t)
	ctx := context.Background()
	slot := uniqueName("cp_lfence")
	s, err := NewPostgresStore(ctx, dsn, slot)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Save(ctx, Position{LSN: 0x100, Slot: slot}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLineage(ctx, []byte(`{"n": 1}`)); err != nil {
		t.Fatal(err)
	}
	repl, err := pgconn.Connect(ctx, withParams(t, dsn, map[string]string{"replication": "database"}))
	if err != nil {
		t.Fatal(err)
	}
	defer repl.Close(ctx)
	if _, err := pglogrepl.CreateReplicationSlot(ctx, repl, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Temporary: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLineage(ctx, []byte(`{"n": 2}`)); !errors.Is(err, ErrSlotHeld) {
		t.Fatalf("SaveLineage while another backend holds the slot: %v, want ErrSlotHeld", err)
	}
	if b, _ := s.LoadLineage(ctx); string(b) != `{"n": 1}` {
		t.Fatalf("the refused save stored %s", b)
	}
	s.SetSlotHolder(repl.PID())
	if err := s.SaveLineage(ctx, []byte(`{"n": 3}`)); err != nil {
		t.Fatalf("SaveLineage by the slot's holder: %v", err)
	}
	if b, _ := s.LoadLineage(ctx); string(b) != `{"n": 3}` {
		t.Fatalf("stored %s, want the holder's", b)
	}
}
