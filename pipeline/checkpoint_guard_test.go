package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestVerifyStored: a checkpoint ahead of the server's WAL, or of another
// system, is refused with both sides named; one of an older walrelay (no
// identity), one at or behind the WAL and one of a renamed database pass.
func TestVerifyStored(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{DataDir: "/data"}
	cfg.Postgres.Slot = "s1"
	pos := func(lsn event.LSN, sys, db string) checkpoint.Position {
		return checkpoint.Position{LSN: lsn, SystemID: sys, Database: db}
	}
	cases := []struct {
		name   string
		p      checkpoint.Position
		wal    event.LSN
		wantIn []string // empty: accepted
	}{
		{"behind", pos(0x100, "7", "app"), 0x200, nil},
		{"at the WAL", pos(0x200, "7", "app"), 0x200, nil},
		{"old walrelay, no identity", pos(0x100, "", ""), 0x200, nil},
		{"ahead", pos(0x128226B8, "7", "app"), 0xE822178, []string{"0/128226B8", "0/E822178", "ahead of the server's current WAL",
			"mv /data/checkpoint.json", "restored from"}},
		{"other system", pos(0x100, "8", "app"), 0x200, []string{"system 8", "system 7", "another"}},
		{"other system, other database", pos(0x100, "8", "other"), 0x200, []string{`database "other"`, `database "app"`}},
		// LSNs are cluster-wide and a slot name unique in a cluster: a
		// database renamed since keeps its checkpoint (audit auditc3 1).
		{"database renamed", pos(0x100, "7", "old"), 0x200, nil},
	}
	for _, tc := range cases {
		err := VerifyStored(cfg, tc.p, "7", "app", tc.wal)
		if len(tc.wantIn) == 0 {
			if err != nil {
				t.Errorf("%s: %v; want accepted", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted; want refused", tc.name)
			continue
		}
		for _, w := range tc.wantIn {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.name, err, w)
			}
		}
	}
}

// TestCheckpointOfFailedSaves: a session that halted before its first save
// reports the checkpoint it loaded, not 0/0 (audit finding 5); a session
// that loaded none reports the one the Run knows.
func TestCheckpointOfFailedSaves(t *testing.T) {
	t.Parallel()
	tr := checkpoint.NewTracker(10, 1<<20)
	dir := t.TempDir()
	store, err := checkpoint.NewFileStore(dir, "s1")
	if err != nil {
		t.Fatal(err)
	}
	rs := &runState{}
	cfg := &config.Config{}
	s := &session{rs: rs, cfg: cfg, found: true, stored: checkpoint.Position{LSN: 0x31ED78A8},
		committer: checkpoint.NewCommitter(tr, store, "s1", time.Second, zerolog.Nop())}
	if st := rs.statusOf(s, StateRestarting); st.Checkpoint != "0/31ED78A8" {
		t.Fatalf("report's checkpoint = %q; want the loaded 0/31ED78A8", st.Checkpoint)
	}
	rs.known, rs.knownOK = checkpoint.Position{LSN: 0x500}, true
	if st := rs.statusOf(&session{rs: rs, cfg: cfg}, StateRestarting); st.Checkpoint != "0/500" {
		t.Fatalf("report's checkpoint of a session that loaded none = %q; want the Run's 0/500", st.Checkpoint)
	}
}

// TestRestoreVanished: a session that finds no checkpoint while the Run
// holds one writes it back (re-creating data_dir) with a warning, and
// takes the data_dir lock again when its file vanished (audit finding 2).
func TestRestoreVanished(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "d")
	cfg := &config.Config{DataDir: dir}
	cfg.Postgres.Slot = "s1"
	lock, err := takeDataDirLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.release()
	if err := os.RemoveAll(dir); err != nil { // deleted under the running process
		t.Fatal(err)
	}
	store, err := checkpoint.NewFileStore(dir, "s1") // as the next session opens it
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	held := checkpoint.Position{LSN: 0x16B3748, Slot: "s1", Catchup: &checkpoint.Catchup{Tables: []string{"public.t"}, Boundary: 0x16B4000}}
	rs := &runState{known: held, knownOK: true, lock: lock}
	defer rs.close()
	s := &session{cfg: cfg, rs: rs, store: store, log: zerolog.New(&logs)}
	ctx := context.Background()
	if _, found, _ := store.Load(ctx); found {
		t.Fatal("a checkpoint is stored before the write-back")
	}
	if err := s.relockDataDir(); err != nil {
		t.Fatal(err)
	}
	if err := s.writeBack(ctx, 0); err != nil { // no slot confirmed past it
		t.Fatal(err)
	}
	got, found, err := store.Load(ctx)
	if err != nil || !found || got.LSN != held.LSN || got.Catchup == nil || got.Catchup.Boundary != 0x16B4000 || !s.found {
		t.Fatalf("after the write-back: %+v, %v, %v (session found %v); want the held checkpoint with its catch-up", got, found, err, s.found)
	}
	if out := logs.String(); strings.Count(out, `"level":"warn"`) != 2 || !strings.Contains(out, "vanished") ||
		!strings.Contains(out, "0/16B3748") {
		t.Fatalf("log %s: want a warning for the checkpoint and one for the lock", out)
	}
	if _, err := lockDataDir(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("a second lock of the re-created data_dir: %v; want refused", err)
	}
}

// TestRefusedCheckpointNotReported: the "stopped" line after a refused
// checkpoint does not report the refused LSN as the process's checkpoint
// (audit auditc3 6); a checkpoint recorded under the database's old name
// is accepted with an info line that names the rename.
func TestRefusedCheckpointNotReported(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{DataDir: "/data"}
	cfg.Postgres.Slot = "s1"
	var logs bytes.Buffer
	s := &session{cfg: cfg, rs: &runState{}, log: zerolog.New(&logs), found: true,
		stored: checkpoint.Position{LSN: 0x922B6B8, SystemID: "7", Database: "app"}}
	err := s.verifyAt("7", "app", 0x100)
	if err == nil || !IsFatal(err) {
		t.Fatalf("verifyAt of a checkpoint ahead of the WAL = %v; want a fatal refusal", err)
	}
	var exit runExit
	exit.ended(s)
	logs.Reset()
	exit.log(context.Background(), zerolog.New(&logs), err)
	if out := logs.String(); !strings.Contains(out, `"stopped"`) || strings.Contains(out, `"lsn":`) {
		t.Fatalf("stopped line %s: want no checkpoint reported (the stored one was refused)", out)
	}

	logs.Reset()
	s = &session{cfg: cfg, rs: &runState{}, log: zerolog.New(&logs), found: true,
		stored: checkpoint.Position{LSN: 0x100, SystemID: "7", Database: "old"}}
	if err := s.verifyAt("7", "new", 0x200); err != nil || !s.found {
		t.Fatalf("verifyAt after a rename = %v (found %v); want accepted", err, s.found)
	}
	if out := logs.String(); !strings.Contains(out, `"level":"info"`) || !strings.Contains(out, "renamed") ||
		!strings.Contains(out, `"recorded_database":"old"`) {
		t.Fatalf("log %s: want an info line naming the rename", out)
	}
}

// TestRestoreVanishedStaleHeld: a process that finds no checkpoint stored
// writes back the one it holds only when the slot is not confirmed past it.
// A slot confirmed further was streamed by another walrelay since (the
// partner of a standby pair took over after this process's term): writing
// the stale checkpoint back would end in a false gap (audit auditc3 2), so
// it warns and goes on without one.
func TestRestoreVanishedStaleHeld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	slot := fmt.Sprintf("ckpt2_stale_%d", time.Now().UnixNano()%1e9)
	testenv.ExecDSN(t, dsn, `SELECT pg_create_logical_replication_slot('`+slot+`', 'pgoutput')`)
	t.Cleanup(func() { testenv.ExecDSN(t, dsn, `SELECT pg_drop_replication_slot('`+slot+`')`) })
	db := testenv.Connect(t, dsn)
	var text string
	if err := db.QueryRow(ctx, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`,
		slot).Scan(&text); err != nil {
		t.Fatal(err)
	}
	confirmed, err := pglogrepl.ParseLSN(text)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{DataDir: t.TempDir()}
	cfg.Postgres.Slot = slot
	for _, tc := range []struct {
		name      string
		held      event.LSN
		writeBack bool
	}{
		{"held behind the slot (stale)", confirmed - 8, false},
		{"held at the slot", confirmed, true},
	} {
		store, err := checkpoint.NewFileStore(t.TempDir(), slot)
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		rs := &runState{known: checkpoint.Position{LSN: tc.held, Slot: slot}, knownOK: true}
		s := &session{cfg: cfg, rs: rs, store: store, db: db, log: zerolog.New(&logs)}
		if err := s.restoreVanished(ctx); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, stored, _ := store.Load(ctx)
		if stored != tc.writeBack || s.found != tc.writeBack {
			t.Fatalf("%s: written back %v (session found %v); want %v", tc.name, stored, s.found, tc.writeBack)
		}
		if out := logs.String(); !strings.Contains(out, `"level":"warn"`) ||
			!tc.writeBack && !strings.Contains(out, "not written back") {
			t.Fatalf("%s: log %s: want a warning saying why", tc.name, out)
		}
	}
}
