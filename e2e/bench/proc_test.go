package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A process the bench measures leads a session of its own, as under a
// service manager, so that CPU autogroups do not share its CPU with the
// bench; stop still ends it with the group's SIGTERM.
func TestProcOwnSession(t *testing.T) {
	t.Parallel()
	p, err := startProc("sleeper", exec.Command("sleep", "30"), filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	pgrp, sid := procGroupAndSession(t, p.pid())
	_, ownSid := procGroupAndSession(t, os.Getpid())
	if sid != p.pid() || pgrp != p.pid() || sid == ownSid {
		t.Errorf("child %d: process group %d, session %d (the bench's session %d); want both %d", p.pid(), pgrp, sid, ownSid, p.pid())
	}
	if err := p.stop(5 * time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !p.done() {
		t.Fatal("stopped process not reaped")
	}
}

// procGroupAndSession reads the process group and session of pid from
// /proc/<pid>/stat (fields 5 and 6, after the command name in parentheses).
func procGroupAndSession(t *testing.T, pid int) (pgrp, sid int) {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(f) < 4 {
		t.Fatalf("/proc/%d/stat: %q", pid, data)
	}
	pgrp, _ = strconv.Atoi(f[2])
	sid, _ = strconv.Atoi(f[3])
	return pgrp, sid
}

// A pass first seen active by the poll that found it done (a short pass on
// a loaded machine) is timed from the process start, not given a rate of 0
// (TestBenchSmoke failed so in CI: "0 rows/s").
func TestFillSlotSeenActiveAtEnd(t *testing.T) {
	started := time.Now()
	end := started.Add(480 * time.Millisecond)
	var r RunResult
	r.Rows = 3000
	r.fill(started, end, end, time.Time{})
	if r.StreamS <= 0 || r.EventsPerS <= 0 || r.StartupS != 0 {
		t.Errorf("stream %v s, %v rows/s, start-up %v s; want the pass timed from the process start", r.StreamS, r.EventsPerS, r.StartupS)
	}
}
