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

// Catch-up modes (snapshot.catchup).
const (
	// CatchupIncremental reads a catch-up's tables in primary-key chunks
	// between watermarks while the stream goes on (DBLog, as Debezium's
	// incremental snapshots). The default.
	CatchupIncremental = "incremental"
	// CatchupBlocking reads them from one exported snapshot while the
	// stream waits.
	CatchupBlocking = "blocking"
)

// Snapshot defaults.
const (
	DefaultSnapshotParallelism = 2
	DefaultSnapshotChunkSize   = 50000
	DefaultCatchupChunkSize    = 2048
)

// snapshotDefaults fills snapshot.* (called by applyDefaults).
func (c *Config) snapshotDefaults() {
	setStr(&c.Snapshot.Mode, SnapshotInitial)
	setNum(c, "snapshot.parallelism", &c.Snapshot.Parallelism, DefaultSnapshotParallelism)
	setNum(c, "snapshot.chunk_size", &c.Snapshot.ChunkSize, DefaultSnapshotChunkSize)
	setStr(&c.Snapshot.Catchup, CatchupIncremental)
	setNum(c, "snapshot.catchup_chunk_size", &c.Snapshot.CatchupChunkSize, DefaultCatchupChunkSize)
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
	case !oneOf(s.Catchup, CatchupIncremental, CatchupBlocking):
		return &Error{Key: "snapshot.catchup", Msg: fmt.Sprintf("unknown mode %q", s.Catchup),
			Fix: "use incremental (read in chunks while streaming) or blocking (pause the stream)"}
	case s.CatchupChunkSize < 1 || s.CatchupChunkSize > 1_000_000:
		return &Error{Key: "snapshot.catchup_chunk_size", Msg: fmt.Sprintf("%d rows is out of range", s.CatchupChunkSize),
			Fix: "use 1 to 1000000 rows per chunk (default 2048; each chunk is held in memory until published)"}
	}
	return nil
}
