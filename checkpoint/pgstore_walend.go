package checkpoint

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
)

// walAfterSaveSQL reads the server's WAL write position. Run after a save
// committed (synchronous_commit=on: its commit record is flushed), it is at
// or past the end of that save's WAL.
const walAfterSaveSQL = `SELECT pg_catalog.pg_current_wal_lsn()::text`

// WALAfterSave implements SelfWriting.
func (s *PostgresStore) WALAfterSave() event.LSN { return event.LSN(s.walAfter.Load()) }

// noteWALAfterSave records the server's WAL position after a save that
// committed. It is best effort: the save is durable whatever happens here,
// so an error only makes the position unknown (0), and the idle advance
// then follows the save's WAL as it did before. Called inside do, with mu
// held.
func (s *PostgresStore) noteWALAfterSave(ctx context.Context, conn *pgx.Conn) {
	s.walAfter.Store(0)
	var text string
	if err := conn.QueryRow(ctx, walAfterSaveSQL).Scan(&text); err != nil {
		s.log.Debug().Err(err).Str("slot", s.slot).Msg("the server's WAL position after a checkpoint save was not read")
		return
	}
	if lsn, ok := parseLSN(text); ok {
		s.walAfter.Store(uint64(lsn))
	}
}
