package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/replication"
)

// Hot standby (postgres.standby). The replication slot admits one reader at
// a time, so it is what decides which of two walrelays with the same config
// streams: the other one checks every standbyPoll whether the slot is free,
// and takes over (from the checkpoint both share in the postgres store)
// once the active one is gone. A session that finds the slot held returns
// slotBusyError, which Run answers by waiting, not by failing.
//
// The checkpoint store is fenced by the same slot (checkpoint.SlotFence):
// once the standby streams, a save by the walrelay that lost the slot (cut
// off, not dead) is refused instead of moving the checkpoint back under
// the new one.

// standbyPoll is how often a standby checks whether the slot is free.
const standbyPoll = time.Second

// standbyLogEvery rate-limits the standby's "waiting" line.
const standbyLogEvery = time.Minute

// slotBusyError says another backend holds the slot.
type slotBusyError struct {
	slot string
	pid  int32
}

func (e *slotBusyError) Error() string {
	return fmt.Sprintf("replication slot %q is held by backend pid %d (another walrelay streams from it)", e.slot, e.pid)
}

// standbyWait reports whether err means that a standby should wait for the
// slot: another backend holds it (before or at START_REPLICATION), or the
// store refused a save because the slot went to another walrelay.
func standbyWait(err error) bool {
	var busy *slotBusyError
	var pe *pgconn.PgError
	return errors.As(err, &busy) || errors.Is(err, checkpoint.ErrSlotHeld) ||
		errors.As(err, &pe) && pe.Code == "55006" // object_in_use: "replication slot ... is active for PID ..."
}

// checkStandby returns slotBusyError when postgres.standby is set and a
// backend other than this Run's previous walsender holds the slot: cheap,
// so that a waiting standby does not connect to Kafka every standbyPoll.
func (s *session) checkStandby(ctx context.Context) error {
	if !s.cfg.Postgres.Standby {
		return nil
	}
	return slotHeld(ctx, s.db, s.cfg.Postgres.Slot, s.rs.walsender)
}

// slotHeld returns slotBusyError if a backend other than prev holds slot.
func slotHeld(ctx context.Context, db *pgx.Conn, slot string, prev walsenderID) error {
	info, err := replication.LookupSlot(ctx, db, slot)
	if err != nil || !info.Active || prev.pid != 0 && uint32(info.ActivePID) == prev.pid {
		return err
	}
	return &slotBusyError{slot: slot, pid: info.ActivePID}
}

// standbyWaiter logs, at most once per standbyLogEvery, that the standby
// waits, and sleeps standbyPoll. It reports false when ctx ended.
type standbyWaiter struct {
	logged time.Time
}

func (w *standbyWaiter) wait(ctx context.Context, err error, log zerolog.Logger) bool {
	if time.Since(w.logged) >= standbyLogEvery {
		w.logged = time.Now()
		log.Info().Str("reason", err.Error()).Float64("poll_seconds", logfield.Seconds(standbyPoll)).
			Msg("standby: waiting for the replication slot; this walrelay takes over when it is released")
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(standbyPoll):
		return true
	}
}
