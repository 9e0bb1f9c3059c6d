//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/pipeline"
)

// TestDataDirOthersMayWrite (security audit 4): a data_dir group or others
// may write gets a warning with a chmod fix from check and from run's log;
// a walrelay.lock planted there as a symbolic link fails check and run with
// the same problem, and its target is left untouched.
func TestDataDirOthersMayWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	f := checkDataDir(dir)
	if len(f) != 1 || !f[0].Warn || !strings.Contains(f[0].What, "writable by group or others") || !strings.Contains(f[0].Fix, "chmod 0700") {
		t.Fatalf("check's findings for a 0777 data_dir: %+v; want one warning with a chmod fix", f)
	}
	if _, errOut := runUnreachable(t, dir, "log:\n  format: json\n"); !strings.Contains(errOut, "writable by group or others") {
		t.Errorf("run's log has no warning for a 0777 data_dir: %q", errOut)
	}

	target := filepath.Join(t.TempDir(), "rootfile")
	if err := os.WriteFile(target, []byte("ROOT ONLY DATA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, pipeline.LockFile)
	if err := os.Remove(lock); err != nil && !os.IsNotExist(err) { // run's own lock file
		t.Fatal(err)
	}
	if err := os.Symlink(target, lock); err != nil {
		t.Fatal(err)
	}
	f = checkDataDir(dir)
	if len(f) != 1 || f[0].OK || f[0].Warn || !strings.Contains(f[0].What, "symbolic link") {
		t.Fatalf("check's findings with a symlinked lock: %+v; want one problem", f)
	}
	if msg, _ := runStoppedLine(t, dir)["error"].(string); !strings.Contains(msg, f[0].What) || !strings.Contains(msg, f[0].Fix) {
		t.Errorf("run's error %q; want check's %q with its fix %q", msg, f[0].What, f[0].Fix)
	}
	if b, _ := os.ReadFile(target); string(b) != "ROOT ONLY DATA\n" {
		t.Errorf("the lock's target was changed to %q", b)
	}
}
