package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckRulesNamesUncapturable (auditc7): a capturing rule that names an
// unlogged table or a view exactly draws a warning with the fix (run
// leaves them out without a word); a glob matching them, a drop rule, a
// table not created yet and an ordinary table draw none.
func TestCheckRulesNamesUncapturable(t *testing.T) {
	if os.Getenv(testenv.EnvPGDSN) == "" {
		t.Skip(testenv.EnvPGDSN + " is not set")
	}
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE public.ok1 (id int PRIMARY KEY);
		CREATE UNLOGGED TABLE public.unl1 (id int PRIMARY KEY);
		CREATE VIEW public.v1 AS SELECT 1 AS a;
		CREATE UNLOGGED TABLE public.gunl (id int PRIMARY KEY);
		CREATE VIEW public.dv AS SELECT 1 AS a;`)
	cfg := storeTestConfig(t, dsn, "file")
	cfg.Rules = filepath.Join(t.TempDir(), "rules.yaml")
	rules := "rules:\n  - tables: [public.dv]\n    drop: true\n" +
		"  - tables: [public.ok1, public.unl1, public.v1, public.later, \"public.g*\"]\n"
	if err := os.WriteFile(cfg.Rules, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	findings, _ := checkRules(ctx, testenv.Connect(t, dsn), cfg)
	var got []string
	for _, f := range findings {
		if strings.Contains(f.What, "logical decoding skips it") {
			if !f.Warn {
				t.Errorf("%q is not a warning", f.What)
			}
			got = append(got, f.What+" | "+f.Fix)
		}
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"rules[1] names public.unl1, which is an unlogged table: logical decoding skips it, so walrelay captures nothing of it | ALTER TABLE \"public\".\"unl1\" SET LOGGED;",
		"rules[1] names public.v1, which is a view",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if len(got) != 2 {
		t.Errorf("%d warnings, want 2 (none for the glob, the drop rule, the missing or the ordinary table):\n%s", len(got), all)
	}
}
