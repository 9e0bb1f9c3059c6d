package replication

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// checkSlot reports the slot's health when it exists: invalidated by
// PostgreSQL (walrelay cannot resume from it), about to be (wal_status
// unreserved), held by another client (checkSlotActive), or how much WAL it
// holds; and whether max_slot_wal_keep_size
// bounds what a stopped walrelay makes the server keep.
func checkSlot(ctx context.Context, db *pgx.Conn, o CheckOptions) ([]Finding, error) {
	var keep string
	if err := db.QueryRow(ctx, "SELECT coalesce(current_setting('max_slot_wal_keep_size', true), '')").Scan(&keep); err != nil {
		return nil, fmt.Errorf("reading max_slot_wal_keep_size: %w", err)
	}
	var out []Finding
	switch keep {
	case "": // before PostgreSQL 13
	case "-1":
		out = append(out, Finding{OK: true, What: "max_slot_wal_keep_size = -1: a stopped walrelay's slot keeps WAL " +
			"without limit (watch the disk, or set a limit and snapshot.mode: when_needed)"})
	default:
		out = append(out, Finding{OK: true, What: fmt.Sprintf("max_slot_wal_keep_size = %s: PostgreSQL invalidates "+
			"a slot that falls further behind (snapshot.mode: when_needed then re-snapshots)", keep)})
	}
	slot, err := LookupSlot(ctx, db, o.Slot)
	if err != nil || !slot.Exists {
		return out, err
	}
	if slot.Invalidated() {
		return append(out, Finding{What: slot.Invalidation(o.Slot) + "; walrelay cannot resume from it",
			Fix: fmt.Sprintf("set snapshot.mode: when_needed to drop it and re-snapshot, or SELECT pg_drop_replication_slot('%s'); "+
				"and start with --allow-gap", o.Slot)}), nil
	}
	active, err := checkSlotActive(ctx, db, o, slot)
	if err != nil {
		return nil, err
	}
	out = append(out, active...)
	var held int64
	if err := db.QueryRow(ctx, `SELECT coalesce(pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, restart_lsn), 0)::bigint
		FROM pg_replication_slots WHERE slot_name = $1`, o.Slot).Scan(&held); err != nil {
		return nil, fmt.Errorf("reading the WAL slot %q holds: %w", o.Slot, err)
	}
	what := fmt.Sprintf("slot %s holds %s of WAL", o.Slot, byteSize(held))
	if slot.WALStatus == "unreserved" {
		return append(out, Finding{What: what + " and is about to be invalidated (wal_status unreserved)",
			Fix: "start walrelay so that it catches up, or raise max_slot_wal_keep_size"}), nil
	}
	if slot.WALStatus != "" {
		what += " (wal_status " + slot.WALStatus + ")"
	}
	return append(out, Finding{OK: true, What: what}), nil
}

// byteSize renders n bytes for a person: 512 B, 3.2 MiB, 1.5 GiB.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
