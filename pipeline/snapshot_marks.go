package pipeline

import (
	"context"
	"fmt"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/snapshot"
)

// Snapshot markers (source.snapshot of a read event), as Debezium 2+ names
// them (io.debezium.connector.SnapshotRecord).
const (
	markTrue        = "true"
	markFirst       = "first"
	markFirstInColl = "first_in_data_collection"
	markLastInColl  = "last_in_data_collection"
	markLast        = "last"
)

// heldRead is a routed read event whose records are not sent yet: its marker
// depends on rows not read yet.
type heldRead struct {
	ch   *event.Change
	recs []event.Record // routed with source.snapshot "true"
	row  uint64         // its position in its table, 0-based in key order
}

// snapshotMarks puts the snapshot markers on the read events the rules
// publish, by plan order (snapshot.Reader.Plans, then key order in a
// table), whatever order snapshot.parallelism reads tables and chunks in:
// "first" on the first published row of the first table that publishes
// any, "last" on the last published row of the last such table,
// "first_in_data_collection" / "last_in_data_collection" on each table's
// first and last published rows, "true" on the rest, with Debezium's
// precedence (last, first, last_in_data_collection,
// first_in_data_collection) for a row that is several. A table that
// publishes nothing (no rows, or the rules drop them all) has no marker.
// This is what Debezium, reading the tables one by one in that order,
// marks.
//
// A published row that may still be its table's first or last (the lowest
// or highest published so far) is held until the rows that decide it are
// read: the rows before it in its table (and, for "first", the earlier
// tables), the rows after it (and, for "last", the later tables). Other
// rows are sent at once. So at most two rows per table are held, and once
// a table is read, only the first table publishing any may still hold its
// first row and the last one its last row: memory stays bounded. Records
// are sent in no fixed order across tables, except that the "last" read is
// sent after all others (finish), as Debezium's is. Used on the session
// goroutine only.
type snapshotMarks struct {
	tables []*tableMarks // in plan order
	byPlan map[*snapshot.TablePlan]*tableMarks
	// lo is the first table, hi the last, that is still being read or
	// published a row: the tables before lo and after hi are read and
	// published nothing. minPub and maxPub are the first and last tables
	// that published a row (len(tables) and -1 while none did).
	lo, hi, minPub, maxPub int
	// last is the read marked "last" once known, sent after all others.
	last *heldRead
	// emit sends h's records with source.snapshot mark.
	emit func(ctx context.Context, h heldRead, mark string) error
}

// tableMarks is one table's marker state.
type tableMarks struct {
	idx       int // in plan order
	rows      uint64
	read      rowSpans // rows read so far, published or not
	published bool     // the rules published one of its rows
	minRow    uint64   // the lowest and highest published rows so far
	maxRow    uint64
	// first and last hold the rows at minRow and maxRow until their marker
	// is known (nil once sent); they may be the same read.
	first, last *heldRead
}

func newSnapshotMarks(plans []*snapshot.TablePlan, emit func(context.Context, heldRead, string) error) *snapshotMarks {
	m := &snapshotMarks{byPlan: make(map[*snapshot.TablePlan]*tableMarks, len(plans)), emit: emit,
		hi: len(plans) - 1, minPub: len(plans), maxPub: -1}
	for i, p := range plans {
		tm := &tableMarks{idx: i, rows: p.Rows}
		m.tables = append(m.tables, tm)
		m.byPlan[p] = tm
	}
	m.advance()
	return m
}

// passed takes the read at position row of t that the rules publish (recs
// not empty, routed with source.snapshot "true"): it sends it at once
// unless it may be its table's first or last, then holds it instead.
func (m *snapshotMarks) passed(ctx context.Context, t *snapshot.TablePlan, row uint64, ch *event.Change, recs []event.Record) error {
	tm := m.byPlan[t]
	if tm.published && tm.minRow < row && row < tm.maxRow { // neither t's first nor its last
		return m.emit(ctx, heldRead{ch: ch, recs: recs, row: row}, markTrue)
	}
	h := &heldRead{ch: ch, recs: recs, row: row}
	switch {
	case !tm.published:
		tm.published, tm.minRow, tm.maxRow, tm.first, tm.last = true, row, row, h, h
		return m.firstPublished(ctx, tm)
	case row < tm.minRow:
		old := tm.first
		tm.minRow, tm.first = row, h
		if old != nil && old != tm.last { // neither first nor last now
			if err := m.emit(ctx, *old, markTrue); err != nil {
				return err
			}
		}
	default: // above the highest published row so far
		old := tm.last
		tm.maxRow, tm.last = row, h
		if old != nil && old != tm.first {
			if err := m.emit(ctx, *old, markTrue); err != nil {
				return err
			}
		}
	}
	return m.settle(ctx, tm)
}

// firstPublished updates minPub and maxPub for tm's first published row;
// the tables that were first or last to publish may no longer be.
func (m *snapshotMarks) firstPublished(ctx context.Context, tm *tableMarks) error {
	oldMin, oldMax := m.minPub, m.maxPub
	m.minPub, m.maxPub = min(m.minPub, tm.idx), max(m.maxPub, tm.idx)
	return m.settleIdx(ctx, oldMin, oldMax, tm.idx)
}

// read records that rows [row, row+n) of t were read (each passed before,
// if published), and sends the held rows this decides.
func (m *snapshotMarks) read(ctx context.Context, t *snapshot.TablePlan, row uint64, n int) error {
	tm := m.byPlan[t]
	tm.read.add(row, row+uint64(n))
	if !tm.done() {
		return m.settle(ctx, tm)
	}
	m.advance()
	return m.settleIdx(ctx, tm.idx, m.minPub, m.maxPub)
}

// finish sends what is still held, once every row was read (then every
// marker is known), the "last" read after all others.
func (m *snapshotMarks) finish(ctx context.Context) error {
	for _, tm := range m.tables { // all read already when the plan's row counts held
		tm.read = rowSpans{{0, tm.rows}}
	}
	m.advance()
	for _, tm := range m.tables {
		if err := m.settle(ctx, tm); err != nil {
			return err
		}
		if tm.first != nil || tm.last != nil {
			return fmt.Errorf("snapshot markers: table %d of the plan still holds a read at its end (a bug: please report it)", tm.idx+1)
		}
	}
	if m.last == nil {
		return nil
	}
	h := *m.last
	m.last = nil
	return m.emit(ctx, h, markLast)
}

// advance moves lo and hi past the tables read that published nothing.
func (m *snapshotMarks) advance() {
	for m.lo < len(m.tables) && m.tables[m.lo].done() && !m.tables[m.lo].published {
		m.lo++
	}
	for m.hi >= 0 && m.tables[m.hi].done() && !m.tables[m.hi].published {
		m.hi--
	}
}

// settleIdx settles the tables at these plan indexes (out of range: none).
func (m *snapshotMarks) settleIdx(ctx context.Context, idx ...int) error {
	for _, i := range idx {
		if i >= 0 && i < len(m.tables) {
			if err := m.settle(ctx, m.tables[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// settle sends tm's held rows whose marker is known.
func (m *snapshotMarks) settle(ctx context.Context, tm *tableMarks) error {
	if err := m.settleRead(ctx, tm, tm.first); err != nil {
		return err
	}
	if tm.last == tm.first { // settled just now (or both nil)
		return nil
	}
	return m.settleRead(ctx, tm, tm.last)
}

// settleRead sends h, one of tm's held rows, if its marker is known.
func (m *snapshotMarks) settleRead(ctx context.Context, tm *tableMarks, h *heldRead) error {
	if h == nil {
		return nil
	}
	mark, ok := m.mark(tm, h)
	if !ok {
		return nil
	}
	if h == tm.first {
		tm.first = nil
	}
	if h == tm.last {
		tm.last = nil
	}
	if mark == markLast {
		m.last = h
		return nil
	}
	return m.emit(ctx, *h, mark)
}

// mark returns held row h's marker, ok false while rows not read yet may
// change it.
func (m *snapshotMarks) mark(tm *tableMarks, h *heldRead) (mark string, ok bool) {
	tableLast := h == tm.last
	if tableLast && tm.read.from(h.row+1) < tm.rows {
		return "", false // a later row of tm may be published
	}
	if tableLast {
		switch {
		case m.maxPub == tm.idx && m.hi == tm.idx:
			return markLast, true
		case m.maxPub == tm.idx:
			return "", false // a later table may publish
		}
	}
	tableFirst := h == tm.first
	if tableFirst && tm.read.upTo() < h.row {
		return "", false // an earlier row of tm may be published
	}
	if tableFirst {
		switch {
		case m.minPub == tm.idx && m.lo == tm.idx:
			return markFirst, true
		case m.minPub == tm.idx:
			return "", false // an earlier table may publish
		}
	}
	switch {
	case tableLast:
		return markLastInColl, true
	case tableFirst:
		return markFirstInColl, true
	}
	return markTrue, true
}

func (tm *tableMarks) done() bool { return tm.read.upTo() >= tm.rows }

// rowSpans are the disjoint, sorted row ranges [start, end) of a table read
// so far. Batches of a chunk come in order and chunks start in order, so
// they are few (about snapshot.parallelism).
type rowSpans [][2]uint64

// add adds [start, end), merging it with the ranges it touches.
func (s *rowSpans) add(start, end uint64) {
	if start >= end {
		return
	}
	out := make(rowSpans, 0, len(*s)+1)
	placed := false
	for _, r := range *s {
		switch {
		case r[1] < start:
			out = append(out, r)
		case end < r[0]:
			if !placed {
				out, placed = append(out, [2]uint64{start, end}), true
			}
			out = append(out, r)
		default: // touches: merge into [start, end)
			start, end = min(start, r[0]), max(end, r[1])
		}
	}
	if !placed {
		out = append(out, [2]uint64{start, end})
	}
	*s = out
}

// upTo returns how many rows from the first are all read.
func (s rowSpans) upTo() uint64 {
	if len(s) == 0 || s[0][0] > 0 {
		return 0
	}
	return s[0][1]
}

// from returns the end of the read range that holds row (all rows from row
// to it are read), or row when row is not read.
func (s rowSpans) from(row uint64) uint64 {
	for _, r := range s {
		if r[0] <= row && row < r[1] {
			return r[1]
		}
	}
	return row
}
