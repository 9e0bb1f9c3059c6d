package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

// TestFileStoreIdentity: a save records the identity the store was given,
// Load returns it, and a file of an older walrelay without it loads (empty
// identity) and gets it at the next save.
func TestFileStoreIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte(`{"lsn":"0/16B3748","slot":"walrelay","updated_at":"2024-05-01T10:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewFileStore(dir, "walrelay")
	if err != nil {
		t.Fatal(err)
	}
	old, ok, err := s.Load(ctx)
	if err != nil || !ok || old.LSN != 0x16B3748 || old.SystemID != "" || old.Database != "" {
		t.Fatalf("Load of an old file = %+v, %v, %v; want 0/16B3748 without identity", old, ok, err)
	}
	s.SetIdentity("7301234567890123456", "app")
	if err := s.Save(ctx, Position{LSN: 0x16B3800, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &rec); err != nil || rec["system_id"] != "7301234567890123456" || rec["database"] != "app" {
		t.Fatalf("file after save = %s (%v); want system_id and database", data, err)
	}
	got, _, err := s.Load(ctx)
	if err != nil || got.SystemID != "7301234567890123456" || got.Database != "app" {
		t.Fatalf("Load = %+v, %v; want the identity saved", got, err)
	}
}

// TestFileStoreCorruptSaysWhatFollows: the corrupt-file error says that
// removing the file is followed by a snapshot whose read events stand for
// earlier changes, not just a resume from the slot (audit finding 7).
func TestFileStoreCorruptSaysWhatFollows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewFileStore(dir, "walrelay")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Load(context.Background())
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "snapshot of every captured table") ||
		!strings.Contains(err.Error(), "not published as change events") {
		t.Fatalf("corrupt error = %v; want ErrCorrupt and what follows a removal", err)
	}
}

// TestPostgresStoreIdentity: the store adds system_id and database to a
// table of an older walrelay, loads its row without them, and records them
// at the next save.
func TestPostgresStoreIdentity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adminDSN, _, _ := freshDatabase(t, ctx)
	exec(t, ctx, adminDSN, "CREATE SCHEMA "+Schema,
		"CREATE TABLE "+TableName+" (slot text PRIMARY KEY, lsn pg_lsn NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), catchup jsonb)",
		"INSERT INTO "+TableName+" (slot, lsn) VALUES ('idslot', '0/16B3748')")
	r, err := NewPostgresReader(ctx, adminDSN, "idslot")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if p, ok, err := r.Load(ctx); err != nil || !ok || p.LSN != 0x16B3748 || p.SystemID != "" {
		t.Fatalf("reader Load of an old table = %+v, %v, %v", p, ok, err)
	}
	s, err := NewPostgresStore(ctx, adminDSN, "idslot")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p, ok, err := s.Load(ctx); err != nil || !ok || p.SystemID != "" {
		t.Fatalf("Load of an old row = %+v, %v, %v", p, ok, err)
	}
	s.SetIdentity("7301234567890123456", "app")
	if err := s.Save(ctx, Position{LSN: event.LSN(0x16B3800), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	p, ok, err := r.Load(ctx)
	if err != nil || !ok || p.LSN != 0x16B3800 || p.SystemID != "7301234567890123456" || p.Database != "app" {
		t.Fatalf("Load after save = %+v, %v, %v; want the identity recorded", p, ok, err)
	}
}
