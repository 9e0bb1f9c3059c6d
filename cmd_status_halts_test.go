//go:build linux

package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/pipeline"
)

// TestStatusHalts: a report written when the pipeline halted shows the
// error, the halt count and when the restart is due; it is not stale while
// the restart (up to 30 s away) is pending. Reports of a restarted session
// still show the last halt.
func TestStatusHalts(t *testing.T) {
	now := time.Now().UTC()
	const err = "kafka: halted writing topic \"t\": [10] Message Size Too Large"
	for _, c := range []struct {
		name, state string
		updated     time.Time
		restartAt   time.Time
		words       []string
	}{
		{"restarting", pipeline.StateRestarting, now.Add(-35 * time.Second), now.Add(-10 * time.Second),
			[]string{"pipeline\thalted 35s ago, restarting from the checkpoint now (4 halt(s) since the process started): " + err}},
		{"waiting", pipeline.StateRestarting, now.Add(-5 * time.Second), now.Add(20 * time.Second),
			[]string{"restarting from the checkpoint in 20s (4 halt(s)"}},
		{"starting", pipeline.StateStarting, now, time.Time{},
			[]string{"pipeline\trestarting from the checkpoint after a halt 35s ago (4 halt(s) since the process started): " + err}},
		{"streaming", pipeline.StateStreaming, now, time.Time{},
			[]string{"pipeline\tstreaming again; it halted 35s ago and restarted (4 halt(s) since the process started): " + err}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			st := pipeline.Status{PID: os.Getpid(), Slot: "s", UpdatedAt: c.updated, State: c.state, RestartAt: c.restartAt,
				Halts: 4, LastError: err, LastErrorAt: now.Add(-35 * time.Second)}
			if err := pipeline.WriteStatus(dir, st); err != nil {
				t.Fatal(err)
			}
			holdDataDir(t, dir)
			var out bytes.Buffer
			printRunning(&out, dir, now)
			for _, w := range c.words {
				if !strings.Contains(out.String(), w) {
					t.Errorf("no %q in:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), "stale") {
				t.Errorf("a report of a pending restart is shown as stale:\n%s", out.String())
			}
		})
	}
}
