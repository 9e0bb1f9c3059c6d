package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckRenamedTable: `walrelay check` names the new name of a table of
// postgres.tables renamed since walrelay's last start (its OID in
// data_dir/captured-tables.json), as `walrelay run` does at start, instead
// of "does not exist"; it leaves data_dir as it found it.
func TestCheckRenamedTable(t *testing.T) {
	if os.Getenv(testenv.EnvPGDSN) == "" {
		t.Skip(testenv.EnvPGDSN + " is not set")
	}
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE public.rn (id int PRIMARY KEY)")
	var oid uint32
	if err := testenv.Connect(t, dsn).QueryRow(ctx, "SELECT 'public.rn'::regclass::oid").Scan(&oid); err != nil {
		t.Fatal(err)
	}
	testenv.ExecDSN(t, dsn, "ALTER TABLE public.rn RENAME TO rn2")
	cfg := storeTestConfig(t, dsn, "file")
	cfg.DataDir = t.TempDir()
	cfg.Postgres.Tables = []string{"public.rn"}
	file := filepath.Join(cfg.DataDir, "captured-tables.json")
	saved := fmt.Sprintf(`{"public.rn":%d}`+"\n", oid)
	if err := os.WriteFile(file, []byte(saved), 0o600); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range checkPostgres(ctx, cfg) {
		if strings.Contains(f.What, "public.rn") {
			lines = append(lines, fmt.Sprintf("ok=%v %s / %s", f.OK, f.What, f.Fix))
		}
	}
	want := fmt.Sprintf("public.rn was renamed or moved to public.rn2 (same table, OID %d): set postgres.tables to public.rn2", oid)
	if len(lines) != 1 || !strings.Contains(lines[0], "ok=false "+want) {
		t.Errorf("findings naming public.rn:\n%s\nwant one problem: %s", strings.Join(lines, "\n"), want)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != saved {
		t.Errorf("check changed %s: %q, %v", file, b, err)
	}
}
