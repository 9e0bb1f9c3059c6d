package main

import (
	"bytes"
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
	sn := &pipeline.SnapshotStatus{State: "done", Reason: "no checkpoint is stored", StartedAt: time.Now(),
		RowsDone: 1005, RowsTotal: 1005, Tables: []snapshot.TableStatus{
			{Table: "shop.orders", State: "done", RowsDone: 5, RowsTotal: 5, RowsEstimated: -1},
			{Table: "shop.items", State: "done", RowsDone: 1000, RowsTotal: 1000, RowsEstimated: 990, RowsPerSecond: 400},
		}}
	var out bytes.Buffer
	printSnapshot(&out, sn, true)
	text := out.String()
	for _, bad := range []string{"estimated -1", ", 0 rows/s", "1005 rows, "} {
		if strings.Contains(text, bad) {
			t.Errorf("%q in:\n%s", bad, text)
		}
	}
	for _, want := range []string{"shop.orders\tdone: 5 of 5 rows\n", "shop.items\tdone: 1000 of 1000 rows (estimated 990), 400 rows/s"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
}
