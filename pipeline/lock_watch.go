package pipeline

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// lockWatchEvery is how often a Run checks that its data_dir lock file is
// still the one it locked (dataDirLock.watch).
const lockWatchEvery = 5 * time.Second

// dataDirLock is the data_dir lock a Run holds (lockDataDir) and the file it
// locked. A lock file deleted or replaced under the running process (rm of
// data_dir or of the file, racing a save that re-creates the directory)
// guards nothing: a second walrelay would take a lock on the new file. check
// notices and takes the lock again on the file now there. Safe for
// concurrent use: the watch and a session start both check.
type dataDirLock struct {
	dir string

	mu      sync.Mutex
	held    os.FileInfo // the lock file as locked; nil where locks are no-ops (not Unix)
	unlocks []func()
	failed  string // the last relock error logged by watch, not to repeat it
}

// takeDataDirLock locks dir (lockDataDir) and records the file it locked.
func takeDataDirLock(dir string) (*dataDirLock, error) {
	unlock, err := lockDataDir(dir)
	if err != nil {
		return nil, err
	}
	l := &dataDirLock{dir: dir, unlocks: []func(){unlock}}
	l.held, _ = os.Stat(l.path()) // locked just now: this is the file the flock holds
	return l, nil
}

func (l *dataDirLock) path() string { return filepath.Join(l.dir, LockFile) }

// check takes the lock again, with a warning, when the lock file vanished or
// was replaced by another file (another inode) since it was locked. An
// error says the new file is locked by another process, which now owns the
// data_dir (fatal), or that data_dir cannot be re-created. A nil l, or a
// lock file that cannot be looked at for another reason, passes.
func (l *dataDirLock) check(log zerolog.Logger) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		return nil
	}
	now, err := os.Stat(l.path())
	what := "vanished"
	switch {
	case err == nil && os.SameFile(now, l.held):
		return nil
	case err == nil:
		what = "was replaced by another file"
	case !errors.Is(err, fs.ErrNotExist):
		return nil // cannot tell; the next check tries again
	}
	unlock, err := lockDataDir(l.dir)
	if err != nil {
		return err
	}
	l.unlocks = append(l.unlocks, unlock)
	l.held, _ = os.Stat(l.path())
	l.failed = ""
	log.Warn().Str("data_dir", l.dir).Str("lock", LockFile).
		Msg("the data_dir lock file " + what + " while walrelay ran: took the lock again on the file now there, " +
			"so that a second walrelay on this data_dir is still refused")
	return nil
}

// watch checks the lock every interval until ctx ends or the returned stop
// is called. A relock that fails (another process locked the new file) is
// logged as an error, once until it changes, and tried again.
func (l *dataDirLock) watch(ctx context.Context, log zerolog.Logger, every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			l.logFailure(log, l.check(log))
		}
	}()
	return func() { cancel(); <-done }
}

// logFailure logs err, a failed relock, unless it was the last one logged.
func (l *dataDirLock) logFailure(log zerolog.Logger, err error) {
	if err == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err.Error() == l.failed {
		return
	}
	l.failed = err.Error()
	log.Error().Err(err).Str("data_dir", l.dir).
		Msg("the data_dir lock file vanished while walrelay ran and taking the lock again failed: stop the other " +
			"walrelay using this data_dir")
}

// release releases every lock taken (the first and those taken again).
func (l *dataDirLock) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, unlock := range l.unlocks {
		unlock()
	}
	l.unlocks = nil
}
