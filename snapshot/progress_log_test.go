package snapshot

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestSnapshotLogVolume (audit auditscale finding 4): planning and reading
// 100 small tables, each read at once, logs nothing at info (the
// pipeline's "snapshot started" and "snapshot completed" have the totals);
// a table read for long enough to have a rate, one an operator watches,
// keeps its "snapshot table done" line at info.
func TestSnapshotLogVolume(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := zerolog.New(&buf).Level(zerolog.InfoLevel)
	now := time.Unix(1000, 0)
	var plans []*TablePlan
	for i := range 100 {
		plans = append(plans, &TablePlan{Table: Table{"s", fmt.Sprintf("t%03d", i)}, Rows: 10, Estimate: 10, Chunks: 1,
			ChunkKey: []string{"id"}})
	}
	big := &TablePlan{Table: Table{"s", "big"}, Rows: 100000, Estimate: -1, Chunks: 10, ChunkKey: []string{"id"}}
	p := NewProgress(append(plans, big), func() time.Time { return now })
	r := &Reader{opts: Options{Log: log}}
	for _, pl := range plans {
		r.logPlan(pl)
		if p.Add(pl, 10) {
			p.LogTable(log, pl)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("%d info lines for 100 small tables, want none:\n%s", strings.Count(buf.String(), "\n"), buf.String())
	}
	p.Add(big, 1)
	now = now.Add(2 * time.Second)
	if !p.Add(big, 99999) {
		t.Fatal("Add did not report the big table's completion")
	}
	p.LogTable(log, big)
	if text := buf.String(); strings.Count(text, "\n") != 1 || !strings.Contains(text, `"snapshot table done"`) ||
		!strings.Contains(text, `"rows_per_second"`) {
		t.Errorf("a table read in 2 s logged %q, want one \"snapshot table done\" line with its rate", text)
	}
}
