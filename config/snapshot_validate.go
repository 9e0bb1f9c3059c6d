package config

import "fmt"

// Snapshot modes (snapshot.mode), with Debezium's meanings:
const (
	// SnapshotInitial snapshots the captured tables when no checkpoint is
	// stored, then streams. The default.
	SnapshotInitial = "initial"
	// SnapshotNever only streams.
	SnapshotNever = "never"
	// SnapshotAlways snapshots every time walrelay starts, then streams.
	SnapshotAlways = "always"
	// SnapshotInitialOnly snapshots when no checkpoint is stored, then exits.
	SnapshotInitialOnly = "initial_only"
	// SnapshotWhenNeeded snapshots when no checkpoint is stored or the stored
	// position is no longer available on the server (slot missing or ahead of
	// the checkpoint), then streams; it replaces the gap error.
	SnapshotWhenNeeded = "when_needed"
)

// Snapshot defaults.
const (
	DefaultSnapshotParallelism = 2
	DefaultSnapshotChunkSize   = 50000
)

// snapshotDefaults fills snapshot.* (called by applyDefaults).
func (c *Config) snapshotDefaults() {
	setStr(&c.Snapshot.Mode, SnapshotInitial)
	setInt(&c.Snapshot.Parallelism, DefaultSnapshotParallelism)
	setInt(&c.Snapshot.ChunkSize, DefaultSnapshotChunkSize)
}

// checkSnapshot validates snapshot.* (one of Validate's checks).
func (c *Config) checkSnapshot() *Error {
	s := c.Snapshot
	switch {
	case !oneOf(s.Mode, SnapshotInitial, SnapshotNever, SnapshotAlways, SnapshotInitialOnly, SnapshotWhenNeeded):
		return &Error{Key: "snapshot.mode", Msg: fmt.Sprintf("unknown mode %q", s.Mode),
			Fix: "use initial, never, always, initial_only or when_needed"}
	case s.Parallelism < 1 || s.Parallelism > 64:
		return &Error{Key: "snapshot.parallelism", Msg: fmt.Sprintf("%d is out of range", s.Parallelism),
			Fix: "use 1 to 64 (each reader holds one database connection)"}
	case s.ChunkSize < 100:
		return &Error{Key: "snapshot.chunk_size", Msg: fmt.Sprintf("%d rows is too small", s.ChunkSize),
			Fix: "use at least 100 rows per chunk (default 50000)"}
	}
	return nil
}
