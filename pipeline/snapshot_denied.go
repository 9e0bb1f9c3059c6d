package pipeline

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/replication"
)

// SlotDroppedDeniedMessage is logged when a snapshot failed for lack of a
// privilege right after this process created the slot for it, and the slot
// was dropped.
const SlotDroppedDeniedMessage = "dropped the replication slot this process created for the snapshot: the snapshot failed " +
	"for lack of a privilege and nothing was confirmed from the slot, so it would only hold WAL; the next start creates it again"

// dropSlotAfterDenied returns err, the error of the session's snapshot.
// When err is a missing privilege (SQLSTATE 42501, or
// replication.ErrPrivilege) and this session created the slot
// (pos.created: nothing was confirmed from it, no checkpoint names its
// position), the slot is dropped first, on the idle
// replication connection that created it, and that is logged: left behind
// it would hold WAL until someone noticed. Called by setup on the session
// goroutine, after runSnapshot released its readers.
func (s *session) dropSlotAfterDenied(ctx context.Context, pos position, err error) error {
	if !privilegeDenied(err) {
		return err
	}
	slot := s.cfg.Postgres.Slot
	if pos.created && s.repl != nil {
		if derr := replication.DropSlot(ctx, s.repl, slot); derr != nil {
			s.log.Warn().Err(derr).Str("slot", slot).Msg("the snapshot failed for lack of a privilege; the replication slot " +
				"this process created for it could not be dropped: drop it with SELECT pg_drop_replication_slot('" + slot + "') " +
				"or it holds WAL")
		} else {
			s.log.Warn().Str("slot", slot).Stringer("consistent_point", pos.start).Msg(SlotDroppedDeniedMessage)
		}
	}
	return err
}

// privilegeDenied reports whether err is a missing privilege.
func privilegeDenied(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, replication.ErrPrivilege) || (errors.As(err, &pe) && pe.Code == "42501")
}
