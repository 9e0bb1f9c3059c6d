package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckRulesVerdictAsRun (audit auditreadme #4): walrelay check FAILs
// only what walrelay run refuses; what run takes with a warning is a
// warning in check (exit 0): a masked or excluded column that some of a
// glob rule's tables lack, and a rule an earlier one leaves only its
// truncates to. A masked column none of the rule's tables has is refused
// by run, so it stays a FAIL.
func TestCheckRulesVerdictAsRun(t *testing.T) {
	if os.Getenv(testenv.EnvPGDSN) == "" {
		t.Skip(testenv.EnvPGDSN + " is not set")
	}
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE SCHEMA sales;
		CREATE TABLE public.orders (id bigint PRIMARY KEY, card_number text, notes text);
		CREATE TABLE sales.nocard (id bigint PRIMARY KEY, v int)`)
	db := testenv.Connect(t, dsn)
	for _, c := range []struct {
		name, rules, warn, fail string
	}{
		{"mask, some tables", `[{tables: [public.orders, "sales.*"], columns: {mask: [card_number]}}]`,
			`masked column "card_number" does not exist in sales.nocard`, ""},
		{"exclude, some tables", `[{tables: [public.orders, "sales.*"], columns: {exclude: [notes]}}]`,
			`excluded column "notes" does not exist in sales.nocard`, ""},
		{"only truncates left", `[{tables: [public.orders]}, {tables: [public.orders], drop: true}]`,
			"rules[1] never decides a row change of public.orders", ""},
		{"mask, no table", `[{tables: ["sales.*"], columns: {mask: [card_number]}}]`,
			"", `masked column "card_number" exists in none`},
	} {
		cfg := storeTestConfig(t, dsn, "file")
		cfg.Rules, cfg.MaskSalt = filepath.Join(t.TempDir(), "rules.yaml"), "pepper"
		if err := os.WriteFile(cfg.Rules, []byte("rules: "+c.rules+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		findings, _ := checkRules(ctx, db, cfg)
		var warns, fails []string
		for _, f := range findings {
			switch {
			case f.Warn:
				warns = append(warns, f.What)
			case !f.OK:
				fails = append(fails, f.What)
			}
		}
		w, f := strings.Join(warns, "\n"), strings.Join(fails, "\n")
		if c.fail == "" && len(fails) > 0 || c.fail != "" && !strings.Contains(f, c.fail) {
			t.Errorf("%s: FAIL %q, want %q only", c.name, fails, c.fail)
		}
		if c.warn != "" && !strings.Contains(w, c.warn) {
			t.Errorf("%s: warnings %q, want %q", c.name, warns, c.warn)
		}
	}
}
