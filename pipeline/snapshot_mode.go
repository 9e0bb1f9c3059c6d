package pipeline

import (
	"sync"

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

// alwaysDone holds the configs (by pointer: one per Run) whose snapshot.mode
// always snapshot completed in this process, so that a session restarted
// after a failure resumes from the checkpoint instead of reading every table
// again.
var alwaysDone sync.Map

// decideSnapshot applies snapshot.mode to what startPosition found: the
// stored checkpoint (found, stored) and the slot.
//
//	never         no snapshot
//	initial       when no checkpoint is stored (the first start, or every
//	initial_only  start until a snapshot completed: no checkpoint is saved
//	              before that, so an interrupted snapshot is taken again)
//	always        on the first session of the process, and as initial
//	when_needed   as initial, and when the stored position is no longer
//	              available: the slot is missing or ahead of the checkpoint
func decideSnapshot(cfg *config.Config, found bool, slot replication.SlotInfo, stored event.LSN) snapshotDecision {
	noCheckpoint := snapshotDecision{true, "no checkpoint is stored"}
	switch cfg.Snapshot.Mode {
	case config.SnapshotNever:
		return snapshotDecision{}
	case config.SnapshotAlways:
		if _, done := alwaysDone.Load(cfg); !done {
			return snapshotDecision{true, "snapshot.mode is always"}
		}
	case config.SnapshotWhenNeeded:
		switch {
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

// snapshotCompleted records a completed snapshot for always mode.
func snapshotCompleted(cfg *config.Config) {
	if cfg.Snapshot.Mode == config.SnapshotAlways {
		alwaysDone.Store(cfg, struct{}{})
	}
}
