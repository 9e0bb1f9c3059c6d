package replication

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// holderSQL describes the backend that holds a slot (pg_replication_slots.
// active_pid): its application_name, client address, user and backend type
// from pg_stat_activity. Another role's client address shows only to a role
// with pg_read_all_stats; what is hidden reads as "".
const holderSQL = `SELECT coalesce(application_name, ''), coalesce(host(client_addr), ''),
	coalesce(usename::text, ''), coalesce(backend_type, '')
	FROM pg_stat_activity WHERE pid = $1`

// slotHolder is the backend that holds a replication slot.
type slotHolder struct {
	pid                      int32
	app, addr, user, backend string
}

// String names the holder for an operator: pid, application_name, client
// address, user and backend type, as far as the server shows them.
func (h slotHolder) String() string {
	s := fmt.Sprintf("backend pid %d (application_name %q", h.pid, h.app)
	if h.addr != "" {
		s += ", client " + h.addr
	} else {
		s += ", client local or hidden"
	}
	if h.user != "" {
		s += ", user " + h.user
	}
	if h.backend != "" {
		s += ", " + h.backend
	}
	return s + ")"
}

// checkSlotActive reports a slot another client holds (active): `walrelay
// run` waits 15 s for it to be released and then exits 1, so it is a
// problem, with the holder and the fix; with postgres.standby it is a
// warning, since a standby waits for the active walrelay by design.
func checkSlotActive(ctx context.Context, db *pgx.Conn, o CheckOptions, slot SlotInfo) ([]Finding, error) {
	if !slot.Active {
		return nil, nil
	}
	h := slotHolder{pid: slot.ActivePID}
	err := db.QueryRow(ctx, holderSQL, slot.ActivePID).Scan(&h.app, &h.addr, &h.user, &h.backend)
	if err != nil && err != pgx.ErrNoRows { // ErrNoRows: the holder ended meanwhile
		return nil, fmt.Errorf("reading the backend that holds slot %q: %w", o.Slot, err)
	}
	what := fmt.Sprintf("slot %s is in use by %s", o.Slot, h)
	if o.Standby {
		return []Finding{{Warn: true, What: what + ": with postgres.standby walrelay waits until it releases the slot, then takes over",
			Fix: fmt.Sprintf("nothing if that is the active walrelay of this standby pair; otherwise stop that client "+
				"(SELECT pg_terminate_backend(%d); ends its session, but a client that reconnects takes the slot again) "+
				"or set postgres.slot to another slot", h.pid)}}, nil
	}
	return []Finding{{What: what + ": walrelay run waits 15 s for it to release the slot, then exits 1",
		Fix: fmt.Sprintf("stop that client first (a migration: stop Debezium before walrelay starts; "+
			"SELECT pg_terminate_backend(%d); ends its session, but a client that reconnects takes the slot again), "+
			"or set postgres.slot to another slot", h.pid)}}, nil
}
