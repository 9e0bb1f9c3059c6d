package pipeline

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema"
	"github.com/walrelay/walrelay/snapshot"
)

// snapBoundaryFixture is a session that streams from 0/100 with a file
// store in dir, as setup builds it before runSnapshot; stored is what it
// loaded (the store holds it too).
func snapBoundaryFixture(t *testing.T, dir string, stored checkpoint.Position, found bool) (*session, checkpoint.Store) {
	t.Helper()
	st, err := checkpoint.NewFileStore(dir, "s")
	if err != nil {
		t.Fatal(err)
	}
	if found {
		if err := st.Save(context.Background(), stored); err != nil {
			t.Fatal(err)
		}
	}
	tr := checkpoint.NewTracker(100, 1<<20)
	tr.SetWatermark(0x100)
	s := &session{cfg: &config.Config{DataDir: dir, Postgres: config.Postgres{Slot: "s"}}, log: zerolog.Nop(),
		store: st, stored: stored, found: found, start: 0x100, catchupRestart: make(chan struct{}, 1),
		enc:       schema.NewJSON(schema.Options{TopicPrefix: "app"}),
		committer: checkpoint.NewCommitter(tr, st, "s", time.Hour, zerolog.Nop())}
	return s, st
}

func snapRel(name string) *event.Relation {
	return &event.Relation{OID: 1, Schema: "public", Table: name, Version: 1, ReplicaIdentity: event.IdentityDefault,
		Columns: []event.Column{{Name: "id", TypeOID: 23, TypeName: "int4", TypeMod: -1, Key: true},
			{Name: "ver", TypeOID: 23, TypeName: "int4", TypeMod: -1}}}
}

// routed routes ch as a change of rel committed at commit and returns how
// many records it made.
func routed(t *testing.T, s *session, rel *event.Relation, commit event.LSN, ch *event.Change) int {
	t.Helper()
	ch.Tx, ch.Relation = &event.Tx{Xid: uint32(commit), CommitLSN: commit}, rel
	recs, err := s.route(ch)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// A snapshot taken at 0/500 while the stream starts at 0/100 (the slot
// existed: a retake after a crash, snapshot.mode always, when_needed) is
// stored as complete with 0/500 as the boundary of a catch-up of the tables
// it read, replacing the catch-up stored before (its signal stays
// handled). Then, in this session and in one that starts from the store
// after a kill, the stream leaves out those tables' changes before 0/500
// (the reads hold them: publishing them after the reads would take a key
// back to an older state), except a delete of a key the snapshot did not
// read; other tables and changes from 0/500 on are published.
func TestSnapshotAfterStreamStartKeepsOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a, b, other := snapRel("a"), snapRel("b"), snapRel("other")
	old := checkpoint.Position{LSN: 0x100, Slot: "s", Catchup: &checkpoint.Catchup{Tables: []string{"public.x"}, Signal: 0x150}}
	s, st := snapBoundaryFixture(t, dir, old, true)

	s.catchupBuild = newCatchupKeys() // as runSnapshot does before publishing the reads
	for _, id := range []int32{1, 2} {
		if n := routed(t, s, a, 0x500, &event.Change{Op: event.OpRead, After: []any{id, int32(3)}}); n != 1 {
			t.Fatalf("read of a id %d: %d records", id, n)
		}
	}
	tables := []snapshot.Table{{Schema: "public", Name: "b"}, {Schema: "public", Name: "a"}}
	if err := s.completeSnapshot(ctx, 0x500, tables, true); err != nil {
		t.Fatal(err)
	}
	s.catchupBuild = nil
	want := &checkpoint.Catchup{Tables: []string{"public.a", "public.b"}, Boundary: 0x500, Signal: 0x150}
	got, _, err := st.Load(ctx)
	if err != nil || got.LSN != 0x100 || !reflect.DeepEqual(got.Catchup, want) {
		t.Fatalf("stored %s %+v (%v), want 0/100 with catch-up %+v", got.LSN, got.Catchup, err, want)
	}

	check := func(s *session, when string) {
		t.Helper()
		steps := []struct {
			what   string
			rel    *event.Relation
			commit event.LSN
			ch     *event.Change
			want   bool
		}{
			{"an update of a read key before the boundary", a, 0x200, &event.Change{Op: event.OpUpdate, After: []any{int32(1), int32(2)}}, false},
			{"a delete of a read key before the boundary", a, 0x210, &event.Change{Op: event.OpDelete, Before: []any{int32(2), nil}}, false},
			{"a delete of a key of b, which it did not read", b, 0x215, &event.Change{Op: event.OpDelete, Before: []any{int32(1), nil}}, true},
			{"a delete of a key the snapshot did not read", a, 0x220, &event.Change{Op: event.OpDelete, Before: []any{int32(9), nil}}, true},
			{"a change of a table it did not read", other, 0x230, &event.Change{Op: event.OpUpdate, After: []any{int32(1), int32(2)}}, true},
			{"an update at the boundary", a, 0x500, &event.Change{Op: event.OpUpdate, After: []any{int32(1), int32(4)}}, true},
		}
		for _, st := range steps {
			if n := routed(t, s, st.rel, st.commit, st.ch); (n > 0) != st.want {
				t.Errorf("%s: %s: %d records, want published %v", when, st.what, n, st.want)
			}
		}
	}

	if err := s.runCatchup(ctx, snapshotDecision{take: true}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.committer.Catchup(), want) {
		t.Errorf("committer saves catch-up %+v, want %+v", s.committer.Catchup(), want)
	}
	check(s, "same session")

	// kill -9, then a start that takes no snapshot (initial, when_needed).
	loaded, found, err := st.Load(ctx)
	if err != nil || !found {
		t.Fatal(found, err)
	}
	s2, _ := snapBoundaryFixture(t, dir, loaded, true)
	if err := s2.runCatchup(ctx, snapshotDecision{}); err != nil {
		t.Fatal(err)
	}
	check(s2, "after a restart")
}

// A snapshot exported by the slot when it was created is at the stream's
// start: nothing to leave out. Its checkpoint drops the catch-up stored
// before, and the keys file of an older boundary goes.
func TestSnapshotAtStreamStartHasNoBoundary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	old := checkpoint.Position{LSN: 0x100, Slot: "s", Catchup: &checkpoint.Catchup{Tables: []string{"public.a"}, Boundary: 0x400}}
	s, st := snapBoundaryFixture(t, dir, old, true)
	keys := newCatchupKeys()
	keys.finish()
	if err := keys.save(dir, 0x400); err != nil {
		t.Fatal(err)
	}
	if err := s.completeSnapshot(ctx, 0x100, []snapshot.Table{{Schema: "public", Name: "a"}}, false); err != nil {
		t.Fatal(err)
	}
	if got, _, err := st.Load(ctx); err != nil || got.LSN != 0x100 || got.Catchup != nil {
		t.Fatalf("stored %s %+v (%v), want 0/100 without a catch-up", got.LSN, got.Catchup, err)
	}
	if err := s.runCatchup(ctx, snapshotDecision{take: true}); err != nil {
		t.Fatal(err)
	}
	if s.catchup != nil {
		t.Errorf("catch-up %+v armed", s.catchup)
	}
	if _, err := loadCatchupKeys(dir, 0x400); err == nil {
		t.Error("the old keys file is still there")
	}
	if n := routed(t, s, snapRel("a"), 0x200, &event.Change{Op: event.OpUpdate, After: []any{int32(1), int32(2)}}); n != 1 {
		t.Errorf("an update after the start: %d records, want 1", n)
	}
}
