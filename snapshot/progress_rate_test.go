package snapshot

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestProgressSubSecondRate: a table read within a fraction of a second
// has no rate (not 600,000 rows/s for 5 rows), and its log line leaves out
// the rate and the estimate of a table never analysed (-1).
func TestProgressSubSecondRate(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	small := &TablePlan{Table: Table{"shop", "orders"}, Rows: 5, Estimate: -1}
	p := NewProgress([]*TablePlan{small}, clock)
	p.Add(small, 1)
	now = now.Add(8 * time.Microsecond)
	if !p.Add(small, 4) {
		t.Fatal("Add did not report completion at 5/5")
	}
	if st := p.Table(small); st.State != "done" || st.RowsPerSecond != 0 {
		t.Errorf("table read in 8µs: %+v, want done with no rate (0)", st)
	}
	if _, _, rate, _ := p.Totals(); rate != 0 {
		t.Errorf("total rate %v after 8µs, want 0 (unknown)", rate)
	}
	var buf bytes.Buffer
	p.LogTable(zerolog.New(&buf), small)
	if line := buf.String(); strings.Contains(line, "rows_per_second") || strings.Contains(line, "rows_estimated") ||
		!strings.Contains(line, `"rows_done":5`) {
		t.Errorf("log line %s: want rows_done and neither an unknown rate nor estimate", line)
	}
}
