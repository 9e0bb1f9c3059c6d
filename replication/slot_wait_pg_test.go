package replication

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCreateSlotLogsOpenTransactions: creating a slot while another session
// holds a transaction open says beforehand that it may wait, then warns,
// repeatedly while it waits, naming that session's pid and
// application_name; it completes once the transaction ends.
func TestCreateSlotLogsOpenTransactions(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE t (id int)")
	tx, pid := testenv.OpenTx(t, dsn, "fixmin_blocker", "INSERT INTO t VALUES (1)")
	conn, err := ConnectReplication(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropSlot(t, dsn, "s_wait") })
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	var log testenv.SyncBuffer
	done := make(chan error, 1)
	go func() {
		_, err := CreateSlot(ctx, conn, "s_wait", SlotWatch{Log: zerolog.New(&log), DSN: dsn,
			After: 200 * time.Millisecond, Every: 300 * time.Millisecond})
		done <- err
	}()
	want := "pid " + strconv.Itoa(pid) + " "
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(log.String(), want) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	out := log.String()
	if !strings.Contains(out, "makes this wait until the transactions open") {
		t.Errorf("no line before the creation says it waits for open transactions:\n%s", out)
	}
	if n := strings.Count(out, want); n < 2 || !strings.Contains(out, "fixmin_blocker") ||
		!strings.Contains(out, "idle in transaction") || !strings.Contains(out, "is waiting for transactions") {
		t.Fatalf("%d warnings name pid %d; want 2 or more, with its application_name and state:\n%s", n, pid, out)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("CreateSlot: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("CreateSlot still waits after the transaction ended")
	}
	n := strings.Count(log.String(), "is waiting for transactions")
	time.Sleep(500 * time.Millisecond)
	if m := strings.Count(log.String(), "is waiting for transactions"); m != n {
		t.Errorf("%d warnings after the slot was created", m-n)
	}
}
