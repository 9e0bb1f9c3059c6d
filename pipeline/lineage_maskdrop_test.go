package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestMaskedColumnDroppedWhileStoppedStarts (audit auditc8 D5): the only
// masked column of a table, for a rule naming it and for a glob matching
// only it, is dropped while walrelay is stopped (or after the last change
// of the table it saw). The next start logs the drop ("relation changed
// while stopped") and takes the rules, warning that the column is gone;
// it refused them before as a typo ("exists in none of the tables"). A
// typo in the same situation is still refused.
func TestMaskedColumnDroppedWhileStoppedStarts(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE md_exact (id int PRIMARY KEY, secret text, v int);
		CREATE TABLE md_glob (id int PRIMARY KEY, secret text)`)
	db := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const src = "rules:\n  - tables: [public.md_exact]\n    columns: {mask: [secret]}\n" +
		"  - tables: [\"public.md_g*\"]\n    columns: {mask: [secret]}\n"
	parse := func(src string) *filter.Rules {
		rs, err := filter.Parse("rules.yaml", []byte(src), "salt")
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	dir := t.TempDir()
	first := &filterState{current: parse(src), dataDir: dir}
	for _, tc := range []struct {
		table string
		cols  []string
	}{{"md_exact", []string{"id int4", "secret text", "v int4"}}, {"md_glob", []string{"id int4", "secret text"}}} {
		rel := trRelation(ctx, t, db, tc.table, tc.cols...) // lineage_track_test.go
		row := make([]any, len(rel.Columns))
		for i, c := range rel.Columns {
			row[i] = map[string]any{"int4": int32(1), "text": "x"}[c.TypeName]
		}
		if _, err := first.apply(&event.Change{Op: event.OpCreate, Tx: &event.Tx{CommitLSN: 10}, Ordinal: 1, Relation: rel, After: row}, zerolog.Nop()); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.saveLineage(true, zerolog.Nop()); err != nil { // the session ends
		t.Fatal(err)
	}
	testenv.ExecDSN(t, dsn, `ALTER TABLE md_exact DROP COLUMN secret; ALTER TABLE md_glob DROP COLUMN secret`)

	// start seeds and reconciles the lineage as a start from a checkpoint
	// does, and checks rules src against the catalog.
	start := func(src string) (string, error) {
		var buf bytes.Buffer
		s := &session{cfg: &config.Config{DataDir: dir}, db: db, log: zerolog.New(&buf)}
		rules := parse(src)
		if err := s.seedLineage(ctx, rules); err != nil {
			t.Fatal(err)
		}
		if err := rules.GuardResume(ctx, db); err != nil {
			t.Fatal(err)
		}
		tables, err := filter.Tables(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		var warns []string
		for _, m := range rules.DescribeTables(tables) {
			for _, w := range m.Warnings {
				warns = append(warns, w.Error())
			}
		}
		return buf.String() + strings.Join(warns, "\n"), rules.CheckWhere(tables)
	}
	if out, err := start(strings.ReplaceAll(src, "secret", "secert")); err == nil || !strings.Contains(err.Error(), `masked column "secert" exists in none`) {
		t.Errorf("a typo: %v, want it refused", err)
	} else if n := strings.Count(out, StoppedChangeMessage); n != 2 {
		t.Errorf("%d %q lines, want 2: %s", n, StoppedChangeMessage, out)
	}
	// The typo's start saved nothing: the next one reconciles the same state again.
	out, err := start(src)
	if err != nil {
		t.Fatalf("the start after the drop: %v, want the rules taken", err)
	}
	for _, table := range []string{"public.md_exact", "public.md_glob"} {
		if !strings.Contains(out, `masked column "secret" does not exist in `+table) {
			t.Errorf("no warning that %s lost secret: %s", table, out)
		}
	}
}
