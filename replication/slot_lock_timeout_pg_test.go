package replication

import (
	"context"
	"testing"
	"time"
)

// TestSlotCreationIgnoresLockTimeout: creating a slot waits, through a lock
// wait, for the transactions open on the server to end; a lock_timeout set
// on walrelay's role or database must not cut that wait short. The
// replication connection starts with lock_timeout=0 as with
// statement_timeout=0: before, the start exited 1 with "canceling
// statement due to lock timeout" while any transaction stayed open longer.
func TestSlotCreationIgnoresLockTimeout(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := newSlotBlocked(ctx, t, "", "", `DO $$ BEGIN
		EXECUTE format('ALTER DATABASE %I SET lock_timeout = %L', current_database(), '200ms');
		EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '200ms');
	END $$`)
	committed := make(chan error, 1)
	go func() {
		time.Sleep(time.Second) // well past both timeouts
		committed <- b.tx.Commit(context.Background())
	}()
	_, _, err := CreateTempSlotExportSnapshot(ctx, b.conn, "lock_timeout_slot", SlotWatch{})
	if cerr := <-committed; cerr != nil { // before t's cleanup touches tx's connection
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatalf("slot creation waiting on an open transaction: %v", err)
	}
}
