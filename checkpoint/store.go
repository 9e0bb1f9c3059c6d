package checkpoint

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/walrelay/walrelay/event"
)

// Position is a persisted checkpoint: the end LSN of the newest transaction
// that, with everything before it, Kafka has acknowledged.
type Position struct {
	LSN       event.LSN
	Slot      string
	UpdatedAt time.Time
	// Catchup is the snapshot of tables added to the capture set that is
	// pending or whose boundary the stream has not passed yet; nil if none.
	Catchup *Catchup
	// SystemID and Database are the PostgreSQL system identifier
	// (IDENTIFY_SYSTEM, pg_control_system()) and database whose WAL LSN
	// is in: empty in a checkpoint of a walrelay before they were kept.
	// Save stamps them from the store's identity (Identified), not from
	// here.
	SystemID, Database string
}

// Identified is implemented by both stores: SetIdentity names the
// PostgreSQL system and database that every later Save records with the
// position, so that a checkpoint copied to or restored on another server
// or database is told apart (see Position.SystemID). Until it is called a
// Save records none.
type Identified interface {
	SetIdentity(systemID, database string)
}

// Store persists the checkpoint. Implementations are FileStore and
// PostgresStore. Methods are called by one goroutine at a time (the Committer,
// or the pipeline before it starts).
type Store interface {
	// Load returns the stored position; false (and no error) when nothing is
	// stored yet for the slot.
	Load(ctx context.Context) (Position, bool, error)
	// Save stores p; the position is durable when it returns nil.
	Save(ctx context.Context, p Position) error
	// Close releases the store's resources.
	Close() error
}

// SelfWriting is implemented by a store whose saves write WAL on the
// server the slot streams from (PostgresStore): an UPDATE of its row,
// after the position it stores. WALAfterSave returns the server's WAL
// position read just after the last successful Save, at or past the end
// of that save's own WAL; 0 when unknown. The Committer keeps the idle
// advance off that WAL (Tracker.HoldIdle), which it would otherwise chase
// with a save per interval on an idle database.
type SelfWriting interface {
	WALAfterSave() event.LSN
}

// SlotFence is implemented by a store that lives on the slot's server
// (PostgresStore): it refuses a save while a backend other than the given
// one holds the replication slot, so that a walrelay that lost the slot to
// another (a standby that took over) cannot move the checkpoint under it.
type SlotFence interface {
	// SetSlotHolder names the backend (the PID of this walrelay's
	// replication connection) that may hold the slot during later saves;
	// 0 (the default) allows a save only while no backend holds it.
	SetSlotHolder(pid uint32)
}

// ErrSlotHeld is wrapped by a fenced store's Save when another backend
// holds the slot: nothing was saved.
var ErrSlotHeld = errors.New("the replication slot is held by another backend")

// parseLSN parses Postgres' "X/X" text form strictly: the whole string must be
// one LSN (pglogrepl.ParseLSN ignores trailing text).
func parseLSN(s string) (event.LSN, bool) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, false
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, false
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, false
	}
	return event.LSN(h<<32 | l), true
}
