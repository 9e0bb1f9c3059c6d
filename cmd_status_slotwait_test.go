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

// TestStatusSlotWait: a report written while creating a replication slot
// waits for transactions open on the server says so, for how long, and
// names them, as the log's warning does (the audit: status showed only
// "has not reported yet" after 14 s, and nothing about the wait).
func TestStatusSlotWait(t *testing.T) {
	now := time.Now().UTC()
	blocker := "pid 2008 (database shop, user app, application_name 'psql', state idle in transaction, xact_start 2026-01-01 10:00:00+00)"
	for _, c := range []struct {
		name  string
		wait  pipeline.SlotWaitStatus
		words []string
	}{
		{"named", pipeline.SlotWaitStatus{Slot: "walrelay_catchup_4242", Since: now.Add(-14 * time.Second),
			OpenTransactions: []string{blocker}},
			[]string{"starting\tcreating replication slot walrelay_catchup_4242 has waited 14s for the transactions open " +
				"on the server to end", "pg_terminate_backend", "  waits for\t" + blocker}},
		{"not visible", pipeline.SlotWaitStatus{Slot: "s", Since: now.Add(-6 * time.Second)},
			[]string{"has waited 6s", "none is visible to walrelay's role"}},
		{"not listed", pipeline.SlotWaitStatus{Slot: "s", Since: now.Add(-6 * time.Second), Error: "permission denied"},
			[]string{"they could not be listed: permission denied"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			st := pipeline.Status{PID: os.Getpid(), Slot: "s", UpdatedAt: now.Add(-time.Second), State: pipeline.StateStarting,
				SlotWait: &c.wait}
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
		})
	}
}
