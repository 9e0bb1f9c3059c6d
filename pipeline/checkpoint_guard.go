package pipeline

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// StoredWhere names where cfg's checkpoint is stored, for messages: the
// file in data_dir, or the slot's row in checkpoint.TableName.
func StoredWhere(cfg *config.Config) string {
	if cfg.Checkpoint.Store == "postgres" {
		return fmt.Sprintf("the row of slot %q in %s", cfg.Postgres.Slot, checkpoint.TableName)
	}
	return filepath.Join(cfg.DataDir, checkpoint.FileName)
}

// moveAside is how an operator moves cfg's stored checkpoint out of the way.
func moveAside(cfg *config.Config) string {
	if cfg.Checkpoint.Store == "postgres" {
		return fmt.Sprintf("copy the row, then DELETE FROM %s WHERE slot = '%s'", checkpoint.TableName, cfg.Postgres.Slot)
	}
	p := StoredWhere(cfg)
	return fmt.Sprintf("mv %s %s.bak", p, p)
}

// clearIdentity is how an operator clears the recorded system identifier.
func clearIdentity(cfg *config.Config) string {
	if cfg.Checkpoint.Store == "postgres" {
		return fmt.Sprintf("UPDATE %s SET system_id = NULL, database = NULL WHERE slot = '%s'", checkpoint.TableName, cfg.Postgres.Slot)
	}
	return "delete the \"system_id\" and \"database\" fields of " + StoredWhere(cfg)
}

// VerifyStored refuses a stored checkpoint pos that cannot belong to the
// history of the server walrelay connects to: one recorded for another
// PostgreSQL system (systemID; a checkpoint of an older walrelay records
// none and passes), or one ahead of the server's
// current WAL position wal (a checkpoint copied from another cluster with
// the same slot name, an old data_dir backup, a PostgreSQL restored from a
// backup to an earlier point). Streaming from such a position would confirm
// to the slot an LSN the server has not written and skip every change until
// its WAL reaches it. An empty systemID or a zero wal skips that check (not
// known). The database is not compared: LSNs are cluster-wide and a slot
// name is unique in a cluster, so a database renamed since (ALTER DATABASE
// ... RENAME) keeps its checkpoint; database only names both sides in the
// message. The error names both sides, the likely causes and the way out.
func VerifyStored(cfg *config.Config, pos checkpoint.Position, systemID, database string, wal event.LSN) error {
	where := StoredWhere(cfg)
	out := fmt.Sprintf("move it aside (%s): walrelay then starts as on a new data_dir, resuming from the slot's "+
		"confirmed position after a snapshot of the captured tables (snapshot.mode initial); or, if you know the "+
		"last LSN walrelay published from this server, write it into the checkpoint's lsn", moveAside(cfg))
	if systemID != "" && pos.SystemID != "" && pos.SystemID != systemID {
		return fmt.Errorf("the stored checkpoint %s (%s) was written for PostgreSQL system %s, database %q, but postgres.dsn "+
			"connects to system %s, database %q: its LSN means nothing on this server (a checkpoint copied from another "+
			"cluster, or a database restored into another cluster); point postgres.dsn at the server it came from, or %s. "+
			"If this is the same database after a pg_upgrade that carried the slot over (it changes the system "+
			"identifier), clear the checkpoint's system_id (%s) to accept it: the next save records the new one",
			pos.LSN, where, pos.SystemID, pos.Database, systemID, database, out, clearIdentity(cfg))
	}
	if wal != 0 && pos.LSN > wal {
		return fmt.Errorf("the stored checkpoint %s (%s) is ahead of the server's current WAL position %s: it is not "+
			"from this server's history (copied from another cluster with the same slot name, restored from an old "+
			"data_dir backup, or this PostgreSQL was restored from a backup to an earlier point); streaming from it would "+
			"confirm to the slot an LSN the server has not written and skip every change until the WAL reaches it. "+
			"Nothing was confirmed. To start: %s", pos.LSN, where, wal, out)
	}
	return nil
}

// ServerIdentity returns the system identifier and database name of the
// server db is connected to; an empty system identifier when the role may
// not read pg_control_system().
func ServerIdentity(ctx context.Context, db *pgx.Conn) (systemID, database string, err error) {
	if err := db.QueryRow(ctx, `SELECT current_database()::text`).Scan(&database); err != nil {
		return "", "", fmt.Errorf("postgres: current_database: %w", err)
	}
	if db.QueryRow(ctx, `SELECT system_identifier::text FROM pg_catalog.pg_control_system()`).Scan(&systemID) != nil {
		return "", database, nil
	}
	return systemID, database, nil
}

// CheckStored is VerifyStored against the server db is connected to: for
// `walrelay check` and `walrelay status`, which read the checkpoint as run
// does.
func CheckStored(ctx context.Context, db *pgx.Conn, cfg *config.Config, pos checkpoint.Position) error {
	systemID, database, err := ServerIdentity(ctx, db)
	if err != nil {
		return err
	}
	wal, err := ServerWALPosition(ctx, db)
	if err != nil {
		return err
	}
	return VerifyStored(cfg, pos, systemID, database, wal)
}

// verifyStored records the server's identity in the store, for every later
// save, gives the store the session's logger, and refuses (fatal) a stored checkpoint that is not from this
// server's history (VerifyStored). Called by setup after IDENTIFY_SYSTEM,
// before anything streams or is confirmed.
func (s *session) verifyStored(ctx context.Context, systemID, database string) error {
	if id, ok := s.store.(checkpoint.Identified); ok {
		id.SetIdentity(systemID, database)
	}
	if l, ok := s.store.(interface{ SetLogger(zerolog.Logger) }); ok {
		l.SetLogger(s.log) // for a row re-created under it (PostgresStore.Save)
	}
	if !s.found {
		return nil
	}
	wal, err := ServerWALPosition(ctx, s.db)
	if err != nil {
		return err
	}
	return s.verifyAt(systemID, database, wal)
}

// verifyAt is verifyStored once the server's WAL position wal is known. A
// refused checkpoint is dropped from the session (s.stored, s.found), so
// that neither the "stopped" line nor the status file reports it as the
// process's checkpoint. A checkpoint of this system recorded under another
// database name (the database was renamed) is accepted with an info line:
// the next save records the new name.
func (s *session) verifyAt(systemID, database string, wal event.LSN) error {
	if err := VerifyStored(s.cfg, s.stored, systemID, database, wal); err != nil {
		s.stored, s.found = checkpoint.Position{}, false
		return fatal(err)
	}
	if p := s.stored; p.SystemID != "" && p.Database != "" && p.Database != database {
		s.log.Info().Str("slot", s.cfg.Postgres.Slot).Str("recorded_database", p.Database).Str("database", database).
			Msg("the checkpoint was recorded under another database name of this PostgreSQL system: the database " +
				"was renamed; resuming from it, the next save records the new name")
	}
	return nil
}

// remember keeps what session s stored, or loaded, as the Run's known
// checkpoint (runState.known): the committer's last save, else the
// position s loaded or its snapshot saved.
func (rs *runState) remember(s *session) {
	if s.committer != nil {
		if p, ok := s.committer.LastSaved(); ok {
			rs.known, rs.knownOK = p, true
			return
		}
	}
	if s.found || s.stored.LSN != 0 {
		rs.known, rs.knownOK = s.stored, true
	}
}

// restoreVanished handles a session start that finds no checkpoint stored
// while this Run holds one: it loaded or saved one before, so the file (or
// data_dir) was deleted, or the checkpoint table dropped, under the running
// process. Taking that as a first start would snapshot the captured tables
// and fold the changes before its boundary into read events: change events
// lost as such. The safest course is to write back the checkpoint the Run
// holds, when the slot's confirmed position is not past it: walrelay
// confirms only persisted positions, so resuming from it loses nothing and
// repeats at most what a restart repeats anyway. A slot confirmed past it
// was streamed by another walrelay since (a standby pair whose partner took
// over after this process's term): the held checkpoint is stale, and
// writing it back would end in a false gap. It is then not written back;
// the session goes on as without a checkpoint, with a warning that says
// why. The store re-created the data_dir or the table when the session
// opened it. It logs a warning naming what vanished and what was
// re-created. An operator who wants a fresh start stops walrelay before
// removing the checkpoint. The data_dir lock is taken again separately
// (relockDataDir).
func (s *session) restoreVanished(ctx context.Context) error {
	if s.found || !s.rs.knownOK {
		return nil
	}
	slot, err := replication.LookupSlot(ctx, s.db, s.cfg.Postgres.Slot)
	if err != nil {
		return err
	}
	var confirmed event.LSN
	if slot.Exists {
		confirmed = slot.ConfirmedFlush
	}
	return s.writeBack(ctx, confirmed)
}

// vanishedWhat names, for the warnings, what vanished from under the
// running process.
func (s *session) vanishedWhat() string {
	if s.cfg.Checkpoint.Store == "postgres" {
		return StoredWhere(s.cfg) + " (or the table)"
	}
	return "checkpoint file " + StoredWhere(s.cfg) + " (or data_dir)"
}

// writeBack is restoreVanished once the slot's confirmed position is known
// (0: no slot, or none confirmed).
func (s *session) writeBack(ctx context.Context, confirmed event.LSN) error {
	held := s.rs.known
	if confirmed > held.LSN {
		s.log.Warn().Str("slot", s.cfg.Postgres.Slot).Stringer("held_checkpoint", held.LSN).
			Stringer("slot_confirmed", confirmed).Str("vanished", s.vanishedWhat()).
			Msg("the stored checkpoint vanished while walrelay ran, and the slot was confirmed past the checkpoint " +
				"this process held: another walrelay (the partner of a standby pair) streamed from it since, so the " +
				"held one is stale and is not written back; going on as without a stored checkpoint (snapshot.mode " +
				"decides)")
		return nil
	}
	held.UpdatedAt = held.UpdatedAt.UTC()
	if err := s.store.Save(ctx, held); err != nil {
		return fmt.Errorf("the stored checkpoint vanished while walrelay ran and writing back the one it held (%s) "+
			"failed: %w", held.LSN, err)
	}
	s.log.Warn().Str("slot", s.cfg.Postgres.Slot).Stringer("checkpoint", held.LSN).Str("vanished", s.vanishedWhat()).
		Msg("the stored checkpoint vanished while walrelay ran: re-created it from the checkpoint this process held " +
			"and resumes from there (no snapshot); stop walrelay before removing a checkpoint to start afresh")
	s.stored, s.found = held, true
	return nil
}

// relockDataDir takes the data_dir lock again when its file vanished or
// was replaced (the data_dir was deleted under the running process, whose
// lock then guards nothing), so that a second walrelay on the same data_dir
// is still refused; Run also checks every lockWatchEvery (lock_watch.go).
// A lock another process took in the meantime is fatal: it now owns the
// data_dir.
func (s *session) relockDataDir() error {
	return s.rs.lock.check(s.log)
}

// checkpointOf is the checkpoint a report of session s shows: the one it
// persisted, else the one it loaded or saved at its start, else the
// newest this Run knows (a session that failed before its first save
// persisted nothing: the stored checkpoint is unchanged).
func (rs *runState) checkpointOf(s *session) (event.LSN, bool) {
	if s.committer != nil && s.committer.Persisted() != 0 {
		return s.committer.Persisted(), true
	}
	if s.found || s.stored.LSN != 0 {
		return s.stored.LSN, true
	}
	return rs.known.LSN, rs.knownOK
}
