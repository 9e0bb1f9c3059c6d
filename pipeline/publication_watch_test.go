package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestJudgeMembership: a table that exists outside the publication was
// removed by hand; one that no longer exists is gone; the rest are fine.
func TestJudgeMembership(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		ms            []membership
		removed, gone []string
	}{
		{"all held", []membership{{"public.a", true, true}, {"public.b", true, true}}, nil, nil},
		{"one removed", []membership{{"public.a", true, true}, {"public.b", true, false}}, []string{"public.b"}, nil},
		{"one dropped", []membership{{"public.a", false, false}, {"public.b", true, true}}, nil, []string{"public.a"}},
		{"both", []membership{{"s.x", true, false}, {"s.y", false, false}, {"s.z", true, false}},
			[]string{"s.x", "s.z"}, []string{"s.y"}},
		{"none", nil, nil, nil},
	}
	for _, c := range cases {
		removed, gone := judgeMembership(c.ms)
		if !slices.Equal(removed, c.removed) || !slices.Equal(gone, c.gone) {
			t.Errorf("%s: removed %q gone %q, want %q %q", c.name, removed, gone, c.removed, c.gone)
		}
	}
}

// TestWatchesPublication: only a session without rules, with
// postgres.tables and a managed publication watches it.
func TestWatchesPublication(t *testing.T) {
	t.Parallel()
	off := false
	cases := []struct {
		name string
		set  func(*config.Config)
		want bool
	}{
		{"tables, managed by default", func(*config.Config) {}, true},
		{"manage: true", func(c *config.Config) { on := true; c.Publication.Manage = &on }, true},
		{"manage: false", func(c *config.Config) { c.Publication.Manage = &off }, false},
		{"rules file", func(c *config.Config) { c.Rules = "rules.yaml" }, false},
		{"no tables (FOR ALL TABLES)", func(c *config.Config) { c.Postgres.Tables = nil }, false},
	}
	for _, c := range cases {
		cfg := signalConfig("s", "public.a")
		c.set(cfg)
		if got := watchesPublication(cfg); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// syncBuffer is a log sink that the watch goroutine and the test share.
type syncBuffer struct{ testenv.SyncBuffer }

func (s *syncBuffer) count(msg string) int { return strings.Count(s.String(), `"message":"`+msg+`"`) }

// fakeWatch is a publicationWatch whose checks return the next of results
// and whose putBack records its calls.
type fakeWatch struct {
	w       *publicationWatch
	log     *syncBuffer
	results []func() (pubState, error)
	putErr  error
	put     [][]string
}

func newFakeWatch() *fakeWatch {
	f := &fakeWatch{log: &syncBuffer{}}
	f.w = &publicationWatch{pub: "pub", every: time.Second, log: zerolog.New(f.log), gone: map[string]bool{},
		check: func(context.Context) (pubState, error) {
			r := f.results[0]
			f.results = f.results[1:]
			return r()
		},
		putBack: func(_ context.Context, removed []string) (bool, error) {
			f.put = append(f.put, removed)
			return f.putErr == nil, f.putErr
		},
	}
	return f
}

func held(tables ...membership) func() (pubState, error) {
	return func() (pubState, error) { return pubState{tables: tables}, nil }
}

func failing(err error) func() (pubState, error) {
	return func() (pubState, error) { return pubState{}, err }
}

// TestPublicationWatchTick: failed checks are logged once per streak and
// the recovery once; a gone table is logged once and does not end the
// watch; a removed table is put back, which ends the watch when the session
// restarts; a failure to put it back is a failed check, retried.
func TestPublicationWatchTick(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFakeWatch()
	a, b := membership{"public.a", true, true}, membership{"public.b", true, true}
	f.results = []func() (pubState, error){
		failing(errors.New("connection refused")), failing(errors.New("connection refused")),
		held(a, b),
		failing(errPublicationGone), held(a, b),
		held(a, membership{"public.b", false, false}), held(a, membership{"public.b", false, false}),
	}
	for i := range 7 {
		if f.w.tick(ctx) {
			t.Fatalf("tick %d ended the watch", i)
		}
	}
	if n := f.log.count(msgWatchFailing); n != 2 {
		t.Errorf("%d failure lines for two streaks, want 2:\n%s", n, f.log)
	}
	if n := f.log.count(msgWatchBack); n != 2 {
		t.Errorf("%d recovery lines, want 2:\n%s", n, f.log)
	}
	if n := f.log.count(msgTableGone); n != 1 || !strings.Contains(f.log.String(), `"table":"public.b"`) {
		t.Errorf("gone table logged %d times (want once, naming public.b):\n%s", n, f.log)
	}
	if len(f.put) != 0 {
		t.Fatalf("put back %q with nothing removed", f.put)
	}

	removed := held(a, membership{"public.b", true, false})
	f.putErr = errors.New("store down")
	f.results = []func() (pubState, error){removed, removed}
	if f.w.tick(ctx) || f.w.tick(ctx) {
		t.Fatal("a failed put-back ended the watch")
	}
	if n := f.log.count(msgWatchFailing); n != 3 || !strings.Contains(f.log.String(), "store down") {
		t.Errorf("a failed put-back streak logged %d failure lines in all, want 3:\n%s", n, f.log)
	}
	f.putErr = nil
	f.results = []func() (pubState, error){removed}
	if !f.w.tick(ctx) {
		t.Fatal("a put-back that restarts the session did not end the watch")
	}
	if want := [][]string{{"public.b"}, {"public.b"}, {"public.b"}}; !slices.EqualFunc(f.put, want, slices.Equal) {
		t.Errorf("put back %q, want %q", f.put, want)
	}

	g := newFakeWatch()
	g.results = []func() (pubState, error){func() (pubState, error) { return pubState{all: true}, nil }}
	if !g.w.tick(ctx) || len(g.put) != 0 {
		t.Errorf("a FOR ALL TABLES publication: watch not ended, or put back %q", g.put)
	}
}

// TestReadMembership reads a real catalog: listed tables, a partitioned
// table, a table in a listed schema (PostgreSQL 15+), a table removed by
// hand and one that does not exist; a FOR ALL TABLES publication and a
// missing one.
func TestReadMembership(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE SCHEMA s;
		CREATE TABLE public.a (id int PRIMARY KEY); CREATE TABLE public.b (id int PRIMARY KEY);
		CREATE TABLE public.p (id int PRIMARY KEY) PARTITION BY RANGE (id);
		CREATE TABLE public.p1 PARTITION OF public.p FOR VALUES FROM (0) TO (10);
		CREATE TABLE s.c (id int PRIMARY KEY);
		CREATE PUBLICATION pub FOR TABLE public.a, public.b, public.p;
		CREATE PUBLICATION everything FOR ALL TABLES`)
	db := testenv.Connect(t, dsn)
	ctx := context.Background()
	var version int
	if err := db.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version >= pubNamespaceVersion {
		testenv.ExecDSN(t, dsn, "ALTER PUBLICATION pub ADD TABLES IN SCHEMA s")
	}
	testenv.ExecDSN(t, dsn, "ALTER PUBLICATION pub DROP TABLE public.b")
	tables := []string{"public.a", "public.b", "public.p", "s.c", "public.nosuch", "nosuch.a"}
	st, err := readMembership(ctx, db, "pub", tables, version)
	if err != nil {
		t.Fatal(err)
	}
	want := []membership{{"public.a", true, true}, {"public.b", true, false}, {"public.p", true, true},
		{"s.c", true, version >= pubNamespaceVersion}, {"public.nosuch", false, false}, {"nosuch.a", false, false}}
	if st.all || !slices.Equal(st.tables, want) {
		t.Errorf("pub: %+v, want %+v", st, want)
	}
	if st, err := readMembership(ctx, db, "everything", tables, version); err != nil || !st.all {
		t.Errorf("FOR ALL TABLES: %+v, %v", st, err)
	}
	if _, err := readMembership(ctx, db, "gone", tables, version); !errors.Is(err, errPublicationGone) {
		t.Errorf("missing publication: %v, want errPublicationGone", err)
	}
}

// watchHarness is a streaming session without rules, capturing public.a
// and public.b through publication pub, with a real committer, whose
// publication watch polls every 20ms.
type watchHarness struct {
	s     *session
	dsn   string
	store *lastPosition
	log   *syncBuffer
	stop  func()
}

func newWatchHarness(t *testing.T, mode string) *watchHarness {
	t.Helper()
	h := &watchHarness{dsn: testenv.PG(t).NewDatabase(t), store: &lastPosition{}, log: &syncBuffer{}}
	testenv.ExecDSN(t, h.dsn, `CREATE TABLE public.a (id int PRIMARY KEY); CREATE TABLE public.b (id int PRIMARY KEY);
		CREATE PUBLICATION pub FOR TABLE public.a, public.b`)
	cfg := signalConfig("mine", "public.a", "public.b")
	cfg.Postgres.DSN, cfg.Publication.PollInterval, cfg.Snapshot.Mode = h.dsn, 20*time.Millisecond, mode
	cm := checkpoint.NewCommitter(checkpoint.NewTracker(100, 1<<20), h.store, "mine", time.Hour, zerolog.Nop())
	h.s = &session{cfg: cfg, committer: cm, log: zerolog.New(h.log), catchupRestart: make(chan struct{}, 1)}
	h.stop = h.s.watchPublication(context.Background())
	t.Cleanup(h.stop)
	return h
}

// restarted waits up to d for the session to be asked to restart.
func (h *watchHarness) restarted(d time.Duration) bool {
	select {
	case <-h.s.catchupRestart:
		return true
	default:
		if d == 0 {
			return false
		}
	}
	select {
	case <-h.s.catchupRestart:
		return true
	case <-time.After(d):
		return false
	}
}

// TestWatchPublicationRestarts: a table removed from the publication by
// hand is recorded as a catch-up, durably, and the session is asked to
// restart, with a warning naming it; the watch then ends.
func TestWatchPublicationRestarts(t *testing.T) {
	t.Parallel()
	h := newWatchHarness(t, config.SnapshotInitial)
	if h.restarted(200 * time.Millisecond) {
		t.Fatal("restart asked with the publication intact")
	}
	testenv.ExecDSN(t, h.dsn, "ALTER PUBLICATION pub DROP TABLE public.b")
	if !h.restarted(10 * time.Second) {
		t.Fatalf("no restart after public.b left the publication; log:\n%s", h.log)
	}
	if h.restarted(200 * time.Millisecond) { // 10 polls
		t.Error("restart asked twice: the watch did not end")
	}
	h.stop()
	h.store.mu.Lock()
	cu := h.store.p.Catchup
	h.store.mu.Unlock()
	if cu == nil || !slices.Equal(cu.Tables, []string{"public.b"}) {
		t.Errorf("stored catch-up %+v, want public.b", cu)
	}
	if h.log.count(msgRemovedRestart) != 1 || !strings.Contains(h.log.String(), `"table":"public.b","publication":"pub"`) {
		t.Errorf("no single warning naming public.b and pub:\n%s", h.log)
	}
}

// TestWatchPublicationNever: with snapshot.mode never the table is added
// back at once, with a warning, and the session streams on; a table that
// is dropped is logged once and nothing else happens.
func TestWatchPublicationNever(t *testing.T) {
	t.Parallel()
	h := newWatchHarness(t, config.SnapshotNever)
	db := testenv.Connect(t, h.dsn)
	testenv.ExecDSN(t, h.dsn, "ALTER PUBLICATION pub DROP TABLE public.b")
	deadline := time.Now().Add(10 * time.Second)
	for h.log.count(msgRemovedReadded) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	st, err := readMembership(context.Background(), db, "pub", []string{"public.b"}, 0)
	if err != nil || len(st.tables) != 1 || !st.tables[0].member {
		t.Fatalf("public.b not added back (%+v, %v); log:\n%s", st, err, h.log)
	}
	testenv.ExecDSN(t, h.dsn, "DROP TABLE public.b")
	time.Sleep(300 * time.Millisecond) // many polls
	if h.restarted(0) {
		t.Error("restart asked with snapshot.mode never")
	}
	if n := h.log.count(msgTableGone); n != 1 {
		t.Errorf("dropped table logged %d times, want once:\n%s", n, h.log)
	}
	if n := h.log.count(msgRemovedReadded); n != 1 {
		t.Errorf("added back %d times, want once:\n%s", n, h.log)
	}
	if h.log.count(msgWatchFailing) != 0 {
		t.Errorf("a check failed:\n%s", h.log)
	}
}
