package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
)

// SnapshotSignalPrefix is the prefix of the logical decoding message that
// asks a running walrelay to snapshot tables again (`walrelay snapshot`,
// like Debezium's execute-snapshot signal): content {"tables":
// ["schema.table", ...]}. When the stream reaches it, walrelay records a
// catch-up of those tables (catchup.go) and restarts its session, which
// publishes their rows as read events from a snapshot and then exactly their
// later changes. The message itself is not published. It needs PostgreSQL
// 14 or later (pgoutput's messages option).
const SnapshotSignalPrefix = "walrelay_snapshot"

// snapshotSignal is the content of a snapshot signal.
type snapshotSignal struct {
	Tables []string `json:"tables"`
}

// EmitSnapshotSignal writes a snapshot signal for tables (schema.table)
// into the WAL with pg_logical_emit_message and returns its LSN.
func EmitSnapshotSignal(ctx context.Context, db *pgx.Conn, tables []string) (event.LSN, error) {
	version, err := serverVersionNum(ctx, db)
	if err != nil {
		return 0, err
	}
	if version < 140000 {
		return 0, fmt.Errorf("snapshot signals need PostgreSQL 14 or later (this server is %d); restart walrelay with "+
			"snapshot.mode: always instead", version)
	}
	body, err := json.Marshal(snapshotSignal{Tables: tables})
	if err != nil {
		return 0, err
	}
	var text string
	err = db.QueryRow(ctx, "SELECT pg_catalog.pg_logical_emit_message(true, $1, $2)::text", SnapshotSignalPrefix, string(body)).Scan(&text)
	if err != nil {
		return 0, fmt.Errorf("postgres: pg_logical_emit_message: %w", err)
	}
	lsn, err := pglogrepl.ParseLSN(text)
	return lsn, err
}

// serverVersionNum returns the server_version_num of db's server, e.g.
// 150004: logical messages in pgoutput (snapshot signals, watermarks) need
// 140000.
func serverVersionNum(ctx context.Context, db *pgx.Conn) (int, error) {
	var version int
	if err := db.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return 0, fmt.Errorf("postgres: reading server_version_num: %w", err)
	}
	return version, nil
}

// isSnapshotSignal reports whether ch is a snapshot signal.
func isSnapshotSignal(ch *event.Change) bool {
	return ch.Op == event.OpMessage && ch.Message != nil && ch.Message.Prefix == SnapshotSignalPrefix
}

// snapshotSignal answers a snapshot signal on the publisher goroutine: once
// per signal (one read again after a restart was recorded in the
// checkpoint's catch-up, Catchup.Signal), it records a catch-up of the
// signal's tables through the committer and asks the session to restart.
// Tables that the publication does not hold are dropped by runCatchup with
// a warning. A signal that does not parse is logged and ignored; neither
// ends the session.
func (p *publisher) snapshotSignal(ctx context.Context, ch *event.Change) error {
	s := p.s
	at := ch.Tx.CommitLSN
	log := s.log.With().Stringer("signal_lsn", at).Logger()
	if s.committer.Catchup().Handled(at) {
		log.Debug().Msg("snapshot signal already handled")
		return nil
	}
	var sig snapshotSignal
	if err := json.Unmarshal(ch.Message.Content, &sig); err != nil || len(sig.Tables) == 0 {
		log.Warn().Err(err).Str("content", string(ch.Message.Content)).
			Msg(`snapshot signal ignored: its content must be {"tables":["schema.table", ...]}`)
		return nil
	}
	tables := slices.Clone(sig.Tables)
	slices.Sort(tables)
	cu, err := s.catchupNextSession(ctx, slices.Compact(tables), at)
	if err != nil {
		return fmt.Errorf("recording the snapshot signal at %s: %w", at, err)
	}
	log.Info().Strs("tables", sig.Tables).Strs("catchup_tables", cu.Tables).
		Msg("snapshot signal: restarting the session to snapshot these tables")
	return nil
}
