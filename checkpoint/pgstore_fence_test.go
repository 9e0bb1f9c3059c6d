package checkpoint

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPostgresStoreFence: while another backend holds the slot, a save
// through a store that does not name that backend as the holder is refused
// (ErrSlotHeld, naming the holder) and changes nothing; the holder's own
// saves go through, and so does anyone's once the slot is free.
func TestPostgresStoreFence(t *testing.T) {
	dsn := testDSN(t)
	ctx := context.Background()
	slot := uniqueName("cp_fence")
	s, err := NewPostgresStore(ctx, dsn, slot)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := func(lsn uint64) Position { return Position{LSN: pglogrepl.LSN(lsn), Slot: slot, UpdatedAt: time.Now()} }
	if err := s.Save(ctx, at(0x100)); err != nil {
		t.Fatalf("save with no slot at all: %v", err)
	}

	// A temporary slot is held by the session that created it.
	repl, err := pgconn.Connect(ctx, withParams(t, dsn, map[string]string{"replication": "database"}))
	if err != nil {
		t.Fatal(err)
	}
	defer repl.Close(ctx)
	if _, err := pglogrepl.CreateReplicationSlot(ctx, repl, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Temporary: true}); err != nil {
		t.Fatal(err)
	}
	err = s.Save(ctx, at(0x200))
	if !errors.Is(err, ErrSlotHeld) || !strings.Contains(err.Error(), "held by backend pid") {
		t.Fatalf("save while another backend holds the slot: %v, want ErrSlotHeld", err)
	}
	if p, _, _ := s.Load(ctx); p.LSN != 0x100 {
		t.Fatalf("the refused save stored %s", p.LSN)
	}
	s.SetSlotHolder(repl.PID())
	if err := s.Save(ctx, at(0x300)); err != nil {
		t.Fatalf("save by the slot's holder: %v", err)
	}
	if err := repl.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.SetSlotHolder(0)
	deadline := time.Now().Add(10 * time.Second)
	for err = s.Save(ctx, at(0x400)); errors.Is(err, ErrSlotHeld) && time.Now().Before(deadline); err = s.Save(ctx, at(0x400)) {
		time.Sleep(50 * time.Millisecond) // the walsender exits just after the close
	}
	if p, _, _ := s.Load(ctx); err != nil || p.LSN != 0x400 {
		t.Fatalf("save once the slot is free: %v, stored %s", err, p.LSN)
	}
}
