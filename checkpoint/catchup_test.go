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
	c.Signal = 0x450
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
		Catchup: &Catchup{Tables: []string{"public.a", "public.b"}, Boundary: 0x1_0000_0400, Signal: 0x3f0}}
	check := func(t *testing.T, s Store) {
		t.Helper()
		for _, p := range []Position{want, {LSN: 0x400, Slot: want.Slot, UpdatedAt: want.UpdatedAt}} {
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
	tr := NewTracker(100, 1<<20)
	tr.SetWatermark(0x100)
	st, err := NewFileStore(t.TempDir(), "s")
	if err != nil {
		t.Fatal(err)
	}
	c := NewCommitter(tr, st, "s", time.Hour, zerolog.Nop())
	cu := &Catchup{Tables: []string{"public.a"}, Boundary: 0x300}
	c.SetCatchup(cu)
	for _, step := range []struct {
		end  event.LSN
		want *Catchup
	}{{0x200, cu}, {0x300, nil}, {0x400, nil}} {
		x := tr.Begin(step.end)
		x.Commit(step.end)
		if err := c.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, _, err := st.Load(context.Background())
		if err != nil || got.LSN != step.end || !reflect.DeepEqual(got.Catchup, step.want) {
			t.Fatalf("after %s: saved %+v catch-up %+v, %v; want %+v", step.end, got, got.Catchup, err, step.want)
		}
	}
}
