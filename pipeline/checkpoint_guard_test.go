package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
)

// TestVerifyStored: a checkpoint ahead of the server's WAL, or of another
// system or database, is refused with both sides named; one of an older
// walrelay (no identity) and one at or behind the WAL pass.
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
		{"other database", pos(0x100, "7", "other"), 0x200, []string{`database "other"`, `database "app"`}},
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
	unlock, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := os.RemoveAll(dir); err != nil { // deleted under the running process
		t.Fatal(err)
	}
	store, err := checkpoint.NewFileStore(dir, "s1") // as the next session opens it
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	held := checkpoint.Position{LSN: 0x16B3748, Slot: "s1", Catchup: &checkpoint.Catchup{Tables: []string{"public.t"}, Boundary: 0x16B4000}}
	rs := &runState{known: held, knownOK: true, locked: true}
	defer rs.close()
	s := &session{cfg: cfg, rs: rs, store: store, log: zerolog.New(&logs)}
	ctx := context.Background()
	if _, found, _ := store.Load(ctx); found {
		t.Fatal("a checkpoint is stored before the write-back")
	}
	if err := s.relockDataDir(); err != nil {
		t.Fatal(err)
	}
	if err := s.restoreVanished(ctx); err != nil {
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
