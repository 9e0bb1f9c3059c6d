package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/pipeline"
	"github.com/walrelay/walrelay/snapshot"
)

// TestStatusSnapshotUnknowns: the snapshot lines leave out what is not
// known, the estimate of a table never analysed (-1) and the rate of a
// table read in under a second (0), instead of "(estimated -1)" and
// "0 rows/s"; known ones are shown.
func TestStatusSnapshotUnknowns(t *testing.T) {
	sn := &pipeline.SnapshotStatus{State: "running", Reason: "no checkpoint is stored", StartedAt: time.Now(),
		RowsDone: 1005, RowsTotal: 1005, Tables: []snapshot.TableStatus{
			{Table: "shop.orders", State: "running", RowsDone: 5, RowsTotal: 5, RowsEstimated: -1},
			{Table: "shop.items", State: "running", RowsDone: 1000, RowsTotal: 1000, RowsEstimated: 990, RowsPerSecond: 400},
		}}
	var out bytes.Buffer
	printSnapshot(&out, sn, true)
	text := out.String()
	for _, bad := range []string{"estimated -1", ", 0 rows/s", "1005 rows, "} {
		if strings.Contains(text, bad) {
			t.Errorf("%q in:\n%s", bad, text)
		}
	}
	for _, want := range []string{"shop.orders\trunning: 5 of 5 rows\n", "shop.items\trunning: 1000 of 1000 rows (estimated 990), 400 rows/s"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
}

// TestStatusSnapshotManyTables (audit auditscale finding 3): a completed
// snapshot of 100 tables is one line for its tables, not one per table, so
// the lag lines stay in sight; while it runs, the tables being read are
// listed (at most maxStatusTables, then "and N more") and the tables done
// and not read yet are counted.
func TestStatusSnapshotManyTables(t *testing.T) {
	done := snapshotOf("done", 100, func(int) string { return "done" })
	text := snapshotText(done, true)
	if n := strings.Count(text, "\n"); n != 2 {
		t.Errorf("%d lines for a completed snapshot of 100 tables, want 2:\n%s", n, text)
	}
	if !strings.Contains(text, "  tables\t100 tables done, 1000 rows\n") {
		t.Errorf("no summary of the tables done in:\n%s", text)
	}
	running := snapshotOf("running", 100, func(i int) string {
		switch {
		case i < 40:
			return "done"
		case i < 70:
			return "running"
		}
		return "pending"
	})
	text = snapshotText(running, false) // its process is gone: interrupted
	for _, want := range []string{"s.t040\tinterrupted: 10 of 10 rows", "s.t059\tinterrupted: ",
		"  ...\tand 10 more being read or interrupted\n", "  tables\t30 tables not read yet\n",
		"  tables\t40 tables done, 400 rows\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "s.t060\t") || strings.Contains(text, "s.t000\t") {
		t.Errorf("more than %d tables, or a table done, listed:\n%s", maxStatusTables, text)
	}
	if n := strings.Count(text, "\n"); n != 1+maxStatusTables+3 {
		t.Errorf("%d lines, want %d:\n%s", n, 1+maxStatusTables+3, text)
	}
}

// snapshotOf is a snapshot in state of n tables s.tNNN of 10 rows each, the
// state of table i being state(i).
func snapshotOf(state string, n int, tableState func(int) string) *pipeline.SnapshotStatus {
	sn := &pipeline.SnapshotStatus{State: state, Reason: "no checkpoint is stored", StartedAt: time.Now(),
		RowsTotal: uint64(10 * n)}
	for i := range n {
		st := snapshot.TableStatus{Table: fmt.Sprintf("s.t%03d", i), State: tableState(i), RowsTotal: 10, RowsEstimated: -1}
		if st.State != "pending" {
			st.RowsDone = 10
		}
		sn.RowsDone += st.RowsDone
		sn.Tables = append(sn.Tables, st)
	}
	return sn
}

// snapshotText is printSnapshot's output for sn.
func snapshotText(sn *pipeline.SnapshotStatus, alive bool) string {
	var out bytes.Buffer
	printSnapshot(&out, sn, alive)
	return out.String()
}
