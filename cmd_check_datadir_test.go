//go:build unix

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/walrelay/walrelay/pipeline"
)

// TestCheckDataDirRunCannotWrite (audit ops 3): a data_dir that `walrelay
// run` cannot write (a read-only file system, a directory the user may not
// write, a lock file that cannot be opened) fails `walrelay check` with the
// error and fix that run exits 1 with; before, check said "walrelay can
// stream with this configuration" and run then failed at once on
// walrelay.lock.
func TestCheckDataDirRunCannotWrite(t *testing.T) {
	dirs := map[string]string{"lock file is a directory": t.TempDir()}
	if err := os.Mkdir(filepath.Join(dirs["lock file is a directory"], pipeline.LockFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if ro := readOnlyDir(t); ro != "" {
		dirs["not writable"] = ro
	}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			findings := checkDataDir(dir)
			if len(findings) != 1 || findings[0].OK || !strings.Contains(findings[0].What, "cannot be written") || findings[0].Fix == "" {
				t.Fatalf("check's findings for data_dir %s: %+v; want one problem with a fix", dir, findings)
			}
			f := findings[0]
			stopped := runStoppedLine(t, dir)
			if msg, _ := stopped["error"].(string); !strings.Contains(msg, f.What) || !strings.Contains(msg, f.Fix) {
				t.Errorf("run's error %q; want check's %q with its fix %q", msg, f.What, f.Fix)
			}
		})
	}
}

// TestCheckDataDirLeavesNothing: check's probe of data_dir leaves no
// directory it created and no file behind, and the lock of a running
// walrelay stays held.
func TestCheckDataDirLeavesNothing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "a", "b")
	if f := checkDataDir(missing); len(f) != 1 || !f[0].OK || !strings.Contains(f[0].What, "does not exist yet") {
		t.Errorf("missing data_dir: %+v; want ok, run creates it", f)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("after check, %s: %v; want it not to exist", filepath.Dir(missing), err)
	}
	dir := t.TempDir()
	lock, err := os.OpenFile(filepath.Join(dir, pipeline.LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if f := checkDataDir(dir); len(f) != 0 {
		t.Errorf("writable data_dir: %+v; want no finding", f)
	}
	other, err := os.OpenFile(filepath.Join(dir, pipeline.LockFile), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != syscall.EWOULDBLOCK {
		t.Errorf("after check, a second flock of walrelay.lock: %v; want EWOULDBLOCK (the running lock kept)", err)
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Errorf("after check, data_dir holds %v; want walrelay.lock only", names)
	}
}

// readOnlyDir returns a directory the test's user cannot write: mode 0500,
// or for root (whom modes do not stop) a read-only tmpfs mount; "" when
// neither can be made here.
func readOnlyDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 {
		return dir
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Logf("no read-only mount for root (%v: %s): case skipped", err, out)
		return ""
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}

// runStoppedLine runs `walrelay run` with data_dir dir (and services that
// are never reached: run locks data_dir first) and returns its "stopped"
// line, which must say it exits 1.
func runStoppedLine(t *testing.T, dir string) map[string]any {
	code, errOut := runUnreachable(t, dir, "log:\n  format: json\n")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	var f map[string]any
	if code != 1 || json.Unmarshal([]byte(lines[len(lines)-1]), &f) != nil || f["message"] != "stopped" {
		t.Fatalf("run: exit code %d, stderr %q; want 1 and a stopped line", code, errOut)
	}
	return f
}
