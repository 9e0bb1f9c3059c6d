//go:build unix

package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLockRefusesSymlink: a walrelay.lock planted as a symbolic link (by a
// user who may write a 0777 data_dir) is refused by run's lock and check's
// probe with a fix, and the file it points to is left as it was (security
// audit: run truncated it and wrote its pid there).
func TestLockRefusesSymlink(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "rootfile")
	if err := os.WriteFile(target, []byte("ROOT ONLY DATA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, LockFile)); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockDataDir(dir)
	if err == nil {
		unlock()
	}
	for name, err := range map[string]error{"lockDataDir": err, "ProbeDataDir": ProbeDataDir(dir)} {
		var de *DataDirError
		if !errors.Is(err, ErrLockSymlink) || !errors.As(err, &de) ||
			!strings.Contains(err.Error(), "symbolic link") || !strings.Contains(de.Fix(), "remove "+filepath.Join(dir, LockFile)) {
			t.Errorf("%s: %v, want a *DataDirError for the symbolic link with a fix", name, err)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "ROOT ONLY DATA\n" {
		t.Errorf("the symbolic link's target was changed to %q", b)
	}
}

// TestDataDirWarning: a data_dir group or others may write is named with a
// chmod fix; a 0700 one is not.
func TestDataDirWarning(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		mode os.FileMode
		warn bool
	}{{0o700, false}, {0o750, false}, {0o770, true}, {0o777, true}, {0o1777, true}} {
		if err := os.Chmod(dir, c.mode); err != nil {
			t.Fatal(err)
		}
		problem, fix := DataDirWarning(dir)
		if (problem != "") != c.warn || (c.warn && !strings.Contains(fix, "chmod 0700 "+dir)) {
			t.Errorf("mode %o: DataDirWarning = %q, %q; want a warning %v", c.mode, problem, fix, c.warn)
		}
	}
	if problem, _ := DataDirWarning(filepath.Join(dir, "missing")); problem != "" {
		t.Errorf("missing data_dir: %q", problem)
	}
}
