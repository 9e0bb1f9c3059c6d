package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/replication"
)

// TestNoTableFinding: rules that capture no table fail walrelay check,
// unless they publish logical decoding messages, which walrelay run
// streams (audit: a messages-only rules file, as README advertises, got
// "FAIL rules capture no existing table").
func TestNoTableFinding(t *testing.T) {
	for _, c := range []struct {
		src, want string
		ok        bool
	}{
		{"default: drop\nmessages:\n  - prefix: ev\n    topic: app.ev\n", "only logical decoding messages (messages:)", true},
		{"default: capture\nrules:\n  - tables: [\"public.*\"]\n    drop: true\n", "default: capture publishes them", true},
		{"default: drop\nrules:\n  - tables: [public.nope]\n", "rules capture no existing table", false},
	} {
		rs, err := filter.Parse("rules.yaml", []byte(c.src), "")
		if err != nil {
			t.Fatal(err)
		}
		f := noTableFinding(rs)
		if f.OK != c.ok || !strings.Contains(f.What, c.want) {
			t.Errorf("%q: finding %+v, want OK %v and %q", c.src, f, c.ok, c.want)
		}
	}
}

// TestDescribeMatchDrop: walrelay check says a drop rule drops its tables,
// with its operations when it names some (audit: "rules[1] (...) captures
// public.audit" for a drop: true rule, whose table is not captured).
func TestDescribeMatchDrop(t *testing.T) {
	src := "rules:\n  - tables: [public.orders]\n  - tables: [public.audit]\n    drop: true\n" +
		"  - tables: [public.log]\n    drop: true\n    operations: [delete, truncate]\n"
	rs, err := filter.Parse("rules.yaml", []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	tables := []filter.Table{{Schema: "public", Name: "audit"}, {Schema: "public", Name: "log"}, {Schema: "public", Name: "orders"}}
	var got []string
	for _, m := range rs.DescribeTables(tables) {
		got = append(got, describeMatch("rules.yaml", rs, m))
	}
	want := []string{
		"rules[0] (rules.yaml:2:5) captures public.orders",
		"rules[1] (rules.yaml:3:5) drops public.audit",
		"rules[2] (rules.yaml:5:5) drops public.log (operations: delete, truncate)",
		"rules: default captures no table",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCheckRulesWhereIdentity: walrelay check warns about README's rule
// (deletes with where row.amount > 100) on a table with the default
// replica identity, since such deletes are dropped silently, naming the
// rule's file:line, the table and column, and the fixes; under REPLICA
// IDENTITY FULL it does not.
func TestCheckRulesWhereIdentity(t *testing.T) {
	if os.Getenv(testenv.EnvPGDSN) == "" {
		t.Skip(testenv.EnvPGDSN + " is not set")
	}
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE public.orders (id bigint PRIMARY KEY, amount numeric(12,2))")
	cfg := storeTestConfig(t, dsn, "file")
	cfg.Rules = filepath.Join(t.TempDir(), "rules.yaml")
	rules := "rules:\n  - tables: [public.orders]\n    operations: [insert, update, delete]\n    where: \"row.amount > 100\"\n"
	if err := os.WriteFile(cfg.Rules, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	db := testenv.Connect(t, dsn)
	warned := func() *replication.Finding {
		findings, _ := checkRules(ctx, db, cfg)
		for i, f := range findings {
			if strings.Contains(f.What, "where reads") {
				return &findings[i]
			}
		}
		return nil
	}
	f := warned()
	if f == nil || f.OK || !f.Warn || !strings.Contains(f.What, cfg.Rules+":4:12: rules[0].where reads row.amount, which the old row of a delete of public.orders") ||
		!strings.Contains(f.Fix, "REPLICA IDENTITY FULL") || !strings.Contains(f.Fix, `op == "delete" || (row.amount > 100)`) {
		t.Errorf("finding %+v, want a warning at the where naming row.amount, public.orders and the fixes", f)
	}
	testenv.ExecDSN(t, dsn, "ALTER TABLE public.orders REPLICA IDENTITY FULL")
	if f := warned(); f != nil {
		t.Errorf("under REPLICA IDENTITY FULL: finding %+v, want none", f)
	}
}
