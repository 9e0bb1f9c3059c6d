package pipeline

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
)

// walsenderID identifies the server process (walsender) that serves a
// replication connection: its PID, and its backend_start so that a reused
// PID is not mistaken for it.
type walsenderID struct {
	pid     uint32
	started string
}

const backendStartQuery = "SELECT backend_start::text FROM pg_catalog.pg_stat_activity WHERE pid = $1"

// ownWalsender reads the identity of the walsender serving repl, or the
// zero walsenderID if it cannot (it is only used to end that walsender
// later, see endStaleWalsender).
func ownWalsender(ctx context.Context, db *pgx.Conn, repl *pgconn.PgConn) walsenderID {
	var started *string
	pid := repl.PID()
	if err := db.QueryRow(ctx, backendStartQuery, int32(pid)).Scan(&started); err != nil || started == nil {
		return walsenderID{}
	}
	return walsenderID{pid: pid, started: *started}
}

// endStaleWalsender terminates the walsender with PID active, which holds
// the slot, if it is prev: the walsender of this Run's previous session. A
// connection lost without the server noticing (a partition, see
// silence.go) leaves it holding the slot until wal_sender_timeout, a minute
// by default; it serves nobody. Any other walsender (another walrelay, a
// reused PID) is left alone. It reports whether it terminated one.
func endStaleWalsender(ctx context.Context, db *pgx.Conn, prev walsenderID, active int32, log zerolog.Logger) bool {
	if prev.pid == 0 || uint32(active) != prev.pid {
		return false
	}
	var started *string
	if err := db.QueryRow(ctx, backendStartQuery, active).Scan(&started); err != nil || started == nil || *started != prev.started {
		return false
	}
	var done bool
	if err := db.QueryRow(ctx, "SELECT pg_catalog.pg_terminate_backend($1)", active).Scan(&done); err != nil || !done {
		log.Warn().Err(err).Int32("pid", active).Msg("cannot terminate this walrelay's previous walsender; waiting for the server to time it out")
		return false
	}
	log.Warn().Int32("pid", active).Str("backend_start", prev.started).
		Msg("terminated this walrelay's previous walsender: its connection was lost but it still held the slot")
	return true
}
