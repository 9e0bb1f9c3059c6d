//go:build unix

package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestLockWatchRetakes: a lock file deleted or replaced under a running
// process (an rm of data_dir racing a save, or the file removed by hand) is
// noticed by the Run's periodic check, which takes the lock again on the
// file now there with a warning, so that a second walrelay on the same
// data_dir is still refused (audit auditc3 finding 3).
func TestLockWatchRetakes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lock, err := takeDataDirLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.release()
	logs := &testenv.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := lock.watch(ctx, zerolog.New(logs), 20*time.Millisecond)
	defer stop()
	path := filepath.Join(dir, LockFile)
	relocked := func(what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(logs.String(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("no warning %q within 5 s; log: %s", what, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := lockDataDir(dir); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("a second lock after the file %s: %v; want refused", what, err)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	relocked("vanished")
	if err := os.Remove(path); err != nil { // replaced: another file at the same path
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	relocked("replaced")
	if n := strings.Count(logs.String(), `"level":"warn"`); n != 2 {
		t.Fatalf("%d warnings; want one per relock: %s", n, logs.String())
	}
}

// TestLockWatchOtherOwner: when another process locked the new file first,
// a session start refuses (fatal): it owns the data_dir now.
func TestLockWatchOtherOwner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lock, err := takeDataDirLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.release()
	if err := os.Remove(filepath.Join(dir, LockFile)); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockDataDir(dir) // the second walrelay that got past
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	s := &session{rs: &runState{lock: lock}, log: zerolog.Nop()}
	if err := s.relockDataDir(); err == nil || !IsFatal(err) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("relock over another owner: %v; want fatal, in use", err)
	}
}
