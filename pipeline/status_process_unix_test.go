//go:build unix

package pipeline

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	return cmd.Process.Pid
}

// TestStatusProcess: the process that wrote a status file runs while it
// holds the data directory's lock; once it released it (a stop, a kill) it
// is not running, and while another process holds it the report is an
// older process's. Without a lock file only the pid is checked.
func TestStatusProcess(t *testing.T) {
	dir := t.TempDir() + "/data"
	me, dead := os.Getpid(), deadPID(t)
	if state, _ := StatusProcess(dir, dead); state != ProcessStopped {
		t.Errorf("no lock file, a dead pid: %v, want stopped", state)
	}
	if state, _ := StatusProcess(dir, me); state != ProcessRunning {
		t.Errorf("no lock file, a live pid: %v, want running", state)
	}
	unlock, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if state, holder := StatusProcess(dir, me); state != ProcessRunning || holder != me {
		t.Errorf("report of the holder: %v (holder %d), want running (%d)", state, holder, me)
	}
	if runtime.GOOS == "linux" { // elsewhere only the pid is checked
		if state, holder := StatusProcess(dir, dead); state != ProcessReplaced || holder != me {
			t.Errorf("report of a dead pid while %d holds the lock: %v (holder %d), want replaced by %d", me, state, holder, me)
		}
		if state, holder := StatusProcess(dir, 0); state != ProcessReplaced || holder != me {
			t.Errorf("no report while %d holds the lock: %v (holder %d), want replaced by %d", me, state, holder, me)
		}
	}
	unlock()
	if runtime.GOOS == "linux" {
		// The pid is alive, but it does not hold the lock: a pid the
		// kernel gave to another program, not the walrelay.
		if state, _ := StatusProcess(dir, me); state != ProcessStopped {
			t.Errorf("report of a live pid that holds no lock: %v, want stopped", state)
		}
	}
	if state, _ := StatusProcess(dir, dead); state != ProcessStopped {
		t.Errorf("after the release, a dead pid: %v, want stopped", state)
	}
}
