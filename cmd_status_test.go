//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/pipeline"
)

// currentLagLine is how `walrelay status` shows a current end-to-end lag.
var currentLagLine = regexp.MustCompile(`(?m)^end-to-end lag\s+\d+\.\d+ s \(heartbeat of `)

// exitedPID returns the pid of a process that has exited and been reaped.
func exitedPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	return cmd.Process.Pid
}

// holdDataDir takes the data directory's lock as `walrelay run` does, for
// the rest of the test.
func holdDataDir(t *testing.T, dir string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, pipeline.LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

// report writes a status file as a walrelay with pid would have: a done
// initial snapshot, a heartbeat and a commit-to-Kafka time, age ago.
func report(t *testing.T, dir string, pid int, age time.Duration) {
	t.Helper()
	ms := int64(30)
	at := time.Now().Add(-age).UTC()
	st := pipeline.Status{PID: pid, Slot: "s", UpdatedAt: at, Events: 2000000, InflightEvents: 0,
		HeartbeatLagMS: &ms, HeartbeatAt: at, CommitLagMS: &ms, CommitLagMaxMS: &ms, CommitLagAt: at,
		Snapshot: &pipeline.SnapshotStatus{State: "done", Reason: "no checkpoint is stored", StartedAt: at.Add(-time.Minute),
			RowsDone: 7, RowsTotal: 7}}
	if err := pipeline.WriteStatus(dir, st); err != nil {
		t.Fatal(err)
	}
}

// TestStatusProcessLines: `walrelay status` says whether the process that
// wrote the status file still runs. A report of a process that was killed
// or stopped, or that a new process replaced, is not shown as current (its
// lags are its last ones), a stale report is marked, and the snapshot line
// gives the snapshot's reason as the reason when it started, not as the
// state now. Before, all four looked like a current report.
func TestStatusProcessLines(t *testing.T) {
	me, dead := os.Getpid(), exitedPID(t)
	for _, c := range []struct {
		name    string
		pid     int
		held    bool
		age     time.Duration
		words   []string
		current bool
	}{
		{"running", me, true, 2 * time.Second,
			[]string{"pid " + strconv.Itoa(me) + ", running, last report 2s ago", "2000000 events published"}, true},
		{"killed", dead, false, 8 * time.Second, []string{"pid " + strconv.Itoa(dead) + " is not running",
			"last report, 8s ago", "[last measured by pid " + strconv.Itoa(dead) + ", not current]"}, false},
		{"replaced", dead, true, 8 * time.Second, []string{"walrelay pid " + strconv.Itoa(me) + " runs and has not reported yet",
			"the last report is from pid " + strconv.Itoa(dead) + ", which is not running"}, false},
		{"stale", me, true, time.Minute, []string{"running, but its last report is 1m0s old (stale"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			report(t, dir, c.pid, c.age)
			if c.held {
				holdDataDir(t, dir)
			} else if err := os.WriteFile(filepath.Join(dir, pipeline.LockFile), []byte(strconv.Itoa(c.pid)+"\n"), 0o600); err != nil {
				t.Fatal(err) // as a walrelay that stopped leaves it
			}
			var out bytes.Buffer
			printRunning(&out, dir, time.Now())
			text := out.String()
			for _, w := range c.words {
				if !strings.Contains(text, w) {
					t.Errorf("no %q in:\n%s", w, text)
				}
			}
			if got := currentLagLine.MatchString(text); got != c.current {
				t.Errorf("end-to-end lag shown as current: %v, want %v:\n%s", got, c.current, text)
			}
			if !strings.Contains(text, "snapshot\tdone, started ") || !strings.Contains(text, "(reason then: no checkpoint is stored)") ||
				strings.Contains(text, "done (no checkpoint is stored)") {
				t.Errorf("the snapshot line does not give the reason as the one when it started:\n%s", text)
			}
		})
	}
}

// TestStatusNoReportYet: a walrelay that holds the data directory and has
// not written a status file yet is named, rather than "has not run there".
func TestStatusNoReportYet(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	printRunning(&out, dir, time.Now())
	if !strings.Contains(out.String(), "walrelay has not run there") {
		t.Errorf("empty data directory:\n%s", out.String())
	}
	holdDataDir(t, dir)
	out.Reset()
	printRunning(&out, dir, time.Now())
	if want := "walrelay pid " + strconv.Itoa(os.Getpid()) + " runs and has not reported yet"; !strings.Contains(out.String(), want) {
		t.Errorf("no %q in:\n%s", want, out.String())
	}
}

// TestStatusInterruptedSnapshot: a snapshot that was running when its
// process went away is shown as interrupted, without an ETA.
func TestStatusInterruptedSnapshot(t *testing.T) {
	dir := t.TempDir()
	st := pipeline.Status{PID: exitedPID(t), UpdatedAt: time.Now().UTC(), Snapshot: &pipeline.SnapshotStatus{State: "running",
		Reason: "no checkpoint is stored", RowsDone: 3, RowsTotal: 7, ETASeconds: 5}}
	if err := pipeline.WriteStatus(dir, st); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printRunning(&out, dir, time.Now())
	if text := out.String(); !strings.Contains(text, "snapshot\tinterrupted") || strings.Contains(text, "ETA") {
		t.Errorf("a running snapshot of a dead process:\n%s", text)
	}
}

// TestStatusLagText: the lag is measured from the stored checkpoint, as
// walrelay_lag_bytes is, not from the slot's confirmed position (which
// checkpoint.retain holds back); before the first checkpoint, from the slot.
func TestStatusLagText(t *testing.T) {
	stored := checkpoint.Position{LSN: 0x3000}
	if got := lagText(0x5000, 0x1000, stored, true); !strings.HasPrefix(got, "8192 bytes (server WAL position minus the stored checkpoint)") {
		t.Errorf("with a checkpoint: %q", got)
	}
	if got := lagText(event.LSN(0x5000), 0x1000, checkpoint.Position{}, false); !strings.HasPrefix(got, "16384 bytes (server WAL position minus the slot's") {
		t.Errorf("without a checkpoint: %q", got)
	}
}
