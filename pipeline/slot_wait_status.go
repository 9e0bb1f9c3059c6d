package pipeline

import (
	"time"

	"github.com/walrelay/walrelay/replication"
)

// SlotWaitStatus is a replication slot creation waiting for the
// transactions open on the server to end, as a status report shows it:
// PostgreSQL cannot make the slot consistent before they have, and a
// session left idle in transaction makes it wait indefinitely.
type SlotWaitStatus struct {
	Slot  string    `json:"slot"`
	Since time.Time `json:"since"` // when the creation began
	// OpenTransactions are the oldest transactions it waits for, as the
	// log's warning names them (pid, user, application_name, state,
	// xact_start; prepared transactions by gid); Error says why they could
	// not be listed.
	OpenTransactions []string `json:"open_transactions,omitempty"`
	Error            string   `json:"error,omitempty"`
}

// slotWatch is how the session's slot creations (its slot's, and a
// snapshot's temporary slot's) log and report a wait for open
// transactions: the log says it before, warns after 5 s naming them, and a
// status report (state starting, with SlotWait) is written then and every
// 10 s while the wait lasts. Before, `walrelay status` showed nothing
// about it, and no report for longer than the 10 s it promises.
func (s *session) slotWatch() replication.SlotWatch {
	return replication.SlotWatch{Log: s.log, DSN: s.cfg.Postgres.DSN, Report: s.slotWaitStatus}
}

// slotWaitStatus writes the status report of wait. Called on the slot
// watch's goroutine while the session's is blocked creating the slot.
func (s *session) slotWaitStatus(wait replication.SlotWait) {
	st := s.rs.statusOf(s, StateStarting)
	st.SlotWait = &SlotWaitStatus{Slot: wait.Slot, Since: wait.Since.UTC(), OpenTransactions: wait.OpenTransactions}
	if wait.Err != nil {
		st.SlotWait.Error = wait.Err.Error()
	}
	s.rs.writeStatus(s, st)
}
