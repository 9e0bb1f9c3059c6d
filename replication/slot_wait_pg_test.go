package replication

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	b := newSlotBlocked(ctx, t, "fixmin_blocker", "s_wait")
	dsn, tx, pid, conn := b.dsn, b.tx, b.pid, b.conn
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

// slotBlocked is a new database where creating a slot waits: a
// transaction holds a write open on it (tx, on backend pid), and conn is a
// replication connection to create the slot on.
type slotBlocked struct {
	dsn  string
	tx   pgx.Tx
	pid  int
	conn *pgconn.PgConn
}

// newSlotBlocked makes one: table t, then setup (run before the
// replication connection opens, so that database settings apply to it),
// then the transaction (application_name appName, "" for none) and the
// connection. At t's cleanup the connection closes and, unless slot is
// "", that slot is dropped.
func newSlotBlocked(ctx context.Context, t *testing.T, appName, slot string, setup ...string) slotBlocked {
	t.Helper()
	b := slotBlocked{dsn: testenv.PG(t).NewDatabase(t)}
	testenv.ExecDSN(t, b.dsn, append([]string{"CREATE TABLE t (id int)"}, setup...)...)
	b.tx, b.pid = testenv.OpenTx(t, b.dsn, appName, "INSERT INTO t VALUES (1)")
	conn, err := ConnectReplication(ctx, b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	if slot != "" {
		t.Cleanup(func() { dropSlot(t, b.dsn, slot) })
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	b.conn = conn
	return b
}
