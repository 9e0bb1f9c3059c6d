package replication

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/event"
)

// CheckServer verifies the server prerequisites that make streaming possible
// at all and says how to fix each one: wal_level, and a primary (or a
// standby of PostgreSQL 16+), before walrelay creates anything.
func CheckServer(ctx context.Context, db *pgx.Conn) error {
	if err := requirePrimary(ctx, db); err != nil {
		return err
	}
	var level string
	if err := db.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		return fmt.Errorf("postgres: reading wal_level: %w", err)
	}
	if level != "logical" {
		return fmt.Errorf("postgres: wal_level is %q, logical decoding needs \"logical\" "+
			"(run ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL)", level)
	}
	return nil
}

// SlotInfo is a replication slot's state from pg_replication_slots.
type SlotInfo struct {
	Exists         bool
	Plugin         string
	Database       string
	Active         bool
	ActivePID      int32
	ConfirmedFlush event.LSN
	RestartLSN     event.LSN
	// WALStatus is pg_replication_slots.wal_status (PostgreSQL 13+):
	// reserved, extended, unreserved (about to be invalidated) or lost
	// (invalidated); "" before 13.
	WALStatus string
	// InvalidationReason is pg_replication_slots.invalidation_reason
	// (PostgreSQL 17+: wal_removed, rows_removed, wal_level_insufficient,
	// idle_timeout); "" when valid or before 17.
	InvalidationReason string
}

// Invalidated reports whether PostgreSQL invalidated the slot: it can no
// longer stream, and the changes after its position are gone.
func (s SlotInfo) Invalidated() bool {
	return s.Exists && (s.WALStatus == "lost" || s.InvalidationReason != "")
}

// Invalidation describes an invalidated slot for an operator: why
// PostgreSQL invalidated it, as far as the server says.
func (s SlotInfo) Invalidation(slot string) string {
	why := "it held more WAL than max_slot_wal_keep_size allows"
	switch s.InvalidationReason {
	case "", "wal_removed":
	case "rows_removed":
		why = "rows it still needed were vacuumed away (on a standby)"
	case "wal_level_insufficient":
		why = "wal_level on the primary fell below logical"
	case "idle_timeout":
		why = "it stayed idle longer than idle_replication_slot_timeout"
	default:
		why = "reason " + s.InvalidationReason
	}
	status := s.WALStatus
	if s.InvalidationReason != "" {
		status += ", invalidation_reason " + s.InvalidationReason
	}
	return fmt.Sprintf("replication slot %q was invalidated by PostgreSQL (wal_status %s): %s", slot, status, why)
}

// LookupSlot reads the slot's state; Exists is false when there is no such slot.
func LookupSlot(ctx context.Context, db *pgx.Conn, slot string) (SlotInfo, error) {
	var s SlotInfo
	var plugin, database *string
	var pid *int32
	var confirmed, restart, walStatus, reason *string
	// to_jsonb reads the columns newer servers added, as NULL on older ones.
	err := db.QueryRow(ctx, `SELECT plugin, database, active, active_pid,
		confirmed_flush_lsn::text, restart_lsn::text, to_jsonb(s) ->> 'wal_status', to_jsonb(s) ->> 'invalidation_reason'
		FROM pg_replication_slots s WHERE slot_name = $1`, slot).
		Scan(&plugin, &database, &s.Active, &pid, &confirmed, &restart, &walStatus, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("postgres: reading slot %q: %w", slot, err)
	}
	s.Exists = true
	s.Plugin, s.Database = deref(plugin), deref(database)
	s.WALStatus, s.InvalidationReason = deref(walStatus), deref(reason)
	if pid != nil {
		s.ActivePID = *pid
	}
	s.ConfirmedFlush, _ = pglogrepl.ParseLSN(deref(confirmed))
	s.RestartLSN, _ = pglogrepl.ParseLSN(deref(restart))
	return s, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// CreateSlot creates a logical slot with pgoutput and returns its consistent
// point. The creation waits for the transactions open on the server to end,
// and w says what it logs meanwhile (SlotWatch).
func CreateSlot(ctx context.Context, conn *pgconn.PgConn, slot string, w SlotWatch) (event.LSN, error) {
	lsn, _, err := createSlot(ctx, conn, slot, "NOEXPORT_SNAPSHOT", false, w)
	return lsn, err
}

// CreateSlotExportSnapshot creates a logical slot with pgoutput and exports
// the snapshot of its consistent point: a transaction that imports it (SET
// TRANSACTION SNAPSHOT) sees exactly the changes committed before the first
// change the slot streams. The snapshot stays importable until the next
// command on conn, so the caller keeps conn idle until every reader has
// imported it, then starts replication on conn.
func CreateSlotExportSnapshot(ctx context.Context, conn *pgconn.PgConn, slot string, w SlotWatch) (event.LSN, string, error) {
	return createSlot(ctx, conn, slot, "EXPORT_SNAPSHOT", false, w)
}

// CreateTempSlotExportSnapshot is CreateSlotExportSnapshot for a temporary
// slot, dropped by the server when conn closes: a snapshot exported exactly
// at the returned LSN, nothing streamed from it.
func CreateTempSlotExportSnapshot(ctx context.Context, conn *pgconn.PgConn, slot string, w SlotWatch) (event.LSN, string, error) {
	return createSlot(ctx, conn, slot, "EXPORT_SNAPSHOT", true, w)
}

func createSlot(ctx context.Context, conn *pgconn.PgConn, slot, snapshotAction string, temporary bool, w SlotWatch) (event.LSN, string, error) {
	stop := w.start(ctx, slot)
	res, err := pglogrepl.CreateReplicationSlot(ctx, conn, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: snapshotAction, Temporary: temporary})
	stop()
	if err != nil {
		return 0, "", fmt.Errorf("postgres: creating replication slot %q: %w (%s)", slot, err, slotCreateFix(err))
	}
	lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return 0, "", fmt.Errorf("postgres: slot %q consistent point %q: %w", slot, res.ConsistentPoint, err)
	}
	return lsn, res.SnapshotName, nil
}

// System identifies the server: its system identifier and the connected database.
type System struct {
	ID       string
	Database string
	Timeline int32
}

// IdentifySystem runs IDENTIFY_SYSTEM on a replication connection.
func IdentifySystem(ctx context.Context, conn *pgconn.PgConn) (System, error) {
	r, err := pglogrepl.IdentifySystem(ctx, conn)
	if err != nil {
		return System{}, fmt.Errorf("postgres: IDENTIFY_SYSTEM: %w", err)
	}
	return System{ID: r.SystemID, Database: r.DBName, Timeline: r.Timeline}, nil
}

// DropSlot drops slot over the replication connection conn (DROP_REPLICATION_SLOT).
func DropSlot(ctx context.Context, conn *pgconn.PgConn, slot string) error {
	if err := pglogrepl.DropReplicationSlot(ctx, conn, slot, pglogrepl.DropReplicationSlotOptions{}); err != nil {
		return fmt.Errorf("postgres: dropping replication slot %q: %w", slot, err)
	}
	return nil
}

// slotCreateFix is the fix of a failed CREATE_REPLICATION_SLOT: the slots
// are all taken (53400), or, for anything else, what usually causes it.
func slotCreateFix(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "53400" {
		return "every replication slot is taken: raise max_replication_slots, or drop a slot no longer used"
	}
	return "check max_replication_slots, and the role's REPLICATION attribute"
}
