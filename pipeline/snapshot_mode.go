package pipeline

import (
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// snapshotDecision is whether a session snapshots the captured tables
// before it streams, and why (for the log).
type snapshotDecision struct {
	take   bool
	reason string
}

// decideSnapshot applies snapshot.mode to what startPosition found: the
// stored checkpoint (found, stored) and the slot; taken says a snapshot
// already completed in this Run.
//
//	never         no snapshot
//	initial       when no checkpoint is stored (the first start, or every
//	initial_only  start until a snapshot completed: no checkpoint is saved
//	              before that, so an interrupted snapshot is taken again)
//	always        on the first session of the process, and as initial
//	when_needed   as initial, and when the stored position is no longer
//	              available: the slot is missing, invalidated by PostgreSQL,
//	              or ahead of the checkpoint
func decideSnapshot(cfg *config.Config, taken, found bool, slot replication.SlotInfo, stored event.LSN) snapshotDecision {
	noCheckpoint := snapshotDecision{true, "no checkpoint is stored"}
	switch cfg.Snapshot.Mode {
	case config.SnapshotNever:
		return snapshotDecision{}
	case config.SnapshotAlways:
		if !taken {
			return snapshotDecision{true, "snapshot.mode is always"}
		}
	case config.SnapshotWhenNeeded:
		switch {
		case found && slot.Invalidated():
			return snapshotDecision{true, "the replication slot was invalidated by PostgreSQL (wal_status " + slot.WALStatus +
				"): the stored position is no longer available"}
		case found && !slot.Exists:
			return snapshotDecision{true, "the replication slot is missing: the stored position is no longer available"}
		case found && slot.ConfirmedFlush > stored:
			return snapshotDecision{true, "the replication slot is ahead of the stored checkpoint: changes in between are lost"}
		}
	}
	if !found {
		return noCheckpoint
	}
	return snapshotDecision{}
}
