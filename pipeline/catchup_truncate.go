package pipeline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
)

// A TRUNCATE of a blocking catch-up's table that committed before its
// boundary C is, like a delete, a change the snapshot cannot stand for: the
// rows it removed are absent from the snapshot, yet downstream may hold
// them (from the stream before a snapshot signal, or from an attempt of
// the catch-up that a crash interrupted). Left out, they would keep their
// last event for ever. Published where it committed, it comes after the
// snapshot's reads and removes downstream the rows that were there at C.
//
// So the stream publishes it (when the rules keep it) and from then on
// leaves out every change of that table (truncatedCatchup.tables, "R"),
// also past C, so that downstream holds nothing of it after the truncate.
// The other tables stream as before. Once the stream passes C, the session
// restarts and takes a catch-up of R alone, at C' (runCatchup): downstream
// gets the old reads, the truncate, reads of the state at C', then the
// changes after C'. In that catch-up R's tables are Truncated: their
// truncates before C' are left out like their other changes, since
// downstream holds nothing of them but the reads at C'. So a table
// truncated again and again does not make the catch-up be taken again and
// again: one retake, whatever the truncates.
//
// Crashes. Every position from the end of a truncate's transaction on is
// saved with the catch-up of all its tables to take again, Truncated R
// (checkpoint.Committer.CatchupAt), until the stream passes C; from there
// with the catch-up of R. A kill before a position past the truncate is
// saved restarts with the old catch-up (its boundary, its keys file): the
// stream meets the truncate again and does the same. A kill after it
// restarts with a catch-up still to take, so nothing left out since the
// truncate is lost: the new snapshot holds it. runCatchup clears Truncated
// durably while it publishes the new snapshot's reads (until the boundary
// is stored), since a kill in between leaves some of them downstream: the
// next attempt publishes those tables' truncates again.

// truncatedCatchup is what a session knows of the truncates it published
// before a blocking catch-up's boundary. Owned by the goroutine that
// calls route.
type truncatedCatchup struct {
	base   *checkpoint.Catchup // the catch-up they came before
	tables []string            // R: the tables truncated, sorted
	grew   bool                // tables grew in the open transaction
	done   bool                // the catch-up of tables is saved and the session asked to restart
}

// leftOutSinceTruncate reports whether ch is of a table whose truncate
// this session published before a catch-up's boundary: none of its
// changes is published any more, until a catch-up of it is taken again.
func (s *session) leftOutSinceTruncate(ch *event.Change) bool {
	t := &s.catchupTrunc
	if len(t.tables) == 0 || ch.Relation == nil {
		return false
	}
	_, found := slices.BinarySearch(t.tables, ch.Relation.QualifiedName())
	return found
}

// leftOutToPublish returns what the stream must still publish of ch (as
// the rules project it), a change a blocking catch-up leaves out: a
// truncate before the boundary (truncateBeforeBoundary); the delete that
// uncoveredDelete finds; otherwise nil. Called by route.
func (s *session) leftOutToPublish(ch *event.Change) *event.Change {
	switch {
	case s.leftOutSinceTruncate(ch):
		return nil
	case ch.Op == event.OpTruncate:
		return s.truncateBeforeBoundary(ch)
	}
	return s.uncoveredDelete(ch)
}

// truncateBeforeBoundary returns ch, a truncate before the catch-up's
// boundary, to publish, and adds its table to R; or nil when the catch-up
// was taken again for that truncated table (Catchup.Truncated).
func (s *session) truncateBeforeBoundary(ch *event.Change) *event.Change {
	cu, name := s.catchup, ch.Relation.QualifiedName()
	if cu == nil || slices.Contains(cu.Truncated, name) {
		return nil
	}
	t := &s.catchupTrunc
	if t.base == nil {
		t.base = cu
	}
	i, _ := slices.BinarySearch(t.tables, name)
	t.tables, t.grew = slices.Insert(t.tables, i, name), true
	s.log.Info().Str("table", name).Stringer("commit_lsn", ch.Tx.CommitLSN).Stringer("boundary", cu.Boundary).
		Msg("catch-up: a TRUNCATE before the boundary is published; the table's later changes are left out until its catch-up is taken again, once the stream passes the boundary")
	return ch
}

// catchupAtCommit is called by the publisher when the transaction ending
// at end commits, before the tracker learns its end (so that no position
// at or past end is saved without what follows). After a truncate
// before the boundary, the committer saves from end on the catch-up of
// all the tables to take again; once the stream has passed the boundary,
// the catch-up of the truncated ones, and the session restarts to take it.
func (s *session) catchupAtCommit(end event.LSN) {
	t := &s.catchupTrunc
	switch {
	case len(t.tables) == 0 || t.done:
	case s.catchup == nil: // this transaction passed the boundary
		s.retakeTruncated(end)
	case t.grew:
		t.grew = false
		s.committer.CatchupAt(end, &checkpoint.Catchup{Tables: t.base.Tables, Signal: t.base.Signal,
			Truncated: slices.Clone(t.tables)})
	}
}

// catchupIdle is catchupAtCommit for a keepalive at walEnd, between
// transactions: the stream passed the boundary if walEnd did. It reports
// whether it recorded a catch-up from walEnd on, which the checkpoint must
// reach before the session restarts (Tracker.AdvanceIdleAny).
func (s *session) catchupIdle(walEnd event.LSN) bool {
	t := &s.catchupTrunc
	if len(t.tables) == 0 || t.done {
		return false
	}
	if cu := s.catchup; cu != nil {
		if walEnd < cu.Boundary {
			return false
		}
		s.catchup = nil
		s.passedCatchup(cu)
	}
	s.retakeTruncated(walEnd)
	return true
}

// retakeTruncated saves, from at on, the catch-up of the truncated tables
// to take again, and asks the session to restart to take it.
func (s *session) retakeTruncated(at event.LSN) {
	t := &s.catchupTrunc
	t.done = true
	s.committer.CatchupAt(at, &checkpoint.Catchup{Tables: t.tables, Signal: t.base.Signal, Truncated: t.tables})
	select {
	case s.catchupRestart <- struct{}{}:
	default:
	}
	s.log.Info().Strs("tables", t.tables).Stringer("from", at).
		Msg("catch-up: the stream passed the boundary; restarting the session to take the truncated tables' catch-up again")
}

// catchupReason is why the blocking catch-up cu is taken, for the log.
func catchupReason(cu *checkpoint.Catchup) string {
	switch {
	case len(cu.Truncated) > 0:
		return "TRUNCATE before a catch-up's boundary"
	case cu.Signal != 0:
		return "snapshot signal"
	}
	return "tables added to the capture set"
}

// holdTruncated returns the tables of cu.Truncated among tables, the
// catch-up's tables still published, to store with its boundary; before
// its snapshot publishes any read it saves cu without them, so that a
// kill while it does (some reads published, no boundary) takes it again
// with none Truncated. Called by runCatchup.
func (s *session) holdTruncated(ctx context.Context, cu *checkpoint.Catchup, tables []string) ([]string, error) {
	if len(cu.Truncated) == 0 {
		return nil, nil
	}
	var keep []string
	for _, t := range cu.Truncated {
		if slices.Contains(tables, t) {
			keep = append(keep, t)
		}
	}
	pos := checkpoint.Position{LSN: s.start, Slot: s.cfg.Postgres.Slot, UpdatedAt: time.Now().UTC(),
		Catchup: &checkpoint.Catchup{Tables: cu.Tables, Signal: cu.Signal}}
	if err := s.store.Save(ctx, pos); err != nil {
		return nil, fmt.Errorf("catch-up snapshot: saving it before its reads: %w", err)
	}
	s.stored = pos
	return keep, nil
}
