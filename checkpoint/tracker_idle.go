package checkpoint

import "github.com/walrelay/walrelay/event"

// A checkpoint store that lives in the source database (PostgresStore)
// writes WAL with every save, after the position it stores. Were the idle
// advance to follow a keepalive onto that WAL, the next save would store
// it and write more: one save per interval, forever, on a database where
// nothing happens. HoldIdle and ReleaseIdle let the Committer keep
// AdvanceIdle off that WAL. Skipping an idle advance only delays a
// confirm: commits advance the watermark as before, and nothing is ever
// confirmed past what was saved (invariant 1).

// HoldIdle makes AdvanceIdle ignore every position until the matching
// ReleaseIdle: the Committer calls it before a save whose WAL end it
// learns only after the save (the walsender may report that WAL first).
// Safe from any goroutine.
func (t *Tracker) HoldIdle() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.idleHeld++
}

// ReleaseIdle ends one HoldIdle and makes AdvanceIdle ignore positions at
// or below floor from then on (0, or a floor below the current one,
// leaves the floor as it is: it never moves back). Safe from any
// goroutine.
func (t *Tracker) ReleaseIdle(floor event.LSN) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.idleHeld > 0 {
		t.idleHeld--
	}
	t.idleFloor = max(t.idleFloor, floor)
}
