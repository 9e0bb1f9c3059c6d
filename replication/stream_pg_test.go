package replication

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// startTestStream creates a table, its publication and a slot in a fresh
// database, starts streaming, and returns the stream and a function that
// inserts one row.
func startTestStream(t *testing.T, ctx context.Context) (*Stream, func()) {
	t.Helper()
	pg := testenv.PG(t)
	dsn := pg.NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE t (id int PRIMARY KEY)", "CREATE PUBLICATION p FOR TABLE t")
	conn, err := ConnectReplication(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	start, err := CreateSlot(ctx, conn, "s_receive", SlotWatch{Log: zerolog.Nop()})
	if err != nil {
		_ = conn.Close(context.Background())
		t.Fatal(err)
	}
	// Cleanups run last first: the connection closes, then the slot goes.
	t.Cleanup(func() { dropSlot(t, dsn, "s_receive") })
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	st, err := Start(ctx, conn, StartOptions{Slot: "s_receive", Publication: "p", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	id := 0
	insert := func() { id++; testenv.ExecDSN(t, dsn, "INSERT INTO t VALUES ("+strconv.Itoa(id)+")") }
	return st, insert
}

// receiveData reads until a WAL data message arrives or deadline passes.
func receiveData(t *testing.T, ctx context.Context, st *Stream, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		m, ok, err := st.ReceiveBy(ctx, deadline)
		if err != nil {
			t.Fatalf("ReceiveBy: %v", err)
		}
		if ok && !m.Keepalive {
			return
		}
	}
	t.Fatalf("no WAL data within %s", within)
}

// TestReceiveByDeadlineAndCancel: a passed deadline returns ok=false with no
// error and the stream keeps working; the end of ctx cuts a read short with
// ctx's error, and a later ctx reads on.
func TestReceiveByDeadlineAndCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, insert := startTestStream(t, ctx)

	// Nothing to read: the deadline ends the wait.
	t0 := time.Now()
	for {
		m, ok, err := st.ReceiveBy(ctx, t0.Add(300*time.Millisecond))
		if err != nil {
			t.Fatalf("idle ReceiveBy: %v", err)
		}
		if !ok {
			break
		}
		if !m.Keepalive {
			t.Fatalf("unexpected WAL data on an idle slot")
		}
	}
	if d := time.Since(t0); d < 300*time.Millisecond || d > 5*time.Second {
		t.Fatalf("deadline wait took %s, want about 300ms", d)
	}
	insert()
	receiveData(t, ctx, st, 10*time.Second)

	// A cancelled ctx cuts a long wait short.
	cctx, ccancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		for {
			_, _, err := st.ReceiveBy(cctx, time.Now().Add(30*time.Second))
			if err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	ccancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReceiveBy did not return within 5s of its ctx's cancellation")
	}

	// A new ctx reads on from where the cancelled one stopped.
	insert()
	receiveData(t, ctx, st, 10*time.Second)
	st.Unwatch()
}

// dropSlot drops slot, waiting (up to 5 s) for its walsender to exit.
func dropSlot(t *testing.T, dsn, slot string) {
	db := testenv.Connect(t, dsn)
	var err error
	for i := 0; i < 50; i++ {
		if _, err = db.Exec(context.Background(), "SELECT pg_drop_replication_slot($1)", slot); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("drop slot %s: %v", slot, err)
}
