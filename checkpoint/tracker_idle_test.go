package checkpoint

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
)

// selfStore is a SelfWriting store whose every save writes 0x200 bytes of
// WAL past the position it stores.
type selfStore struct{ saved, after event.LSN }

func (s *selfStore) Load(context.Context) (Position, bool, error) { return Position{}, false, nil }
func (s *selfStore) Close() error                                 { return nil }
func (s *selfStore) WALAfterSave() event.LSN                      { return s.after }
func (s *selfStore) Save(_ context.Context, p Position) error {
	s.saved, s.after = p.LSN, max(s.after, p.LSN)+0x200
	return nil
}

// TestIdleAdvanceSkipsStoreWAL (idlesave): with a store that writes WAL on
// the source server, a keepalive reporting only that WAL (plus IdleSlack)
// does not move the watermark, so the next save does not follow it; WAL
// past it, and commits, still do. A file store's saves leave the idle
// advance as it was.
func TestIdleAdvanceSkipsStoreWAL(t *testing.T) {
	tr := NewTracker(10, 1<<20)
	tr.SetWatermark(0x1000)
	st := &selfStore{}
	c := NewCommitter(tr, st, "s", 0, zerolog.Nop())
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tr.AdvanceIdle(st.after) || tr.AdvanceIdle(st.after+IdleSlack) {
		t.Fatalf("the idle advance followed the store's own WAL to %s: the next save would write more", st.after)
	}
	if !tr.AdvanceIdleAny(0x1100) || tr.Watermark() != 0x1100 {
		t.Errorf("AdvanceIdleAny did not pass the floor: watermark %s", tr.Watermark())
	}
	x := tr.Begin(0x1180)
	x.Commit(0x1190) // a commit inside the floor advances as before
	if tr.Watermark() != 0x1190 {
		t.Errorf("a commit inside the floor: watermark %s, want 0/1190", tr.Watermark())
	}
	past := st.after + IdleSlack + 1
	if !tr.AdvanceIdle(past) || tr.Watermark() != past {
		t.Errorf("WAL past the store's own: watermark %s, want %s", tr.Watermark(), past)
	}
	tr.HoldIdle()
	if tr.AdvanceIdle(past + 0x10000) {
		t.Error("the idle advance moved while a save was in progress")
	}
	tr.ReleaseIdle(0)
	if !tr.AdvanceIdle(past + 0x10000) {
		t.Error("ReleaseIdle(0) left the idle advance held")
	}

	file := NewTracker(10, 1<<20)
	file.SetWatermark(0x1000)
	if _, ok := any(&FileStore{}).(SelfWriting); ok {
		t.Fatal("FileStore is SelfWriting")
	}
	if !file.AdvanceIdle(0x1001) {
		t.Error("the idle advance with a file store no longer moves")
	}
}

// TestPostgresStoreWALAfterSave: after a save the postgres store knows the
// server's WAL position, at or past that save's own WAL.
func TestPostgresStoreWALAfterSave(t *testing.T) {
	dsn := testDSN(t)
	ctx := context.Background()
	slot := uniqueName("cp_walafter")
	s, err := NewPostgresStore(ctx, dsn, slot)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func() { _, _ = s.conn.Exec(ctx, "DELETE FROM "+TableName+" WHERE slot = $1", slot) }()
	if err := s.Save(ctx, Position{LSN: 0x100}); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := s.conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&text); err != nil {
		t.Fatal(err)
	}
	now, _ := parseLSN(text)
	if got := s.WALAfterSave(); got == 0 || got > now {
		t.Errorf("WALAfterSave %s, want the server's position after the save (non-zero, at most %s)", got, now)
	}
}
