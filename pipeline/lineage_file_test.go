package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/testenv"
)

const lineageRules = "rules:\n  - tables: [\"public.m*\"]\n    columns: {mask: [email], exclude: [notes]}\n"

// lineageRulesWithSalt parses lineageRules with a salt.
func lineageRulesWithSalt(t *testing.T) *filter.Rules {
	t.Helper()
	rs, err := filter.Parse("rules.yaml", []byte(lineageRules), "salt")
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func lineageRel(cols ...string) *event.Relation {
	r := &event.Relation{OID: 4711, Schema: "public", Table: "m1", Version: 1}
	for _, c := range cols {
		r.Columns = append(r.Columns, event.Column{Name: c, TypeOID: 25, TypeName: "text"})
	}
	r.Columns[0].Key = true
	return r
}

func lineageIns(rel *event.Relation, row ...any) *event.Change {
	return &event.Change{Op: event.OpCreate, Tx: &event.Tx{CommitLSN: 10}, Ordinal: 1, Relation: rel, After: row}
}

// TestLineageFileRestart: the reader saves the column lineage in the data
// directory when a table's shape changes (at once: before the change is
// published) and when the session ends (new tables), atomically and not
// per event; a restarted process seeded from the file halts on a masked or
// excluded column renamed while it was stopped.
func TestLineageFileRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := &filterState{current: lineageRulesWithSalt(t), dataDir: dir}
	if _, err := st.apply(lineageIns(lineageRel("id", "email", "notes"), "1", "a@x", "n"), zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, lineageFile)
	first, err := os.Stat(path)
	if err != nil {
		t.Fatalf("after the first change of public.m1: %v", err)
	}
	for range 3 { // the same shape again: no write
		if _, err := st.apply(lineageIns(lineageRel("id", "email", "notes"), "2", "b@x", "n"), zerolog.Nop()); err != nil {
			t.Fatal(err)
		}
	}
	if again, _ := os.Stat(path); !again.ModTime().Equal(first.ModTime()) {
		t.Error("file rewritten for changes of a known shape")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, lineageFile+".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	for _, c := range []struct {
		cols []string
		want string
	}{
		{[]string{"id", "email_address", "notes"}, `masked column "email" was renamed to "email_address"`},
		{[]string{"id", "email", "remarks"}, `excluded column "notes" was renamed to "remarks"`},
	} {
		seeded, err := loadLineage(dir)
		if err != nil || seeded == nil {
			t.Fatalf("loadLineage: %v, %v", seeded, err)
		}
		next := lineageRulesWithSalt(t)
		next.SeedLineage(seeded)
		st2 := &filterState{current: next, dataDir: t.TempDir(), exits: func() bool { return true }}
		d, err := st2.apply(lineageIns(lineageRel(c.cols...), "3", "secret", "secret"), zerolog.Nop())
		var re *filter.RuleError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("restarted with %v: decision %s, error %v; want %q", c.cols, d.Action, err, c.want)
		}
	}
}

// TestLineageFileErrors: no file is no lineage (a first start); a file
// that does not read stops walrelay with what to do.
func TestLineageFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if st, err := loadLineage(dir); st != nil || err != nil {
		t.Fatalf("no file: %v, %v; want nil, nil", st, err)
	}
	for _, body := range []string{"{not json", `{"version": 99, "tables": []}`} {
		if err := os.WriteFile(filepath.Join(dir, lineageFile), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadLineage(dir)
		if err == nil || !strings.Contains(err.Error(), lineageFile) || !strings.Contains(err.Error(), "delete it to start without it") {
			t.Errorf("file %q: error %v; want the file and the fix", body, err)
		}
	}
	if err := writeLineageFile(filepath.Join(dir, "missing"), []byte("{}")); err == nil {
		t.Error("writeLineageFile into a missing directory: no error")
	}
}

// TestLineagePruneDropped: the tables the database no longer has (by OID)
// are left out of the seeded lineage, so the file does not grow with
// dropped tables; a table renamed keeps its OID and its entry.
func TestLineagePruneDropped(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE kept (id int PRIMARY KEY, email text)", "CREATE TABLE gone (id int PRIMARY KEY)")
	db := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var kept, gone uint32
	if err := db.QueryRow(ctx, "SELECT 'kept'::regclass::oid, 'gone'::regclass::oid").Scan(&kept, &gone); err != nil {
		t.Fatal(err)
	}
	testenv.ExecDSN(t, dsn, "DROP TABLE gone", "ALTER TABLE kept RENAME TO renamed")
	st := &filter.LineageState{Version: filter.LineageVersion, Tables: []filter.LineageTable{
		{OID: kept, Table: "public.kept"}, {OID: gone, Table: "public.gone"}}}
	if err := pruneDropped(ctx, db, st); err != nil {
		t.Fatal(err)
	}
	if len(st.Tables) != 1 || st.Tables[0].OID != kept {
		t.Errorf("pruned to %+v, want only public.kept (OID %d)", st.Tables, kept)
	}
}
