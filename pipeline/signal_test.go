package pipeline

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/testenv"
)

func TestParseSnapshotSignal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in     string
		slot   string
		tables []string
		ok     bool
	}{
		{`{"tables":["public.a"]}`, "", []string{"public.a"}, true}, // README's hand-written form, older walrelays
		{`{"slot":"s1","tables":["public.a","x.y"]}`, "s1", []string{"public.a", "x.y"}, true},
		{`{"tables":["public.a"],"slot":"s1","extra":1}`, "s1", []string{"public.a"}, true},
		{`{"tables":[]}`, "", nil, false},
		{`{"slot":"s1"}`, "s1", nil, false},
		{`public.a`, "", nil, false},
		{``, "", nil, false},
		{`{"tables":"public.a"}`, "", nil, false},
	}
	for _, c := range cases {
		sig, err := parseSnapshotSignal([]byte(c.in))
		if (err == nil) != c.ok {
			t.Errorf("%q: error %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if c.ok && (sig.Slot != c.slot || !slices.Equal(sig.Tables, c.tables)) {
			t.Errorf("%q: %+v, want slot %q tables %q", c.in, sig, c.slot, c.tables)
		}
	}
}

func FuzzParseSnapshotSignal(f *testing.F) {
	f.Add([]byte(`{"slot":"s1","tables":["public.a"]}`))
	f.Add([]byte(`{"tables":["public.a"]}`))
	f.Add([]byte(`{"tables":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := parseSnapshotSignal(b)
		if err == nil && len(sig.Tables) == 0 {
			t.Fatalf("%q parsed without tables", b)
		}
	})
}

func signalConfig(slot string, tables ...string) *config.Config {
	cfg := &config.Config{}
	cfg.Postgres.Slot, cfg.Postgres.Publication, cfg.Postgres.Tables = slot, "pub", tables
	return cfg
}

// TestCapturedTablesFromConfig: postgres.tables and rules decide without a
// connection; walrelay's own checkpoint table and names that are not
// schema.table are never captured.
func TestCapturedTablesFromConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	listed := signalConfig("s", "public.a", "sales.b")
	listed.Checkpoint.Store = "postgres"
	captured, other, err := CapturedTables(ctx, listed, nil, nil,
		[]string{"sales.b", "public.z", "public.a", checkpoint.TableName, "nodot", ".a", "public."})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sales.b", "public.a"}; !slices.Equal(captured, want) {
		t.Errorf("postgres.tables: captured %q, want %q", captured, want)
	}
	if want := []string{"public.z", checkpoint.TableName, "nodot", ".a", "public."}; !slices.Equal(other, want) {
		t.Errorf("postgres.tables: other %q, want %q", other, want)
	}

	ruled := signalConfig("s")
	ruled.Rules = "rules.yaml"
	rules, err := filter.Parse("rules.yaml", []byte("default: drop\nrules:\n  - tables: [\"sales.*\"]\n  - tables: [public.gone]\n    drop: true\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	captured, other, err = CapturedTables(ctx, ruled, rules, nil, []string{"sales.x", "public.gone", "public.a"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(captured, []string{"sales.x"}) || !slices.Equal(other, []string{"public.gone", "public.a"}) {
		t.Errorf("rules: captured %q other %q, want [sales.x] [public.gone public.a]", captured, other)
	}
	if PublicationDecides(listed) || PublicationDecides(ruled) {
		t.Errorf("PublicationDecides with postgres.tables or managed rules")
	}
}

// TestCapturedTablesFromPublication: without postgres.tables and rules the
// publication decides; one that does not exist yet will be FOR ALL TABLES.
func TestCapturedTablesFromPublication(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE public.a (id int PRIMARY KEY); CREATE TABLE public.b (id int PRIMARY KEY)")
	db := testenv.Connect(t, dsn)
	cfg := signalConfig("s")
	if !PublicationDecides(cfg) {
		t.Fatal("PublicationDecides false without tables and rules")
	}
	names := []string{"public.a", "public.b"}
	captured, other, err := CapturedTables(ctx, cfg, nil, db, names)
	if err != nil || !slices.Equal(captured, names) || other != nil {
		t.Errorf("no publication yet: captured %q other %q (%v), want all", captured, other, err)
	}
	testenv.ExecDSN(t, dsn, "CREATE PUBLICATION pub FOR TABLE public.a")
	captured, other, err = CapturedTables(ctx, cfg, nil, db, names)
	if err != nil || !slices.Equal(captured, []string{"public.a"}) || !slices.Equal(other, []string{"public.b"}) {
		t.Errorf("publication of public.a: captured %q other %q (%v)", captured, other, err)
	}
}

// signalHarness is a publisher whose session streams from slot "mine" and
// captures public.a and public.b, with a real committer.
type signalHarness struct {
	p     *publisher
	s     *session
	store *lastPosition
	log   *bytes.Buffer
}

func newSignalHarness(t *testing.T) *signalHarness {
	t.Helper()
	h := &signalHarness{store: &lastPosition{}, log: &bytes.Buffer{}}
	tr := checkpoint.NewTracker(100, 1<<20)
	cm := checkpoint.NewCommitter(tr, h.store, "mine", time.Hour, zerolog.Nop())
	h.s = &session{cfg: signalConfig("mine", "public.a", "public.b"), committer: cm,
		log: zerolog.New(h.log), catchupRestart: make(chan struct{}, 1)}
	h.p = &publisher{s: h.s}
	return h
}

// signal handles a snapshot signal with content at lsn and reports whether
// the session was asked to restart.
func (h *signalHarness) signal(t *testing.T, lsn event.LSN, content string) bool {
	t.Helper()
	ch := &event.Change{Op: event.OpMessage, Tx: &event.Tx{Xid: 1, CommitLSN: lsn}, LSN: lsn,
		Message: &event.LogicalMessage{Prefix: SnapshotSignalPrefix, Content: []byte(content)}}
	if !isSnapshotSignal(ch) {
		t.Fatalf("%s is not a snapshot signal", content)
	}
	if err := h.p.snapshotSignal(context.Background(), ch); err != nil {
		t.Fatalf("signal %s: %v", content, err)
	}
	select {
	case <-h.s.catchupRestart:
		return true
	default:
		return false
	}
}

func (h *signalHarness) catchup() *checkpoint.Catchup {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	return h.store.p.Catchup
}

// TestSnapshotSignalScope: a walrelay answers the signals for its slot and
// those without a slot, only for the tables it captures; signals for
// another slot or for none of its tables neither restart the session nor
// record a catch-up.
func TestSnapshotSignalScope(t *testing.T) {
	t.Parallel()
	h := newSignalHarness(t)
	if h.signal(t, 0x100, `{"slot":"other","tables":["public.a"]}`) || h.catchup() != nil {
		t.Fatalf("a signal for another slot restarted the session or recorded %+v", h.catchup())
	}
	if !strings.Contains(h.log.String(), "snapshot signal for the walrelay of another slot ignored") ||
		!strings.Contains(h.log.String(), `"level":"info"`) {
		t.Errorf("no info line for the other slot's signal:\n%s", h.log)
	}
	if h.signal(t, 0x200, `{"slot":"mine","tables":["public.z","other.t"]}`) || h.catchup() != nil {
		t.Fatalf("a signal for tables not captured restarted the session or recorded %+v", h.catchup())
	}
	if !strings.Contains(h.log.String(), "snapshot signal: tables this walrelay does not capture are ignored") {
		t.Errorf("no line for the tables not captured:\n%s", h.log)
	}
	if !h.signal(t, 0x300, `{"slot":"mine","tables":["public.b","public.z","public.b"]}`) {
		t.Fatal("a signal for this slot and a captured table did not restart the session")
	}
	if cu := h.catchup(); cu == nil || !slices.Equal(cu.Tables, []string{"public.b"}) || cu.Signal != 0x300 {
		t.Fatalf("catch-up %+v, want public.b for the signal at 0/300", cu)
	}
	if !h.signal(t, 0x400, `{"tables":["public.a"]}`) {
		t.Fatal("a signal without a slot (hand-written, older walrelay) did not restart the session")
	}
	if cu := h.catchup(); cu == nil || !slices.Equal(cu.Tables, []string{"public.a", "public.b"}) || cu.Signal != 0x400 {
		t.Fatalf("catch-up %+v, want public.a and public.b for the signal at 0/400", cu)
	}
	if h.signal(t, 0x400, `{"tables":["public.a"]}`) {
		t.Error("the signal at 0/400 was answered twice")
	}
	if h.signal(t, 0x500, `not json`) {
		t.Error("a signal that does not parse restarted the session")
	}
}

// TestCapturedTablesFollowed: the current name of a table of
// postgres.tables renamed since walrelay started (followed by OID) is
// captured: `walrelay snapshot` finds it by the OID saved in data_dir, a
// running session by its capture set, and a signal naming it records its
// catch-up; other names are still refused.
func TestCapturedTablesFollowed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE public.a (id int PRIMARY KEY); CREATE TABLE public.b (id int PRIMARY KEY)")
	db := testenv.Connect(t, dsn)
	byName, err := tablesByName(ctx, db, []string{"public.a", "public.b"})
	if err != nil {
		t.Fatal(err)
	}
	var follow []followedTable
	for oid, name := range byName {
		follow = append(follow, followedTable{OID: oid, Listed: name, Name: name})
	}
	testenv.ExecDSN(t, dsn, "ALTER TABLE public.a RENAME TO a2; CREATE TABLE public.z (id int PRIMARY KEY)")
	cfg := signalConfig("mine", "public.a", "public.b")
	cfg.Postgres.DSN, cfg.DataDir = dsn, t.TempDir()
	if err := saveFollowFile(cfg.DataDir, follow); err != nil {
		t.Fatal(err)
	}
	captured, other, err := CapturedTables(ctx, cfg, nil, db, []string{"public.a2", "public.b", "public.z"})
	if err != nil || !slices.Equal(captured, []string{"public.a2", "public.b"}) || !slices.Equal(other, []string{"public.z"}) {
		t.Errorf("walrelay snapshot: captured %q other %q (%v); want public.a2 (renamed) and public.b", captured, other, err)
	}

	h := newSignalHarness(t)
	h.s.cfg = cfg
	h.s.capture = &captureSet{oids: map[uint32]*followedTable{}}
	for i := range follow {
		h.s.capture.oids[follow[i].OID] = &follow[i]
	}
	if !h.signal(t, 0x100, `{"slot":"mine","tables":["public.a2","public.z"]}`) {
		t.Fatalf("a signal naming the renamed table did not restart the session:\n%s", h.log)
	}
	if cu := h.catchup(); cu == nil || !slices.Equal(cu.Tables, []string{"public.a2"}) {
		t.Fatalf("catch-up %+v, want public.a2", cu)
	}
}
