package snapshot

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Progress counts the rows the consumer has published per table and derives
// rates and ETAs from them. Safe for concurrent use.
type Progress struct {
	mu     sync.Mutex
	now    func() time.Time
	start  time.Time
	total  uint64
	done   uint64
	tables []*tableProgress
	byPlan map[*TablePlan]*tableProgress
}

type tableProgress struct {
	plan        *TablePlan
	done        uint64
	first, last time.Time // first row counted; completion
}

// TableStatus is one table's progress, as logged and written to the status
// file.
type TableStatus struct {
	Table         string `json:"table"`
	State         string `json:"state"` // pending, running or done
	RowsDone      uint64 `json:"rows_done"`
	RowsTotal     uint64 `json:"rows_total"`     // exact, counted inside the snapshot
	RowsEstimated int64  `json:"rows_estimated"` // pg_class.reltuples; -1 if never analyzed
	// RowsPerSecond is 0 when unknown: under minRateSpan of reading.
	RowsPerSecond float64 `json:"rows_per_second"`
	ETASeconds    float64 `json:"eta_seconds"`
}

// NewProgress starts counting for plans; now is time.Now when nil.
func NewProgress(plans []*TablePlan, now func() time.Time) *Progress {
	if now == nil {
		now = time.Now
	}
	p := &Progress{now: now, start: now(), byPlan: make(map[*TablePlan]*tableProgress, len(plans))}
	for _, pl := range plans {
		tp := &tableProgress{plan: pl}
		if pl.Rows == 0 {
			tp.first, tp.last = p.start, p.start
		}
		p.tables = append(p.tables, tp)
		p.byPlan[pl] = tp
		p.total += pl.Rows
	}
	return p
}

// Add counts n more rows of t and reports whether t just completed.
func (p *Progress) Add(t *TablePlan, n int) (completed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tp := p.byPlan[t]
	if tp == nil || n <= 0 {
		return false
	}
	now := p.now()
	if tp.first.IsZero() {
		tp.first = now
	}
	tp.done += uint64(n)
	p.done += uint64(n)
	if tp.done >= tp.plan.Rows && tp.last.IsZero() {
		tp.last = now
		return true
	}
	return false
}

// Table returns t's progress.
func (p *Progress) Table(t *TablePlan) TableStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status(p.byPlan[t], p.now())
}

// Tables returns every table's progress, in plan order.
func (p *Progress) Tables() []TableStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	out := make([]TableStatus, len(p.tables))
	for i, tp := range p.tables {
		out[i] = p.status(tp, now)
	}
	return out
}

// Totals returns the rows published and planned, the overall rate since
// NewProgress and the ETA at that rate.
func (p *Progress) Totals() (done, total uint64, rowsPerSec float64, eta time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rowsPerSec = rate(p.done, p.now().Sub(p.start))
	return p.done, p.total, rowsPerSec, etaOf(p.total-p.done, rowsPerSec)
}

func (p *Progress) status(tp *tableProgress, now time.Time) TableStatus {
	st := TableStatus{Table: tp.plan.Table.String(), State: "pending", RowsDone: tp.done,
		RowsTotal: tp.plan.Rows, RowsEstimated: tp.plan.Estimate}
	switch {
	case !tp.last.IsZero():
		st.State = "done"
		st.RowsPerSecond = rate(tp.done, tp.last.Sub(tp.first))
	case !tp.first.IsZero():
		st.State = "running"
		st.RowsPerSecond = rate(tp.done, now.Sub(tp.first))
		st.ETASeconds = etaOf(tp.plan.Rows-tp.done, st.RowsPerSecond).Seconds()
	}
	return st
}

// minRateSpan is the shortest span a rate is computed over: rows counted
// over microseconds (a small table read in one chunk) give rates such as
// 600,000 rows/s that mean nothing, while a table of 200,000 rows read in
// under a second still has a rate worth logging.
const minRateSpan = 100 * time.Millisecond

// rate is n rows over d in rows per second; 0 (unknown) when d is shorter
// than minRateSpan.
func rate(n uint64, d time.Duration) float64 {
	if d < minRateSpan {
		return 0
	}
	return float64(n) / d.Seconds()
}

func etaOf(left uint64, rowsPerSec float64) time.Duration {
	if left == 0 || rowsPerSec <= 0 {
		return 0
	}
	return time.Duration(float64(left) / rowsPerSec * float64(time.Second)).Round(time.Second)
}

// LogRunning writes one "snapshot progress" line per table being read.
func (p *Progress) LogRunning(log zerolog.Logger) {
	for _, st := range p.Tables() {
		if st.State == "running" {
			logStatus(log.Info(), st).Msg("snapshot progress")
		}
	}
}

// LogTable writes t's line: "snapshot table done" once it completed, at
// info for a table read over minRateSpan or more (it has a rate: the tables
// an operator watches), at debug for one read at once (empty or small: one
// such line per table would flood the log of a snapshot of many tables,
// whose "snapshot completed" line has the totals).
func (p *Progress) LogTable(log zerolog.Logger, t *TablePlan) {
	st := p.Table(t)
	switch {
	case st.State != "done":
		logStatus(log.Info(), st).Msg("snapshot progress")
	case st.RowsPerSecond > 0:
		logStatus(log.Info(), st).Msg("snapshot table done")
	default:
		logStatus(log.Debug(), st).Msg("snapshot table done")
	}
}

// logStatus adds st's fields to ev; rows_estimated only when the table was
// ever analysed, rows_per_second and eta_seconds only when known.
func logStatus(ev *zerolog.Event, st TableStatus) *zerolog.Event {
	ev = ev.Str("table", st.Table).Uint64("rows_done", st.RowsDone).Uint64("rows_total", st.RowsTotal)
	if st.RowsEstimated >= 0 {
		ev = ev.Int64("rows_estimated", st.RowsEstimated)
	}
	if st.RowsPerSecond > 0 {
		ev = ev.Float64("rows_per_second", float64(int64(st.RowsPerSecond))).Float64("eta_seconds", st.ETASeconds)
	}
	return ev
}
