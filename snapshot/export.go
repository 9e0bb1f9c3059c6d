package snapshot

import (
	"context"
	"fmt"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
)

// Exported is a snapshot exported by a transaction on a normal connection,
// for when the replication slot already exists and cannot export one.
type Exported struct {
	// Name is the snapshot's name for Options.Snapshot.
	Name string
	// LSN is the WAL insert position when the snapshot was taken: every
	// transaction visible in it committed before LSN.
	LSN  event.LSN
	conn *pgx.Conn
}

// Export begins a REPEATABLE READ READ ONLY transaction on conn (a
// connection dedicated to it) and exports its snapshot. The snapshot stays
// importable until Release; call Release once Open has returned.
func Export(ctx context.Context, conn *pgx.Conn) (*Exported, error) {
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return nil, fmt.Errorf("snapshot: beginning the exporting transaction: %w", err)
	}
	e := &Exported{conn: conn}
	var lsn string
	if err := conn.QueryRow(ctx, "SELECT pg_export_snapshot(), pg_current_wal_insert_lsn()::text").Scan(&e.Name, &lsn); err != nil {
		_, _ = conn.Exec(ctx, "ROLLBACK")
		return nil, fmt.Errorf("snapshot: pg_export_snapshot: %w", err)
	}
	var err error
	if e.LSN, err = pglogrepl.ParseLSN(lsn); err != nil {
		_, _ = conn.Exec(ctx, "ROLLBACK")
		return nil, fmt.Errorf("snapshot: pg_current_wal_insert_lsn %q: %w", lsn, err)
	}
	return e, nil
}

// Release ends the exporting transaction; readers that imported the
// snapshot keep it.
func (e *Exported) Release(ctx context.Context) error {
	if _, err := e.conn.Exec(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("snapshot: ending the exporting transaction: %w", err)
	}
	return nil
}
