package checkpoint

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
)

func TestCatchupCovers(t *testing.T) {
	t.Parallel()
	c := &Catchup{Tables: []string{"public.a", "sales.b"}, Boundary: 0x500}
	cases := []struct {
		table  string
		commit event.LSN
		want   bool
	}{
		{"public.a", 0x4ff, true},
		{"sales.b", 0x100, true},
		{"public.a", 0x500, false}, // committed at the boundary: not in the snapshot
		{"public.a", 0x501, false},
		{"public.c", 0x100, false},
	}
	for _, tc := range cases {
		if got := c.Covers(tc.table, tc.commit); got != tc.want {
			t.Errorf("Covers(%s, %s) = %v, want %v", tc.table, tc.commit, got, tc.want)
		}
	}
	if (&Catchup{Tables: []string{"public.a"}}).Covers("public.a", 1) {
		t.Error("a catch-up still to take covers a change")
	}
	var none *Catchup
	if none.Covers("public.a", 1) {
		t.Error("nil covers a change")
	}
	c.Signal, c.Truncated = 0x450, []string{"public.a"}
	m := c.Merge([]string{"public.z", "public.a"})
	if !reflect.DeepEqual(m, &Catchup{Tables: []string{"public.a", "public.z", "sales.b"}, Signal: 0x450}) {
		t.Errorf("Merge = %+v", m)
	}
	if !m.Handled(0x450) || !m.Handled(0x100) || m.Handled(0x451) || none.Handled(1) || (&Catchup{}).Handled(1) {
		t.Errorf("Handled: a signal at or before 0/450 is handled, a later one is not")
	}
}

// Both stores keep the catch-up with the position, and an older
// walrelay's checkpoint table gains its column.
func TestStoresKeepCatchup(t *testing.T) {
	ctx := context.Background()
	want := Position{LSN: 0x300, Slot: "s", UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Catchup: &Catchup{Tables: []string{"public.a", "public.b"}, Boundary: 0x1_0000_0400, Signal: 0x3f0, Truncated: []string{"public.b"}}}
	cursor := Position{LSN: 0x380, Slot: want.Slot, UpdatedAt: want.UpdatedAt,
		Catchup: &Catchup{Tables: []string{"public.b"}, Current: "public.b", After: []string{"7", "a \"b\""}}}
	check := func(t *testing.T, s Store) {
		t.Helper()
		cursor.Slot = want.Slot
		for _, p := range []Position{want, cursor, {LSN: 0x400, Slot: want.Slot, UpdatedAt: want.UpdatedAt}} {
			if err := s.Save(ctx, p); err != nil {
				t.Fatal(err)
			}
			got, ok, err := s.Load(ctx)
			if err != nil || !ok || got.LSN != p.LSN || !reflect.DeepEqual(got.Catchup, p.Catchup) {
				t.Fatalf("Load = %+v (catch-up %+v), %v, %v; want %+v", got, got.Catchup, ok, err, p.Catchup)
			}
		}
	}
	t.Run("file", func(t *testing.T) {
		s, err := NewFileStore(t.TempDir(), "s")
		if err != nil {
			t.Fatal(err)
		}
		check(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		testDSN(t)                          // skips without a PostgreSQL
		dsn := testenv.PG(t).NewDatabase(t) // its own database: the table is dropped below
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		// A table as an earlier walrelay created it, without the column.
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+TableName+"; CREATE SCHEMA IF NOT EXISTS "+Schema+
			"; CREATE TABLE "+TableName+" (slot text PRIMARY KEY, lsn pg_lsn NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"); err != nil {
			t.Fatal(err)
		}
		slot := uniqueName("cp_catchup")
		s, err := NewPostgresStore(ctx, dsn, slot)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		want.Slot = slot
		check(t, s)
	})
}

// The committer saves the catch-up with each position until one reaches
// its boundary, and then drops it.
func TestCommitterDropsCatchupAtBoundary(t *testing.T) {
	t.Parallel()
	c, saveAt := catchupCommitter(t)
	cu := &Catchup{Tables: []string{"public.a"}, Boundary: 0x300}
	c.SetCatchup(cu)
	saveAt(0x200, cu)
	saveAt(0x300, nil)
	saveAt(0x400, nil)
}

// A blocking catch-up to take again from a position on (after a TRUNCATE
// before its boundary) replaces the old one there, and a position past the
// old boundary does not drop it.
func TestCommitterCatchupTakenAgain(t *testing.T) {
	t.Parallel()
	c, saveAt := catchupCommitter(t)
	cu := &Catchup{Tables: []string{"public.a", "public.b"}, Boundary: 0x500}
	c.SetCatchup(cu)
	again := &Catchup{Tables: cu.Tables, Truncated: []string{"public.a"}}
	c.CatchupAt(0x300, again)
	saveAt(0x200, cu)
	saveAt(0x300, again)
	saveAt(0x600, again)
}

// catchupCommitter returns a committer over a file store at 0/100, and
// saveAt, which commits a transaction ending at end, flushes, and fails t
// unless the store then holds end with the catch-up want.
func catchupCommitter(t *testing.T) (*Committer, func(end event.LSN, want *Catchup)) {
	tr := NewTracker(100, 1<<20)
	tr.SetWatermark(0x100)
	st, err := NewFileStore(t.TempDir(), "s")
	if err != nil {
		t.Fatal(err)
	}
	c := NewCommitter(tr, st, "s", time.Hour, zerolog.Nop())
	return c, func(end event.LSN, want *Catchup) {
		t.Helper()
		x := tr.Begin(end)
		x.Commit(end)
		if err := c.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, _, err := st.Load(context.Background())
		if err != nil || got.LSN != end || !reflect.DeepEqual(got.Catchup, want) {
			t.Fatalf("at %s: saved %+v catch-up %+v, %v; want %+v", end, got, got.Catchup, err, want)
		}
	}
}

// An incremental catch-up's cursors are saved from the first position at
// or past their LSN on; tables AddCatchup adds meanwhile are merged into
// the later cursors too, and a table asked for again restarts.
func TestCommitterCatchupCursors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, saveAt := catchupCommitter(t)
	start := &Catchup{Tables: []string{"public.a", "public.b"}}
	c.SetCatchup(start)
	a1 := &Catchup{Tables: []string{"public.a", "public.b"}, Current: "public.a", After: []string{"10"}}
	b0 := &Catchup{Tables: []string{"public.b"}}
	c.CatchupAt(0x300, a1)
	c.CatchupAt(0x500, b0)
	saveAt(0x200, start)
	saveAt(0x300, a1)
	saveAt(0x400, a1)
	// A table is added while the cursor at 0x500 waits: it is saved now, and
	// merged into that cursor and later ones.
	added, err := c.AddCatchup(ctx, []string{"public.c"}, 0x3f0)
	wantAdded := &Catchup{Tables: []string{"public.a", "public.b", "public.c"}, Signal: 0x3f0, Current: "public.a", After: []string{"10"}}
	if err != nil || !reflect.DeepEqual(added, wantAdded) {
		t.Fatalf("AddCatchup = %+v, %v; want %+v", added, err, wantAdded)
	}
	c.CatchupAt(0x600, nil) // the runner, unaware of public.c, is done
	saveAt(0x500, &Catchup{Tables: []string{"public.b", "public.c"}, Signal: 0x3f0})
	saveAt(0x600, &Catchup{Tables: []string{"public.c"}, Signal: 0x3f0})
	// Asking for the table being read again reads it from its start.
	if m := a1.Merge([]string{"public.a"}); m.Current != "" || m.After != nil {
		t.Errorf("Merge of the current table keeps its cursor: %+v", m)
	}
	if m := a1.Merge([]string{"public.z"}); m.Current != "public.a" || !reflect.DeepEqual(m.After, []string{"10"}) {
		t.Errorf("Merge of another table loses the cursor: %+v", m)
	}
}
