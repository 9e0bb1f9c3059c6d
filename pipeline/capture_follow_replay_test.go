package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCapturesReplayUnderOldName: a table renamed rn4 -> rn5 while
// walrelay was stopped, started with postgres.tables: [public.rn5]. The
// replayed changes from before the rename arrive under public.rn4: they
// are captured with a note and no warning (postgres.tables is right; a
// warning told users to list public.rn4, which broke the next start). A
// rename after the session's start (rn5 -> rn6) still warns, naming the
// new name.
func TestCapturesReplayUnderOldName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE public.rn4 (id int PRIMARY KEY); ALTER TABLE public.rn4 RENAME TO rn5`)
	db := testenv.Connect(t, dsn)
	log := &syncBuffer{}
	s := &session{cfg: signalConfig("mine", "public.rn5"), db: db, log: zerolog.New(log), rs: &runState{}}
	follow, err := s.followTables(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.capture, err = s.newCaptureSet(ctx, follow); err != nil || s.capture == nil {
		t.Fatalf("capture set: %v, %v", s.capture, err)
	}
	oid, since := follow[0].OID, follow[0].Since
	change := func(table string, commit event.LSN) *event.Change {
		return &event.Change{Op: event.OpCreate, Tx: &event.Tx{CommitLSN: commit},
			Relation: &event.Relation{OID: oid, Schema: "public", Table: table}}
	}
	for _, ch := range []*event.Change{change("rn4", since-2), change("rn4", since-1), change("rn5", since+1)} {
		if !s.captures(ch) {
			t.Fatalf("%s not captured", ch.Relation.Table)
		}
	}
	if n := log.count(msgFollowed); n != 0 {
		t.Errorf("replayed changes under the old name warned %d times:\n%s", n, log)
	}
	if log.count(msgOldName) != 1 {
		t.Errorf("want one note %q:\n%s", msgOldName, log)
	}
	if !s.captures(change("rn6", since+10)) {
		t.Fatal("rn6 not captured")
	}
	if log.count(msgFollowed) != 1 || !strings.Contains(log.String(), "replace public.rn5 with public.rn6") {
		t.Errorf("a rename after the start: want one warning with the fix:\n%s", log)
	}
}

// TestFollowTablesNamesView: a view or materialized view in
// postgres.tables is refused at start naming its kind, as walrelay check
// does, not as "not a table in the database (renamed or dropped?)".
func TestFollowTablesNamesView(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE public.t (id int PRIMARY KEY); CREATE VIEW public.vw AS SELECT * FROM public.t;
		CREATE MATERIALIZED VIEW public.mv AS SELECT * FROM public.t`)
	db := testenv.Connect(t, dsn)
	for table, kind := range map[string]string{"public.vw": "is a view", "public.mv": "is a materialized view"} {
		s := &session{cfg: signalConfig("mine", "public.t", table), db: db, log: zerolog.Nop(), rs: &runState{}}
		_, err := s.followTables(ctx, nil)
		if err == nil || !strings.Contains(err.Error(), table+", which "+kind) || strings.Contains(err.Error(), "renamed") {
			t.Errorf("%s: got %v, want it named %q", table, err, kind)
		}
	}
}
