package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/filter"
)

// memLineage is a checkpoint.LineageStore in memory; err, when set, is
// what it returns.
type memLineage struct {
	b     []byte
	saves int
	err   error
}

func (m *memLineage) LoadLineage(context.Context) ([]byte, error) { return m.b, m.err }

func (m *memLineage) SaveLineage(_ context.Context, b []byte) error {
	if m.err != nil {
		return m.err
	}
	m.b, m.saves = append([]byte(nil), b...), m.saves+1
	return nil
}

// TestLineageStoreRestart (checkpoint.store: postgres): the reader saves
// the column lineage in the checkpoint store too, when the shapes change
// and not per event, so a restarted process whose data directory was not
// kept (a standby taking over, a container) is seeded from the store and
// halts on a masked column renamed while walrelay was stopped, instead of
// publishing it under its new name.
func TestLineageStoreRestart(t *testing.T) {
	t.Parallel()
	store := &memLineage{}
	st := &filterState{current: lineageRulesWithSalt(t), dataDir: t.TempDir(), lineageStore: store}
	for i := range 3 {
		if _, err := st.apply(lineageIns(lineageRel("id", "email", "notes"), fmt.Sprint(i), "a@x", "n"), zerolog.Nop()); err != nil {
			t.Fatal(err)
		}
	}
	if store.saves != 1 {
		t.Fatalf("%d saves in the store for one table of one shape, want 1", store.saves)
	}

	seeded, err := savedLineage(context.Background(), t.TempDir(), store, zerolog.Nop()) // data_dir not kept
	if err != nil || seeded == nil {
		t.Fatalf("savedLineage: %v, %v", seeded, err)
	}
	next := lineageRulesWithSalt(t)
	next.SeedLineage(seeded)
	st2 := &filterState{current: next, exits: func() bool { return true }}
	d, err := st2.apply(lineageIns(lineageRel("id", "email_address", "notes"), "3", "secret", "n"), zerolog.Nop())
	var re *filter.RuleError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), `masked column "email" was renamed to "email_address"`) {
		t.Fatalf("restarted without data_dir: decision %s %v, error %v; want the rename halt", d.Action, d.Change, err)
	}
}

// TestSavedLineageMerge: the store's state is taken for the tables it has
// and the file adds the others (a stale data directory loses nothing, an
// older walrelay's file still counts); a store whose table lacks the
// lineage column leaves the file, and the save then goes to the file only;
// a stored state that does not read says how to start without it.
func TestSavedLineageMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	file := `{"version":1,"tables":[{"oid":1,"table":"public.m1","columns":[{"name":"email","type_oid":25,"type":"text"}]},` +
		`{"oid":2,"table":"public.m2","columns":[{"name":"email","type_oid":25,"type":"text"}]}]}`
	if err := os.WriteFile(filepath.Join(dir, lineageFile), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	stored := &memLineage{b: []byte(`{"version":1,"tables":[{"oid":1,"table":"public.m1",` +
		`"columns":[{"name":"email_address","type_oid":25,"type":"text"}],"formerly":{"email_address":["email"]}}]}`)}
	st, err := savedLineage(ctx, dir, stored, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range st.Tables {
		got = append(got, fmt.Sprintf("%d:%s", tb.OID, tb.Columns[0].Name))
	}
	if strings.Join(got, ",") != "1:email_address,2:email" {
		t.Errorf("merged %v, want the store's m1 and the file's m2", got)
	}

	old := &memLineage{err: fmt.Errorf("test: %w", checkpoint.ErrNoLineageColumn)}
	if st, err := savedLineage(ctx, dir, old, zerolog.Nop()); err != nil || len(st.Tables) != 2 {
		t.Errorf("store without the column: %v, %v; want the file's state", st, err)
	}
	fs := &filterState{current: lineageRulesWithSalt(t), dataDir: dir, lineageStore: old}
	if _, err := fs.apply(lineageIns(lineageRel("id", "email", "notes"), "1", "a@x", "n"), zerolog.Nop()); err != nil {
		t.Fatalf("save with a store without the column: %v, want the file only", err)
	}

	bad := &memLineage{b: []byte("{")}
	if _, err := savedLineage(ctx, dir, bad, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "SET lineage = NULL") {
		t.Errorf("unreadable stored state: %v, want the fix", err)
	}
}
