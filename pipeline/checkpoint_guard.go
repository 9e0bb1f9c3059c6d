package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
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
// PostgreSQL system or database (systemID, database; a checkpoint of an
// older walrelay records none and passes), or one ahead of the server's
// current WAL position wal (a checkpoint copied from another cluster with
// the same slot name, an old data_dir backup, a PostgreSQL restored from a
// backup to an earlier point). Streaming from such a position would confirm
// to the slot an LSN the server has not written and skip every change until
// its WAL reaches it. An empty systemID or a zero wal skips that check (not
// known). The error names both sides, the likely causes and the way out.
func VerifyStored(cfg *config.Config, pos checkpoint.Position, systemID, database string, wal event.LSN) error {
	where := StoredWhere(cfg)
	out := fmt.Sprintf("move it aside (%s): walrelay then starts as on a new data_dir, resuming from the slot's "+
		"confirmed position after a snapshot of the captured tables (snapshot.mode initial); or, if you know the "+
		"last LSN walrelay published from this server, write it into the checkpoint's lsn", moveAside(cfg))
	if systemID != "" && pos.SystemID != "" && (pos.SystemID != systemID || pos.Database != database) {
		return fmt.Errorf("the stored checkpoint %s (%s) was written for PostgreSQL system %s, database %q, but postgres.dsn "+
			"connects to system %s, database %q: its LSN means nothing on this server (a checkpoint copied from another "+
			"cluster, or a database restored into another one); point postgres.dsn at the server it came from, or %s. "+
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
// save, and refuses (fatal) a stored checkpoint that is not from this
// server's history (VerifyStored). Called by setup after IDENTIFY_SYSTEM,
// before anything streams or is confirmed.
func (s *session) verifyStored(ctx context.Context, systemID, database string) error {
	if id, ok := s.store.(checkpoint.Identified); ok {
		id.SetIdentity(systemID, database)
	}
	if !s.found {
		return nil
	}
	wal, err := ServerWALPosition(ctx, s.db)
	if err != nil {
		return err
	}
	return fatal(VerifyStored(s.cfg, s.stored, systemID, database, wal))
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
// holds: the slot's confirmed position is never past it (only persisted
// positions are confirmed), so resuming from it loses nothing and repeats
// at most what a restart repeats anyway. The store re-created the data_dir
// or the table when the session opened it. It logs a warning naming what
// vanished and what was re-created. An operator who wants a fresh start
// stops walrelay before removing the checkpoint. The data_dir lock is taken
// again separately (relockDataDir).
func (s *session) restoreVanished(ctx context.Context) error {
	if s.found || !s.rs.knownOK {
		return nil
	}
	held := s.rs.known
	held.UpdatedAt = held.UpdatedAt.UTC()
	if err := s.store.Save(ctx, held); err != nil {
		return fmt.Errorf("the stored checkpoint vanished while walrelay ran and writing back the one it held (%s) "+
			"failed: %w", held.LSN, err)
	}
	vanished := "checkpoint file " + StoredWhere(s.cfg) + " (or data_dir)"
	if s.cfg.Checkpoint.Store == "postgres" {
		vanished = StoredWhere(s.cfg) + " (or the table)"
	}
	s.log.Warn().Str("slot", s.cfg.Postgres.Slot).Stringer("checkpoint", held.LSN).Str("vanished", vanished).
		Msg("the stored checkpoint vanished while walrelay ran: re-created it from the checkpoint this process held " +
			"and resumes from there (no snapshot); stop walrelay before removing a checkpoint to start afresh")
	s.stored, s.found = held, true
	return nil
}

// relockDataDir takes the data_dir lock again when its file vanished (the
// data_dir was deleted under the running process, whose lock then guards
// nothing), so that a second walrelay on the same data_dir is still
// refused; the new lock is released when Run returns. A lock another
// process took in the meantime is fatal: it now owns the data_dir.
func (s *session) relockDataDir() error {
	dir := s.cfg.DataDir
	if dir == "" || !s.rs.locked {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	unlock, err := lockDataDir(dir)
	if err != nil {
		return err
	}
	s.rs.unlocks = append(s.rs.unlocks, unlock)
	s.log.Warn().Str("data_dir", dir).Str("lock", LockFile).
		Msg("the data_dir lock file vanished while walrelay ran: took the lock again on a new file")
	return nil
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
