package main

import (
	"fmt"
	"io"
	"time"

	"github.com/walrelay/walrelay/pipeline"
	"github.com/walrelay/walrelay/snapshot"
)

// maxStatusTables caps the tables printSnapshot lists one by one: a
// snapshot of thousands of tables would otherwise bury the lag lines.
const maxStatusTables = 20

// printSnapshot shows the snapshot the report's process took. Its reason is
// why it was taken when it started, not the state now. A snapshot that
// ended before it completed (pipeline.SnapshotInterrupted: a stop or a
// halt), or was running when its process went away (killed, crashed), was
// interrupted, and so were its tables being read: it is taken again.
// The tables being read or interrupted are listed (at most
// maxStatusTables, then "and N more"); the tables done, and those not read
// yet, are counted in one line each.
func printSnapshot(w io.Writer, sn *pipeline.SnapshotStatus, alive bool) {
	state, eta := sn.State, ""
	cut := sn.State == pipeline.SnapshotInterrupted || sn.State == "running" && !alive
	switch {
	case cut && sn.State == "running":
		state = "interrupted (it was running when its process stopped; the next start takes it again)"
	case cut:
		state = "interrupted before it completed (the next start takes it again)"
	case sn.State == "running" && sn.RowsPerSecond > 0:
		eta = fmt.Sprintf(", ETA %s", (time.Duration(sn.ETASeconds) * time.Second).Round(time.Second))
	}
	rate := rateText(sn.RowsPerSecond)
	if cut {
		rate = ""
	}
	fmt.Fprintf(w, "snapshot\t%s, started %s (reason then: %s): %d of %d rows%s%s\n", state,
		sn.StartedAt.Format(time.RFC3339), sn.Reason, sn.RowsDone, sn.RowsTotal, rate, eta)
	printSnapshotTables(w, sn.Tables, cut)
}

// printSnapshotTables writes the lines of a snapshot's tables: those being
// read or interrupted one by one, up to maxStatusTables, and then one line
// for the tables not read yet and one for the tables done.
func printSnapshotTables(w io.Writer, tables []snapshot.TableStatus, cut bool) {
	listed, more, pending, done := 0, 0, 0, 0
	var doneRows uint64
	for _, t := range tables {
		switch t.State {
		case "done":
			done++
			doneRows += t.RowsDone
			continue
		case "pending":
			pending++
			continue
		}
		if listed == maxStatusTables {
			more++
			continue
		}
		listed++
		printSnapshotTable(w, t, cut)
	}
	if more > 0 {
		fmt.Fprintf(w, "  ...\tand %d more being read or interrupted\n", more)
	}
	if pending > 0 {
		fmt.Fprintf(w, "  tables\t%s not read yet\n", tablesText(pending))
	}
	if done > 0 {
		fmt.Fprintf(w, "  tables\t%s done, %d rows\n", tablesText(done), doneRows)
	}
}

// printSnapshotTable writes the line of a table being read or interrupted.
func printSnapshotTable(w io.Writer, t snapshot.TableStatus, cut bool) {
	estimate := ""
	if t.RowsEstimated >= 0 { // -1: the table was never analysed
		estimate = fmt.Sprintf(" (estimated %d)", t.RowsEstimated)
	}
	tstate, rate := t.State, rateText(t.RowsPerSecond)
	if cut && (t.State == "running" || t.State == pipeline.SnapshotInterrupted) {
		tstate, rate = pipeline.SnapshotInterrupted, ""
	}
	fmt.Fprintf(w, "  %s\t%s: %d of %d rows%s%s\n", t.Table, tstate, t.RowsDone, t.RowsTotal, estimate, rate)
}

// tablesText is "1 table" or "N tables".
func tablesText(n int) string {
	if n == 1 {
		return "1 table"
	}
	return fmt.Sprintf("%d tables", n)
}
