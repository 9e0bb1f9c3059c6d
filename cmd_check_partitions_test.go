package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckRulesPartitions: with rules and a managed publication, `walrelay
// check` lists a partitioned table matched by a glob as captured, not its
// partitions, which walrelay run publishes through it
// (publish_via_partition_root), and says where their changes arrive; a
// rule naming a partition whose root another rule captures says so too.
func TestCheckRulesPartitions(t *testing.T) {
	if os.Getenv(testenv.EnvPGDSN) == "" {
		t.Skip(testenv.EnvPGDSN + " is not set")
	}
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, testenv.PartitionedDDL)
	cfg := storeTestConfig(t, dsn, "file")
	cfg.Rules = filepath.Join(t.TempDir(), "rules.yaml")
	rules := "default: drop\nrules:\n  - tables: [\"public.pt*\"]\n  - tables: [public.pt_a, public.plain]\n"
	if err := os.WriteFile(cfg.Rules, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	db := testenv.Connect(t, dsn)
	findings, captured := checkRules(ctx, db, cfg)
	var lines []string
	for _, f := range findings {
		lines = append(lines, f.What)
	}
	all := strings.Join(lines, "\n")
	if !slices.Equal(captured, []string{"public.plain", "public.pt"}) {
		t.Errorf("captured %q, want [public.plain public.pt] (the partitions publish through public.pt)", captured)
	}
	for _, want := range []string{
		"captures public.pt\n",
		"rules[0]: public.pt is partitioned: the changes of its partitions (public.pt_a, public.pt_b, public.pt_b1) arrive under its name, on its topic",
		"captures public.plain, public.pt_a\n",
		"rules[1]: public.pt_a, partitions of public.pt, which the rules capture: their changes arrive under its name, on its topic",
	} {
		if !strings.Contains(all+"\n", want) {
			t.Errorf("no line %q in:\n%s", want, all)
		}
	}
}
