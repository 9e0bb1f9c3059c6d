package replication

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestCreateSlotReportsWait: while creating a slot waits for an open
// transaction, SlotWatch.Report is called once the wait has lasted After
// and again every ReportEvery, naming the blocking session's pid, so that
// walrelay can write its status file with it (the audit: status showed
// nothing for 14 s); it is not called once the slot is created.
func TestCreateSlotReportsWait(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := newSlotBlocked(ctx, t, "", "s_wait_report")
	dsn, tx, pid, conn := b.dsn, b.tx, b.pid, b.conn
	var mu sync.Mutex
	var reports []SlotWait
	got := func() []SlotWait {
		mu.Lock()
		defer mu.Unlock()
		return append([]SlotWait(nil), reports...)
	}
	began := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := CreateSlot(ctx, conn, "s_wait_report", SlotWatch{Log: zerolog.Nop(), DSN: dsn,
			After: 200 * time.Millisecond, Every: time.Hour, ReportEvery: 300 * time.Millisecond,
			Report: func(w SlotWait) { mu.Lock(); reports = append(reports, w); mu.Unlock() }})
		done <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for len(got()) < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	rs := got()
	if len(rs) < 3 {
		t.Fatalf("%d reports while the creation waited, want 3 or more", len(rs))
	}
	want := "pid " + strconv.Itoa(pid) + " "
	for i, r := range rs {
		names := slices.ContainsFunc(r.OpenTransactions, func(x string) bool { return strings.HasPrefix(x, want) })
		if r.Slot != "s_wait_report" || r.Since.Before(began) || r.Err != nil || !names { // other tests' may be listed too
			t.Errorf("report %d: %+v; want slot s_wait_report, since the creation began, naming %q", i, r, want)
		}
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
	n := len(got())
	time.Sleep(500 * time.Millisecond)
	if m := len(got()); m != n {
		t.Errorf("%d reports after the slot was created", m-n)
	}
}
