package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/snapshot"
)

// Catch-up snapshots: a table that joins the capture set after a checkpoint
// was stored (a longer postgres.tables, rules that capture more) streams
// only the changes committed after it joined the publication; its existing
// rows would never be published. So, as with the initial snapshot:
//
//  1. recordCatchup notes the tables in the stored checkpoint (Catchup, with
//     no boundary yet) before they join the publication, so that a crash
//     in between cannot forget them.
//  2. runCatchup, before streaming, creates a temporary slot that exports a
//     snapshot at its consistent point C, reads those tables from it and
//     publishes their rows as read events; once Kafka has them all, it
//     stores C as the catch-up's boundary.
//  3. While the stream is before C, route drops their changes that
//     committed before C: the snapshot holds them. From C on they stream.
//     The committer drops the catch-up with the first checkpoint at or past
//     C. Two changes the snapshot cannot stand for are still published: a
//     delete of a key it did not read (catchup_keys.go) and a TRUNCATE,
//     after which that table's catch-up is taken again (catchup_truncate.go).
//
// So every row of an added table reaches Kafka once as a read of its state
// at C, followed by exactly the changes after C, in order: no change is lost
// and none is published twice or out of order, across crashes too.
//
// That is snapshot.catchup: blocking, which pauses the stream while the
// snapshot is read. With incremental (the default, when the server and the
// tables allow it) step 2 and 3 are replaced by incremental.go: the tables
// are read in chunks between watermarks while the stream goes on, and the
// checkpoint carries the catch-up's cursor instead of a boundary.

// catchupEnabled reports whether tables added now get a catch-up snapshot:
// there is a checkpoint to resume from (otherwise the initial snapshot, if
// any, covers every table) and snapshot.mode asks for snapshots.
func (s *session) catchupEnabled() bool {
	m := s.cfg.Snapshot.Mode
	return s.found && m != config.SnapshotNever && m != config.SnapshotInitialOnly
}

// recordCatchup stores, before the publication gains them, the tables of
// want (schema.table) that it does not hold yet. Called by
// preparePublication without a rules file, with postgres.tables (with rules,
// syncPublication calls recordAdded with exactly what it adds). The tables
// held are those EnsurePublication counts: listed, or in a listed schema
// (replication.MissingMembers). A publication that does not exist yet or
// is FOR ALL TABLES adds nothing to catch up.
func (s *session) recordCatchup(ctx context.Context, want []string) error {
	if !s.catchupEnabled() {
		return nil
	}
	pub, err := replication.ReadPublication(ctx, s.db, s.cfg.Postgres.Publication)
	if err != nil || !pub.Exists || pub.AllTables {
		return err
	}
	version, err := replication.ServerVersion(ctx, s.db)
	if err != nil {
		return err
	}
	added, err := replication.MissingMembers(ctx, s.db, pub, want, version)
	if err != nil {
		return err
	}
	return s.recordAdded(ctx, added)
}

// recordAdded stores the catch-up of added, tables the publication is about
// to gain, before it gains them: recordCatchup's second half, and
// syncPublication's beforeAdd at the start of a session. It uses the store
// directly: the committer does not run yet.
func (s *session) recordAdded(ctx context.Context, added []string) error {
	if !s.catchupEnabled() || len(added) == 0 {
		return nil
	}
	s.warnOutboxJoining(added)
	s.stored.Catchup = s.stored.Catchup.Merge(added)
	s.stored.UpdatedAt = time.Now().UTC()
	if err := s.store.Save(ctx, s.stored); err != nil {
		return fmt.Errorf("recording the tables added to the capture set: %w", err)
	}
	s.log.Info().Strs("tables", added).Strs("catchup_tables", s.stored.Catchup.Tables).
		Msg("tables added to the capture set: their existing rows will be snapshotted before streaming")
	return nil
}

// runCatchup takes the recorded catch-up snapshot, if one is still to take,
// and arms the stream's filter and the committer with it; or, when
// incrementalFits, arms the incremental catch-up that runs with the stream
// (startIncremental), resuming at its stored cursor. A full snapshot
// taken by this session (snap) covers the added tables already: its
// checkpoint replaced the catch-up with its own boundary, if it has one
// (completeSnapshot), whose keys it kept. Called by setup after
// runSnapshot, before streaming, on the session goroutine.
func (s *session) runCatchup(ctx context.Context, snap snapshotDecision) error {
	cu := s.stored.Catchup
	if cu == nil || cu.Boundary != 0 && s.start >= cu.Boundary {
		return s.dropCatchupKeys()
	}
	if cu.Boundary == 0 {
		if err := s.dropCatchupKeys(); err != nil { // an older catch-up's
			return err
		}
		tables, err := s.publishedOnly(ctx, cu.Tables)
		if err != nil {
			return err
		}
		s.noteOutboxCatchup(tables)
		if len(tables) > 0 {
			incremental, err := s.incrementalFits(ctx, tables)
			if err != nil {
				return err
			}
			if incremental {
				s.startIncremental(incrementalStart(cu, tables))
				return nil
			}
		}
		// With no table left, the boundary only keeps the signal handled
		// until the stream passes it.
		boundary := cu.Signal + 1
		var truncated []string
		if len(tables) > 0 {
			if truncated, err = s.holdTruncated(ctx, cu, tables); err != nil {
				return err
			}
			if boundary, err = s.takeCatchup(ctx, tables, catchupReason(cu)); err != nil {
				return err
			}
		}
		cu = &checkpoint.Catchup{Tables: tables, Boundary: boundary, Signal: cu.Signal, Truncated: truncated}
		pos := checkpoint.Position{LSN: s.start, Slot: s.cfg.Postgres.Slot, UpdatedAt: time.Now().UTC(), Catchup: cu}
		if err := s.store.Save(ctx, pos); err != nil {
			return fmt.Errorf("catch-up snapshot: saving its boundary %s: %w", boundary, err)
		}
		s.stored = pos
	} else if !snap.take {
		s.loadCatchupKeys(cu.Boundary)
	}
	s.catchup = cu
	s.committer.SetCatchup(cu)
	s.log.Info().Strs("tables", cu.Tables).Stringer("boundary", cu.Boundary).Stringer("stream_from", s.start).
		Msg("catch-up: changes of these tables committed before the boundary are in its snapshot and are not published again")
	return nil
}

// incrementalStart is the incremental catch-up of cu's tables that are
// still published (tables), keeping cu's cursor if its table is one.
func incrementalStart(cu *checkpoint.Catchup, tables []string) *checkpoint.Catchup {
	start := &checkpoint.Catchup{Tables: tables, Signal: cu.Signal}
	if slices.Contains(tables, cu.Current) {
		start.Current, start.After = cu.Current, cu.After
	}
	return start
}

// publishedOnly returns the tables of names that the publication holds;
// the others (a snapshot signal naming a table walrelay does not capture,
// or one dropped since) are logged and left out.
func (s *session) publishedOnly(ctx context.Context, names []string) ([]string, error) {
	pub, err := publicationTables(ctx, s.db, s.cfg.Postgres.Publication)
	if err != nil {
		return nil, err
	}
	have := make(map[string]bool, len(pub))
	for _, t := range pub {
		have[t.String()] = true
	}
	var out, missing []string
	for _, n := range names {
		if have[n] {
			out = append(out, n)
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		s.log.Warn().Strs("tables", missing).Str("publication", s.cfg.Postgres.Publication).
			Msg("catch-up: tables not in the publication (not captured, or dropped) are not snapshotted")
	}
	return out, nil
}

// takeCatchup reads tables from a snapshot exported by a new temporary
// slot and publishes their rows as read events (see runSnapshot, whose
// publisher it shares); it returns the snapshot's LSN once Kafka has every
// row, and keeps the record keys it published (noteRead, keepCatchupKeys).
func (s *session) takeCatchup(ctx context.Context, names []string, reason string) (event.LSN, error) {
	began := time.Now()
	tables := make([]snapshot.Table, 0, len(names))
	for _, n := range names {
		t, err := snapshot.ParseTable(n)
		if err != nil {
			return 0, fatal(err)
		}
		tables = append(tables, t)
	}
	rd, lsn, release, err := s.tempSlotSnapshot(ctx, tables)
	if err != nil {
		return 0, fmt.Errorf("catch-up snapshot: %w", err)
	}
	defer release()
	s.log.Info().Str("reason", reason).Stringer("snapshot_lsn", lsn).Stringer("stream_from", s.start).
		Strs("tables", names).Uint64("rows", rd.Total()).Float64("planned_in_seconds", logfield.Seconds(time.Since(began))).
		Msg("snapshot started")
	p := newSnapshotPublisher(s, rd, lsn, reason, began)
	s.catchupBuild = newCatchupKeys()
	defer func() { s.catchupBuild = nil }()
	if err := p.run(ctx); err != nil {
		return 0, fmt.Errorf("catch-up snapshot at %s (taken again at the next start): %w", lsn, err)
	}
	if err := s.keepCatchupKeys(lsn); err != nil {
		return 0, fmt.Errorf("catch-up snapshot at %s (taken again at the next start): %w", lsn, err)
	}
	p.complete()
	return lsn, nil
}

// tempSlotSnapshot plans tables on a snapshot exported by a new temporary
// slot, at its consistent point (returned): every change committed before
// it is in the snapshot, every later one streams after it, so that point
// can serve as a boundary. The slot goes with its replication connection,
// which release closes (and the reader with it) once the snapshot is read.
func (s *session) tempSlotSnapshot(ctx context.Context, tables []snapshot.Table) (*snapshot.Reader, event.LSN, func(), error) {
	repl, err := replication.ConnectReplication(ctx, s.cfg.Postgres.DSN)
	if err != nil {
		return nil, 0, nil, err
	}
	closeRepl := func() { _ = repl.Close(context.Background()) }
	slot := fmt.Sprintf("walrelay_catchup_%d", repl.PID()) // unique among live backends; temporary
	lsn, exported, err := replication.CreateTempSlotExportSnapshot(ctx, repl, slot, s.slotWatch())
	if err != nil {
		closeRepl()
		return nil, 0, nil, err
	}
	rd, err := s.openReader(ctx, exported, tables)
	if err != nil {
		closeRepl()
		return nil, 0, nil, err
	}
	return rd, lsn, func() { rd.Close(); closeRepl() }, nil
}

// coveredByCatchup reports whether ch is in the catch-up snapshot (route
// drops it), or of a table whose truncate before the boundary was
// published (catchup_truncate.go). Once the stream reaches the boundary,
// nothing else is, and the check ends. Called on the goroutine that calls
// route.
func (s *session) coveredByCatchup(ch *event.Change) bool {
	cu := s.catchup
	if cu == nil || ch.Tx == nil {
		return s.leftOutSinceTruncate(ch)
	}
	if ch.Tx.CommitLSN >= cu.Boundary && ch.Tx.Xid != 0 {
		s.catchup = nil // the stream is past the boundary: commit order
		s.passedCatchup(cu)
		return s.leftOutSinceTruncate(ch)
	}
	return ch.Relation != nil && cu.Covers(ch.Relation.QualifiedName(), ch.Tx.CommitLSN) || s.leftOutSinceTruncate(ch)
}

// qualifiedNames renders tables as schema.table, sorted.
func qualifiedNames[T fmt.Stringer](tables []T) []string {
	out := make([]string, len(tables))
	for i, t := range tables {
		out[i] = t.String()
	}
	slices.Sort(out)
	return out
}

// errCatchupRestart ends a session whose publication gained tables while it
// streamed: the next session takes their catch-up snapshot. Run starts it at
// once; it is not a failure.
var errCatchupRestart = errors.New("tables were added to the capture set: restarting the session to snapshot them")

// errNotStreaming makes the publication poller wait: tables are added (and
// their catch-up recorded through the committer) only while a session
// streams, so that no other save of the checkpoint can overwrite the record.
var errNotStreaming = errors.New("the session does not stream yet: tables are added once it does")

// recordCatchupLive is the publication poller's hook (syncPublication's
// beforeAdd) while a session streams: the rules now capture tables that
// are not published yet (a SIGHUP reload, or new tables a glob matches). It
// records them as a catch-up through the committer, durably, before they
// join the publication, and asks the session to restart, so that the next
// session snapshots them (runCatchup) before it streams on. With
// snapshot.mode never or initial_only nothing is recorded.
func (s *session) recordCatchupLive(ctx context.Context, added []string) error {
	m := s.cfg.Snapshot.Mode
	if m == config.SnapshotNever || m == config.SnapshotInitialOnly {
		return nil
	}
	if !s.live.Load() {
		return errNotStreaming
	}
	cu, err := s.catchupNextSession(ctx, added, 0)
	if err != nil {
		return fmt.Errorf("recording the tables added to the capture set: %w", err)
	}
	s.warnOutboxJoining(added)
	s.log.Info().Strs("tables", added).Strs("catchup_tables", cu.Tables).
		Msg("tables added to the capture set while streaming: restarting the session to snapshot their existing rows")
	return nil
}

// catchupNextSession records tables (and the snapshot signal at signal, if
// not 0) as a catch-up through the committer, durably, and asks the
// session to restart, so that the next session takes it before it streams.
// Called while the session streams (its committer runs).
func (s *session) catchupNextSession(ctx context.Context, tables []string, signal event.LSN) (*checkpoint.Catchup, error) {
	cu, err := s.committer.AddCatchup(ctx, tables, signal)
	if err != nil {
		return nil, err
	}
	select {
	case s.catchupRestart <- struct{}{}:
	default:
	}
	return cu, nil
}
