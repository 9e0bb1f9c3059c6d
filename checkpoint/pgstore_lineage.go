package checkpoint

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LineageStore is implemented by a store that keeps walrelay's column
// lineage (a JSON document, filter.LineageState) beside the checkpoint,
// so that it survives a data directory that is not kept (a standby taking
// over, a container): PostgresStore, in the lineage column of the slot's
// row. Called by one goroutine at a time, like Store's methods, but may
// run beside the Committer's Save.
type LineageStore interface {
	// LoadLineage returns the lineage stored for the slot; nil (and no
	// error) when none is.
	LoadLineage(ctx context.Context) ([]byte, error)
	// SaveLineage stores b for the slot: durable when it returns nil, or,
	// while no checkpoint is stored yet (no row), with the first Save.
	SaveLineage(ctx context.Context, b []byte) error
}

// ErrNoLineageColumn is wrapped by LoadLineage and SaveLineage when the
// table, created by an older walrelay, lacks the lineage column and the
// role may not add it: the lineage is then kept in data_dir only.
var ErrNoLineageColumn = errors.New("the checkpoint table has no lineage column")

const (
	loadLineageSQL = `SELECT lineage::text FROM ` + TableName + ` WHERE slot = $1`
	// saveLineageSQL writes the lineage into the slot's row while no
	// backend but $3 holds the slot, as saveSQL does.
	saveLineageSQL = `UPDATE ` + TableName + ` SET lineage = $2::text::jsonb WHERE slot = $1
AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots r
	WHERE r.slot_name = $1 AND r.active_pid IS NOT NULL AND r.active_pid <> $3::int)`
	lineageRowSQL = `SELECT EXISTS (SELECT 1 FROM ` + TableName + ` WHERE slot = $1),
	(SELECT active_pid FROM pg_catalog.pg_replication_slots WHERE slot_name = $1)`
)

// addLineageColumn adds the lineage column to a table of an older
// walrelay. A role that may not (it does not own the table) gets noLineage
// instead of an error: walrelay runs, keeping the lineage in data_dir.
func addLineageColumn(ctx context.Context, conn *pgx.Conn) (noLineage, err error) {
	_, err = conn.Exec(ctx, addLineageSQL)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege
		return fmt.Errorf("%w, and the role may not add it (%s): as the table's owner, run %s", ErrNoLineageColumn, pe.Message, AddLineageStatement()), nil
	}
	if err != nil {
		return nil, pgErr("add column lineage to", err)
	}
	return nil, nil
}

// AddLineageStatement is the SQL that adds the lineage column to a table
// of an older walrelay.
func AddLineageStatement() string { return addLineageSQL + ";" }

// LoadLineage implements LineageStore. A reader (NewPostgresReader) looks
// the table up first and finds nothing stored while the table or the
// column is missing.
func (s *PostgresStore) LoadLineage(ctx context.Context) ([]byte, error) {
	if s.noLineage != nil {
		return nil, s.noLineage
	}
	var text *string
	err := s.do(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		if s.readOnly {
			st, err := inspectTable(ctx, conn)
			switch {
			case err != nil:
				return err
			case !st.TableExists || !st.HasLineage:
				return pgx.ErrNoRows
			case !st.UsageOnSchema:
				return &unreadableError{role: st.Role}
			}
		}
		return conn.QueryRow(ctx, loadLineageSQL, s.slot).Scan(&text)
	})
	if errors.Is(err, pgx.ErrNoRows) || err == nil && text == nil {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: load the column lineage of slot %q: %w", s.slot, pgErr("read", err))
	}
	return []byte(*text), nil
}

// SaveLineage implements LineageStore: it updates the lineage column of
// the slot's row, fenced as Save is (a walrelay that lost the slot gets
// ErrSlotHeld and changes nothing). While the slot has no row (no
// checkpoint stored yet) b is kept and written by the next Save, in the
// same statement as the first checkpoint: until then a restart replays
// from the slot's start, and sees every relation again.
func (s *PostgresStore) SaveLineage(ctx context.Context, b []byte) error {
	if s.readOnly {
		return fmt.Errorf("checkpoint: column lineage not saved: the store of slot %q was opened read-only", s.slot)
	}
	if s.noLineage != nil {
		return s.noLineage
	}
	var refused bool
	var held *int32
	err := s.do(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		for try := 0; ; try++ {
			tag, err := conn.Exec(ctx, saveLineageSQL, s.slot, string(b), int32(s.holder.Load()))
			if err != nil {
				return err
			}
			if tag.RowsAffected() > 0 {
				s.pendingLineage = nil
				return nil
			}
			var exists bool
			if err := conn.QueryRow(ctx, lineageRowSQL, s.slot).Scan(&exists, &held); err != nil {
				return err
			}
			if !exists {
				s.pendingLineage = b
				return nil
			}
			// Refused, unless the holder let the slot go in between.
			if refused = held != nil && uint32(*held) != s.holder.Load(); refused || try > 0 {
				refused = true
				return nil
			}
		}
	})
	if err != nil {
		return fmt.Errorf("checkpoint: save the column lineage of slot %q: %w", s.slot, pgErr("write", err))
	}
	if refused {
		var pid int32
		if held != nil {
			pid = *held
		}
		return fmt.Errorf("checkpoint: column lineage not saved: slot %q is held by backend pid %d, not by this walrelay "+
			"(another walrelay streams from it now): %w", s.slot, pid, ErrSlotHeld)
	}
	return nil
}
