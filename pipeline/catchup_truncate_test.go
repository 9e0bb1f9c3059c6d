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
)

// truncFixture is a session streaming under a blocking catch-up of
// public.a and public.b (boundary 0/500, signal 0/150; the snapshot read
// key 1 of each), with a committer over a file store at 0/100. tx routes
// changes in a transaction committed at commit and ending at end, each of
// table rel, and returns how many records they made; saved flushes and
// fails t unless the store then holds the catch-up want.
func truncFixture(t *testing.T, truncated ...string) (s *session, a, b *event.Relation,
	tx func(commit, end event.LSN, rel *event.Relation, changes ...*event.Change) int, saved func(want *checkpoint.Catchup)) {
	t.Helper()
	rel := func(name string) *event.Relation {
		return &event.Relation{OID: 1, Schema: "public", Table: name, Version: 1, ReplicaIdentity: event.IdentityDefault,
			Columns: []event.Column{{Name: "id", TypeOID: 23, TypeName: "int4", TypeMod: -1, Key: true}}}
	}
	a, b = rel("a"), rel("b")
	cu := &checkpoint.Catchup{Tables: []string{"public.a", "public.b"}, Boundary: 0x500, Signal: 0x150, Truncated: truncated}
	tr := checkpoint.NewTracker(100, 1<<20)
	tr.SetWatermark(0x100)
	st, err := checkpoint.NewFileStore(t.TempDir(), "s")
	if err != nil {
		t.Fatal(err)
	}
	s = &session{cfg: &config.Config{}, log: zerolog.Nop(), catchup: cu, catchupRestart: make(chan struct{}, 1),
		enc:       schema.NewJSON(schema.Options{TopicPrefix: "app"}),
		committer: checkpoint.NewCommitter(tr, st, "s", time.Hour, zerolog.Nop())}
	keys := newCatchupKeys()
	keys.add(a, []any{int32(1)})
	keys.add(b, []any{int32(1)})
	keys.finish()
	s.catchupKeys = keys
	s.committer.SetCatchup(cu)
	tx = func(commit, end event.LSN, rel *event.Relation, changes ...*event.Change) int {
		t.Helper()
		x, n := tr.Begin(commit), 0
		for _, ch := range changes {
			ch.Tx, ch.Relation = &event.Tx{Xid: uint32(commit), CommitLSN: commit}, rel
			recs, err := s.route(ch)
			if err != nil {
				t.Fatal(err)
			}
			n += len(recs)
		}
		s.catchupAtCommit(end)
		x.Commit(end)
		return n
	}
	saved = func(want *checkpoint.Catchup) {
		t.Helper()
		if err := s.committer.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, _, err := st.Load(context.Background())
		if err != nil || !reflect.DeepEqual(got.Catchup, want) {
			t.Fatalf("at %s: saved catch-up %+v (%v), want %+v", got.LSN, got.Catchup, err, want)
		}
	}
	return s, a, b, tx, saved
}

func trunc() *event.Change { return &event.Change{Op: event.OpTruncate} }

func insert(id int32) *event.Change { return &event.Change{Op: event.OpCreate, After: []any{id}} }

func del(id int32) *event.Change { return &event.Change{Op: event.OpDelete, Before: []any{id}} }

// A TRUNCATE of a blocking catch-up's table before its boundary is
// published; from then on nothing of that table is, also past the
// boundary, while the other table streams as before. Positions from the
// truncate's end on carry the catch-up of both tables to take again (a
// kill there takes it again); once the stream passes the boundary, the
// catch-up of the truncated table only, Truncated, and the session is
// asked to restart. A position before the truncate's end keeps the old
// catch-up: a kill there meets the truncate again.
func TestCatchupTruncatePublishedAndTakenAgain(t *testing.T) {
	t.Parallel()
	s, a, b, tx, saved := truncFixture(t)
	old := s.catchup
	if n := tx(0x180, 0x190, a, del(1), insert(7)); n != 0 {
		t.Errorf("before the truncate: %d records of a, want its changes left out", n)
	}
	saved(old)
	if n := tx(0x200, 0x280, a, trunc(), insert(8)); n != 1 {
		t.Fatalf("a truncate of a before the boundary: %d records, want it alone published", n)
	}
	all := &checkpoint.Catchup{Tables: old.Tables, Signal: old.Signal, Truncated: []string{"public.a"}}
	saved(all)
	if n := tx(0x300, 0x380, a, trunc(), del(9)); n != 0 {
		t.Errorf("a's changes after its truncate: %d records, want none", n)
	}
	if n := tx(0x390, 0x3a0, b, del(9), insert(9)); n != 1 {
		t.Errorf("b's changes before the boundary: %d records, want its uncovered delete", n)
	}
	if len(s.catchupRestart) != 0 {
		t.Fatal("the session was asked to restart before the stream passed the boundary")
	}
	saved(all)
	if n := tx(0x600, 0x680, b, insert(2)); n != 1 {
		t.Errorf("b past the boundary: %d records, want its insert", n)
	}
	select {
	case <-s.catchupRestart:
	default:
		t.Error("the session was not asked to restart once the stream passed the boundary")
	}
	saved(&checkpoint.Catchup{Tables: []string{"public.a"}, Signal: old.Signal, Truncated: []string{"public.a"}})
	if n := tx(0x700, 0x780, a, insert(3)); n != 0 {
		t.Errorf("a past the boundary: %d records, want none until its catch-up is taken again", n)
	}
}

// A table truncated before the boundary of a catch-up taken again for an
// earlier truncate of it (Truncated) has its truncates left out like its
// other changes: downstream holds nothing of it but that catch-up's reads.
// The other table's truncate is still published.
func TestCatchupTruncateTakenAgainOnce(t *testing.T) {
	t.Parallel()
	s, a, b, tx, saved := truncFixture(t, "public.a")
	old := s.catchup
	if n := tx(0x200, 0x280, a, trunc()); n != 0 {
		t.Errorf("a truncated again: %d records, want it left out", n)
	}
	saved(old)
	if n := tx(0x300, 0x380, b, trunc()); n != 1 {
		t.Errorf("b truncated: %d records, want it published", n)
	}
	saved(&checkpoint.Catchup{Tables: old.Tables, Signal: old.Signal, Truncated: []string{"public.b"}})
	s.catchupIdle(0x400) // a keepalive before the boundary
	if len(s.catchupRestart) != 0 {
		t.Fatal("restart asked before the boundary")
	}
	s.catchupIdle(0x500)
	if len(s.catchupRestart) != 1 || s.catchup != nil {
		t.Fatal("a keepalive at the boundary did not pass it and ask for the restart")
	}
}
