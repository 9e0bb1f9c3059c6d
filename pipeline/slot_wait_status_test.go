package pipeline

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/snapshot"
)

// TestSlotWaitStatus: while the temporary slot of a snapshot taken with
// the slot in place (snapshot.mode always) waits for a transaction open on
// the server, the session writes a status report, state starting, that
// names the slot and the blocking pid. Before, status.json was not written
// at all during the wait, and `walrelay status` said only "runs and has
// not reported yet" after 14 s (the audit).
func TestSlotWaitStatus(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE sw (id int PRIMARY KEY)")
	tx, pid := testenv.OpenTx(t, dsn, "", "INSERT INTO sw VALUES (1)")
	cfg := &config.Config{DataDir: t.TempDir()}
	cfg.Postgres.DSN, cfg.Postgres.Slot = dsn, "sw_slot"
	cfg.Snapshot.Parallelism, cfg.Snapshot.ChunkSize = 1, 100
	s := &session{cfg: cfg, log: zerolog.Nop(), rs: &runState{}}
	type result struct {
		release func()
		err     error
	}
	done := make(chan result, 1)
	go func() {
		_, _, release, err := s.tempSlotSnapshot(ctx, []snapshot.Table{{Schema: "public", Name: "sw"}})
		done <- result{release, err}
	}()
	want := "pid " + strconv.Itoa(pid) + " "
	var st Status
	var err error
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if st, err = ReadStatus(cfg.DataDir); err == nil && st.SlotWait != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	sw := st.SlotWait
	if sw == nil || st.State != StateStarting || !strings.HasPrefix(sw.Slot, "walrelay_catchup_") ||
		!strings.Contains(strings.Join(sw.OpenTransactions, "\n"), want) {
		t.Fatalf("status while the temporary slot waits: %+v, slot_wait %+v; want state starting, the slot and %q", st, sw, want)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("tempSlotSnapshot: %v", r.err)
		}
		r.release()
	case <-time.After(30 * time.Second):
		t.Fatal("the temporary slot still waits after the transaction ended")
	}
}
