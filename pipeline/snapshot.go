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
	rd, lsn, err := s.openSnapshot(ctx, pos, tables)
	if err != nil {
		return err
	}
	defer rd.Close()
	s.log.Info().Str("reason", d.reason).Stringer("snapshot_lsn", lsn).Stringer("stream_from", s.start).
		Bool("exported_by_slot", pos.exported != "").Int("tables", len(rd.Plans())).Uint64("rows", rd.Total()).
		Int("parallelism", s.cfg.Snapshot.Parallelism).Int("chunk_size", s.cfg.Snapshot.ChunkSize).
		Dur("planned_in", time.Since(began).Round(time.Millisecond)).Msg("snapshot started")
	p := newSnapshotPublisher(s, rd, lsn, d.reason, began)
	if err := p.run(ctx); err != nil {
		done, total, _, _ := p.progress.Totals()
		s.log.Warn().Err(err).Uint64("rows_done", done).Uint64("rows", total).
			Msg("snapshot interrupted before it completed: no checkpoint was saved, the next start takes it again")
		return fmt.Errorf("snapshot at %s: %w", lsn, err)
	}
	if !only {
		if err := s.store.Save(ctx, checkpoint.Position{LSN: s.start, Slot: s.cfg.Postgres.Slot, UpdatedAt: time.Now().UTC()}); err != nil {
			return fmt.Errorf("snapshot: saving the checkpoint %s that marks it complete: %w", s.start, err)
		}
	}
	s.rs.snapshotTaken = true
	p.complete()
	if only {
		return errSnapshotOnly
	}
	return nil
}

// openSnapshot plans the snapshot on its readers: from the snapshot the slot
// exported when it was just created (exact: every change is either in it or
// streamed), else from one exported now by a transaction on a new connection
// (the stream then starts at or before it and replays the overlap). It
// returns the snapshot's LSN for the event IDs.
func (s *session) openSnapshot(ctx context.Context, pos position, tables []snapshot.Table) (*snapshot.Reader, event.LSN, error) {
	name, lsn := pos.exported, pos.start
	if name == "" {
		conn, err := replication.ConnectSQL(ctx, s.cfg.Postgres.DSN)
		if err != nil {
			return nil, 0, err
		}
		defer conn.Close(context.Background())
		ex, err := snapshot.Export(ctx, conn)
		if err != nil {
			return nil, 0, err
		}
		defer ex.Release(context.Background()) //nolint:errcheck // closing the connection ends it anyway
		name, lsn = ex.Name, ex.LSN
	}
	dsn := s.cfg.Postgres.DSN
	rd, err := snapshot.Open(ctx, snapshot.Options{
		Connect:     func(ctx context.Context) (*pgx.Conn, error) { return replication.ConnectSQL(ctx, dsn) },
		Snapshot:    name,
		Tables:      tables,
		Publication: s.cfg.Postgres.Publication,
		Parallelism: s.cfg.Snapshot.Parallelism,
		ChunkSize:   s.cfg.Snapshot.ChunkSize,
		Log:         s.log.With().Str("stage", "snapshot").Logger(),
	})
	return rd, lsn, err
}
