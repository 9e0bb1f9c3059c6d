package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestWatchPublicationRecreated: a table of postgres.tables dropped and
// created again under its name while the session streams is not reported
// as removed from the publication by hand: the warning says it was dropped
// and re-created (new OID); the session restarts to add and snapshot it as
// for a table removed by hand.
func TestWatchPublicationRecreated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE public.a (id int PRIMARY KEY); CREATE TABLE public.b (id int PRIMARY KEY);
		CREATE PUBLICATION pub FOR TABLE public.a, public.b`)
	db := testenv.Connect(t, dsn)
	cfg := signalConfig("mine", "public.a", "public.b")
	cfg.Postgres.DSN, cfg.Publication.PollInterval, cfg.Snapshot.Mode = dsn, 20*time.Millisecond, config.SnapshotInitial
	store, log := &lastPosition{}, &syncBuffer{}
	cm := checkpoint.NewCommitter(checkpoint.NewTracker(100, 1<<20), store, "mine", time.Hour, zerolog.Nop())
	s := &session{cfg: cfg, db: db, committer: cm, log: zerolog.New(log),
		catchupRestart: make(chan struct{}, 1), rs: &runState{}}
	follow, err := s.followTables(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.capture, err = s.newCaptureSet(ctx, follow); err != nil || s.capture == nil {
		t.Fatalf("capture set: %v, %v", s.capture, err)
	}
	stop := s.watchPublication(ctx)
	defer stop()
	testenv.ExecDSN(t, dsn, "DROP TABLE public.b; CREATE TABLE public.b (id int PRIMARY KEY)")
	select {
	case <-s.catchupRestart:
	case <-time.After(10 * time.Second):
		t.Fatalf("no restart after public.b was re-created; log:\n%s", log)
	}
	stop()
	if log.count(msgRecreatedRestart) != 1 || log.count(msgRemovedRestart) != 0 {
		t.Errorf("want one %q warning and no %q:\n%s", msgRecreatedRestart, msgRemovedRestart, log)
	}
}
