package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// OpenStore opens the configured checkpoint store. owner is true only for
// the process that saves to it (walrelay run): it creates what is missing
// (data_dir, or the postgres store's schema and table, adding the catchup
// column to a table of an older walrelay) and first removes the temp files
// an earlier crash left. Readers (walrelay check and status) pass false and
// get a read-only store that changes nothing and reports nothing stored
// while the directory, file or table is missing; its Save fails.
//
// On error the Store is nil (an untyped nil, so callers' nil checks hold).
func OpenStore(ctx context.Context, cfg *config.Config, owner bool) (checkpoint.Store, error) {
	switch {
	case cfg.Checkpoint.Store == "postgres":
		open := checkpoint.NewPostgresStore
		if !owner {
			open = checkpoint.NewPostgresReader
		}
		ps, err := open(ctx, cfg.Postgres.DSN, cfg.Postgres.Slot)
		if err != nil {
			return nil, err
		}
		return ps, nil
	case !owner:
		return checkpoint.NewFileReader(cfg.DataDir, cfg.Postgres.Slot)
	}
	fs, err := checkpoint.NewFileStore(cfg.DataDir, cfg.Postgres.Slot)
	if err != nil {
		return nil, err
	}
	fs.RemoveTemps()
	return fs, nil
}

// position is where a session starts streaming, and the slot's confirmed
// position at that moment (never confirmed below).
type position struct {
	start event.LSN
	slot  event.LSN
	// snap says whether the session snapshots before streaming; exported is
	// the snapshot exported when the slot was created for it ("" otherwise).
	snap     snapshotDecision
	exported string
	// created: this session created the slot (it was missing, or
	// invalidated and dropped), so nothing was confirmed from it yet.
	created bool
}

// startPosition decides where streaming starts, creating the slot when it is
// missing, refusing to start over a gap (invariant 6) unless allowed, and
// honouring --replay-from inside the retained window. prev is the walsender
// of the Run's previous session (see waitSlotInactive); watch says what the
// slot's creation logs and reports while it waits.
func startPosition(ctx context.Context, db *pgx.Conn, repl *pgconn.PgConn, opts Options,
	stored checkpoint.Position, found, snapshotTaken bool, prev walsenderID, log zerolog.Logger,
	watch replication.SlotWatch) (position, error) {
	cfg := opts.Config
	slotName := cfg.Postgres.Slot
	slot, err := waitSlotInactive(ctx, db, slotName, prev, cfg.Postgres.Standby, log)
	if err != nil {
		return position{}, err
	}
	if opts.ReplayFrom != 0 {
		return replayPosition(slot, stored, found, opts.ReplayFrom, slotName)
	}
	snap := decideSnapshot(cfg, snapshotTaken, found, slot, stored.LSN)
	if slot.Invalidated() {
		if slot, err = replaceInvalidated(ctx, repl, slot, stored, found, opts.AllowGap, snap.take, slotName, log); err != nil {
			return position{}, err
		}
	}
	start, exported, err := resumePosition(ctx, repl, slot, stored, found, opts.AllowGap, snap.take, slotName, log, watch)
	if err != nil {
		return position{}, err
	}
	if !slot.Exists {
		return position{start: start, slot: start, snap: snap, exported: exported, created: true}, nil
	}
	return position{start: start, slot: slot.ConfirmedFlush, snap: snap}, nil
}

// replayPosition validates --replay-from against the window the slot retains:
// [slot's confirmed_flush_lsn, stored checkpoint].
func replayPosition(slot replication.SlotInfo, stored checkpoint.Position, found bool, from event.LSN, slotName string) (position, error) {
	if !slot.Exists || !found {
		return position{}, fatal(fmt.Errorf("--replay-from %s: nothing to replay: slot %q exists=%v, checkpoint stored=%v "+
			"(replay needs a running history: start once without --replay-from)", from, slotName, slot.Exists, found))
	}
	if slot.Invalidated() {
		return position{}, fatal(fmt.Errorf("--replay-from %s: nothing to replay: %s", from, slot.Invalidation(slotName)))
	}
	if from < slot.ConfirmedFlush || from > stored.LSN {
		return position{}, fatal(fmt.Errorf("--replay-from %s is outside the replay window [%s, %s] that slot %q retains "+
			"(choose an LSN inside it; set checkpoint.retain to keep a longer window)", from, slot.ConfirmedFlush, stored.LSN, slotName))
	}
	return position{start: from, slot: slot.ConfirmedFlush}, nil
}

// replaceInvalidated drops a slot that PostgreSQL invalidated, so that
// resumePosition creates it again, when nothing is lost by it: no
// checkpoint is stored (the first start), a snapshot follows, or --allow-gap
// accepts the gap. Otherwise starting would lose the changes after the
// checkpoint, and it is fatal with the ways out.
func replaceInvalidated(ctx context.Context, repl *pgconn.PgConn, slot replication.SlotInfo, stored checkpoint.Position,
	found, allowGap, snapshot bool, slotName string, log zerolog.Logger) (replication.SlotInfo, error) {
	what := slot.Invalidation(slotName)
	if found && !allowGap && !snapshot {
		return slot, fatal(fmt.Errorf("%s, so the changes after the stored checkpoint %s are lost to walrelay "+
			"(set snapshot.mode: when_needed to drop the slot and re-snapshot the captured tables, or drop it with "+
			"SELECT pg_drop_replication_slot('%s') and start with --allow-gap to accept the gap; to keep it from "+
			"happening again, raise max_slot_wal_keep_size and alert on walrelay_lag_bytes)", what, stored.LSN, slotName))
	}
	if err := replication.DropSlot(ctx, repl, slotName); err != nil {
		return slot, err
	}
	log.Warn().Str("slot", slotName).Str("wal_status", slot.WALStatus).Str("invalidation_reason", slot.InvalidationReason).
		Stringer("checkpoint", stored.LSN).Bool("snapshot", snapshot).Msg("dropped the invalidated replication slot: " + what)
	return replication.SlotInfo{}, nil
}

// resumePosition is where a normal start resumes, refusing a gap
// (replication.Gap, in the words walrelay check uses) unless --allow-gap or a
// snapshot accepts it; an accepted gap is logged. With snapshot set, a
// snapshot of the captured tables follows: a missing slot is created with an
// exported snapshot (returned), since the snapshot restores the current
// state.
func resumePosition(ctx context.Context, repl *pgconn.PgConn, slot replication.SlotInfo, stored checkpoint.Position,
	found, allowGap, snapshot bool, slotName string, log zerolog.Logger, watch replication.SlotWatch) (event.LSN, string, error) {
	if found && !allowGap && !snapshot {
		if what, gap := replication.Gap(slot, slotName, stored.LSN); gap {
			return 0, "", fatal(fmt.Errorf("%s (%s)", what, replication.GapFix))
		}
	}
	if !slot.Exists {
		if found { // a gap, refused above unless accepted
			logGap(log, slotName, "the slot is missing: the changes after the checkpoint are lost to walrelay",
				stored.LSN, 0, snapshot)
		}
		return createSlot(ctx, repl, slotName, snapshot, watch)
	}
	if slot.Plugin != "pgoutput" {
		return 0, "", fatal(fmt.Errorf("replication slot %q uses plugin %q, walrelay needs pgoutput "+
			"(drop it with SELECT pg_drop_replication_slot('%s') or choose another postgres.slot)", slotName, slot.Plugin, slotName))
	}
	if !found {
		return slot.ConfirmedFlush, "", nil
	}
	if slot.ConfirmedFlush > stored.LSN { // a gap, refused above unless accepted
		logGap(log, slotName, "the slot is ahead of the checkpoint: the changes in between are lost to walrelay",
			stored.LSN, slot.ConfirmedFlush, snapshot)
		return slot.ConfirmedFlush, "", nil
	}
	return stored.LSN, "", nil
}

// logGap logs, as one warning "accepting a gap", a gap a start accepts:
// --allow-gap, or a snapshot that restores the current state.
func logGap(log zerolog.Logger, slotName, what string, checkpoint, slotLSN event.LSN, snapshot bool) {
	by := "--allow-gap"
	if snapshot {
		by = "snapshot: it restores the current state"
	}
	e := log.Warn().Str("slot", slotName).Stringer("checkpoint", checkpoint).Str("gap", what).Str("accepted_by", by)
	if slotLSN != 0 {
		e = e.Stringer("slot_lsn", slotLSN)
	}
	e.Msg("accepting a gap")
}

// createSlot creates the slot, exporting its snapshot when one is taken;
// watch logs while the creation waits for open transactions.
func createSlot(ctx context.Context, repl *pgconn.PgConn, slotName string, export bool, watch replication.SlotWatch) (event.LSN, string, error) {
	var lsn event.LSN
	var exported string
	var err error
	if export {
		lsn, exported, err = replication.CreateSlotExportSnapshot(ctx, repl, slotName, watch)
	} else {
		lsn, err = replication.CreateSlot(ctx, repl, slotName, watch)
	}
	if err != nil {
		return 0, "", err
	}
	watch.Log.Info().Str("slot", slotName).Stringer("consistent_point", lsn).Bool("snapshot_exported", exported != "").
		Msg("created replication slot")
	return lsn, exported, nil
}

// waitSlotInactive reads the slot, waiting up to 15 s for a previous walsender
// (e.g. of a killed walrelay) to release it. The walsender of this Run's
// previous session (prev), left behind by a lost connection, is terminated
// instead of waited for. A standby does not wait here: it returns
// slotBusyError at once, and Run waits (standby.go).
func waitSlotInactive(ctx context.Context, db *pgx.Conn, slot string, prev walsenderID, standby bool, log zerolog.Logger) (replication.SlotInfo, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		info, err := replication.LookupSlot(ctx, db, slot)
		if err != nil || !info.Exists || !info.Active {
			return info, err
		}
		if endStaleWalsender(ctx, db, prev, info.ActivePID, log) {
			prev = walsenderID{}
		} else if standby {
			return info, &slotBusyError{slot: slot, pid: info.ActivePID}
		}
		if time.Now().After(deadline) {
			return info, fmt.Errorf("replication slot %q is in use by backend pid %d "+
				"(is another walrelay running with this slot? stop it or set postgres.slot)", slot, info.ActivePID)
		}
		log.Info().Str("slot", slot).Int32("pid", info.ActivePID).Msg("slot in use, waiting for it to be released")
		select {
		case <-ctx.Done():
			return info, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
