package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/snapshot"
)

// errSnapshotOnly ends a snapshot.mode initial_only session once its
// snapshot is in Kafka: run returns nil, so walrelay exits 0.
var errSnapshotOnly = errors.New("snapshot.mode initial_only: done")

// runSnapshot publishes the snapshot the session decided on (pos.snap), on
// the session goroutine, after the stages are built and before streaming
// starts; the replication connection stays idle meanwhile, which keeps a
// snapshot exported with the slot importable.
//
// Snapshot rows are read events (op r) tracked in one tracker transaction
// that ends at the stream's start position, so the checkpoint cannot pass
// that position early; the committer does not run yet and nothing is saved
// until every row is acknowledged by Kafka. Then the start position is saved
// as the checkpoint, which marks the snapshot complete. A crash before that
// leaves no checkpoint (initial) or the old one, so the next start takes the
// snapshot again from the beginning (README: clean restart).
//
// A snapshot taken while the slot exists (a retake after a crash, always,
// when_needed over a slot that moved on) is at a point S after the stream's
// start C: the changes committed in between are in its reads. They must not
// be published after them (per-key order, invariant 3), so the checkpoint
// that marks it complete carries S as a catch-up boundary of the tables it
// read, and the stream leaves those changes out as after a blocking
// catch-up (catchup.go), across restarts too.
//
// With snapshot.mode initial_only it decides itself (no slot is used), and
// returns errSnapshotOnly afterwards.
func (s *session) runSnapshot(ctx context.Context, pos position, found bool) error {
	only := s.cfg.Snapshot.Mode == config.SnapshotInitialOnly
	d := pos.snap
	if only {
		d = snapshotDecision{take: !found, reason: "no checkpoint is stored"}
	}
	if !d.take {
		if only {
			s.log.Info().Msg("snapshot.mode initial_only: a checkpoint is stored, the initial snapshot was taken before; nothing to do")
			return errSnapshotOnly
		}
		return nil
	}
	tables, err := s.snapshotTables(ctx)
	if err != nil {
		return err
	}
	began := time.Now()
	rd, lsn, release, err := s.openSnapshot(ctx, pos, tables, only)
	if err != nil {
		return err
	}
	defer release()
	bounded := !only && lsn > s.start // the stream starts before the snapshot: leave out what it holds
	e := s.log.Info().Str("reason", d.reason).Stringer("snapshot_lsn", lsn).Stringer("stream_from", s.start).
		Bool("exported_by_slot", pos.exported != "")
	if bounded {
		e = e.Stringer("boundary", lsn)
	}
	e.Int("tables", len(rd.Plans())).Uint64("rows", rd.Total()).
		Int("parallelism", s.cfg.Snapshot.Parallelism).Int("chunk_size", s.cfg.Snapshot.ChunkSize).
		Float64("planned_in_seconds", logfield.Seconds(time.Since(began))).Msg("snapshot started")
	p := newSnapshotPublisher(s, rd, lsn, d.reason, began)
	if bounded {
		s.catchupBuild = newCatchupKeys() // for the deletes it must still publish (catchup_keys.go)
		defer func() { s.catchupBuild = nil }()
	}
	if err := p.run(ctx); err != nil {
		if !s.streamed && !s.rs.streamed {
			err = beforeFirstStream(err) // the process exits: the halt's words say so
		}
		done, total, _, _ := p.progress.Totals()
		s.log.Warn().Err(err).Uint64("rows_done", done).Uint64("rows", total).
			Msg("snapshot interrupted before it completed: no checkpoint was saved, the next start takes it again")
		return fmt.Errorf("snapshot at %s: %w", lsn, err)
	}
	if !only {
		if err := s.completeSnapshot(ctx, lsn, tables, bounded); err != nil {
			return err
		}
	}
	s.rs.snapshotTaken = true
	p.complete()
	if only {
		return errSnapshotOnly
	}
	return nil
}

// completeSnapshot saves the checkpoint that marks the snapshot at lsn
// complete: the stream's start, and when bounded, lsn as the boundary of
// a catch-up of the tables read (their changes before it are in the
// snapshot), after the keys the snapshot published (keepCatchupKeys). It
// replaces any catch-up stored before: the snapshot read every captured
// table; a snapshot signal it answers stays handled.
func (s *session) completeSnapshot(ctx context.Context, lsn event.LSN, tables []snapshot.Table, bounded bool) error {
	pos := checkpoint.Position{LSN: s.start, Slot: s.cfg.Postgres.Slot, UpdatedAt: time.Now().UTC()}
	if bounded {
		if err := s.keepCatchupKeys(lsn); err != nil {
			return fmt.Errorf("snapshot at %s (taken again at the next start): %w", lsn, err)
		}
		pos.Catchup = &checkpoint.Catchup{Tables: qualifiedNames(tables), Boundary: lsn}
		if old := s.stored.Catchup; old != nil {
			pos.Catchup.Signal = old.Signal
		}
	}
	if err := s.store.Save(ctx, pos); err != nil {
		return fmt.Errorf("snapshot: saving the checkpoint %s that marks it complete: %w", s.start, err)
	}
	s.stored = pos
	return nil
}

// openSnapshot plans the snapshot on its readers and returns the
// snapshot's LSN (for the event IDs, and the boundary), and release, to
// call once it is read. From the snapshot the slot exported when it was
// just created, at the stream's start (exact: every change is either in
// it or streamed); else from one exported by a temporary slot
// (tempSlotSnapshot), exactly at its consistent point, after the stream's
// start; with initial_only, which streams nothing, from one exported by a
// transaction on a new connection.
func (s *session) openSnapshot(ctx context.Context, pos position, tables []snapshot.Table, only bool) (*snapshot.Reader, event.LSN, func(), error) {
	if pos.exported == "" && !only {
		rd, lsn, release, err := s.tempSlotSnapshot(ctx, tables)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("snapshot: %w", err)
		}
		return rd, lsn, release, nil
	}
	name, lsn := pos.exported, pos.start
	if name == "" {
		conn, err := replication.ConnectSnapshot(ctx, s.cfg.Postgres.DSN)
		if err != nil {
			return nil, 0, nil, err
		}
		defer conn.Close(context.Background())
		ex, err := snapshot.Export(ctx, conn)
		if err != nil {
			return nil, 0, nil, err
		}
		defer ex.Release(context.Background()) //nolint:errcheck // closing the connection ends it anyway
		name, lsn = ex.Name, ex.LSN
	}
	rd, err := s.openReader(ctx, name, tables)
	if err != nil {
		return nil, 0, nil, err
	}
	return rd, lsn, rd.Close, nil
}

// openReader plans tables on readers that import the exported snapshot name.
func (s *session) openReader(ctx context.Context, name string, tables []snapshot.Table) (*snapshot.Reader, error) {
	dsn := s.cfg.Postgres.DSN
	return snapshot.Open(ctx, snapshot.Options{
		Connect:     func(ctx context.Context) (*pgx.Conn, error) { return replication.ConnectSnapshot(ctx, dsn) },
		Snapshot:    name,
		Tables:      tables,
		Publication: s.cfg.Postgres.Publication,
		Parallelism: s.cfg.Snapshot.Parallelism,
		ChunkSize:   s.cfg.Snapshot.ChunkSize,
		Log:         s.log.With().Str("stage", "snapshot").Logger(),
	})
}
