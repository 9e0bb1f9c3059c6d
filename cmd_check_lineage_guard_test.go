package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckLineageMissingRefusesRename (audit auditupg finding 1): with a
// checkpoint stored and no column lineage of a table a rule names exactly,
// a column the rule masks that the table lacks is a FAIL of walrelay check
// (a Refused, which walrelay run refuses to start over), saying renamed or
// dropped; without a checkpoint it is a warning only, as in run.
func TestCheckLineageMissingRefusesRename(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE public.g1 (id int PRIMARY KEY, contact text);
		CREATE TABLE public.g2 (id int PRIMARY KEY, secret text)`)
	db := testenv.Connect(t, dsn)
	ctx := context.Background()
	tables, err := filter.TablesWithTypes(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, stored := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "data")
		cfg := &config.Config{DataDir: dir, Postgres: config.Postgres{Slot: "walrelay"}}
		if stored {
			fs, err := checkpoint.NewFileStore(dir, cfg.Postgres.Slot)
			if err != nil {
				t.Fatal(err)
			}
			if err := fs.Save(ctx, checkpoint.Position{LSN: 0x1000}); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := filter.Parse("rules.yaml", []byte("rules:\n  - tables: [public.g1, public.g2]\n    columns: {mask: [secret]}\n"), "s")
		if err != nil {
			t.Fatal(err)
		}
		if out := checkLineage(ctx, db, cfg, rs); len(out) > 0 {
			t.Fatalf("stored %v: findings %+v", stored, out)
		}
		var refused []string
		for _, m := range rs.DescribeTables(tables) {
			for _, p := range m.Refused {
				refused = append(refused, p.Error())
			}
		}
		got := strings.Join(refused, "\n")
		if stored != (len(refused) == 1 && strings.Contains(got, "public.g1") && strings.Contains(got, "renamed")) || !stored && len(refused) > 0 {
			t.Errorf("checkpoint stored %v: refusals %q, want one for public.g1 only with a checkpoint", stored, refused)
		}
	}
}
