package pipeline

import (
	"strings"
	"testing"
)

// TestSnapshotMark: source.snapshot of each row of a three-table snapshot
// (3, 1 and 2 rows), in Debezium's precedence: last, first, then a table's
// last, then its first.
func TestSnapshotMark(t *testing.T) {
	t.Parallel()
	tables := []uint64{3, 1, 2}
	var total uint64
	for _, n := range tables {
		total += n
	}
	var got []string
	var pos uint64
	for _, rows := range tables {
		for idx := uint64(0); idx < rows; idx++ {
			got = append(got, snapshotMark(pos, total, idx, rows))
			pos++
		}
	}
	want := "first true last_in_data_collection last_in_data_collection first_in_data_collection last"
	if strings.Join(got, " ") != want {
		t.Errorf("marks\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if m := snapshotMark(0, 1, 0, 1); m != "last" {
		t.Errorf("a one-row snapshot's row is %q, want last", m)
	}
}
