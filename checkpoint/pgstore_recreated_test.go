package checkpoint

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
)

// TestPostgresStoreRowRecreated: a save that has to insert the row this
// store saved before (the table dropped under a standby pair and
// re-created by the partner's polling, or the row deleted) warns and
// records the identity again, instead of leaving system_id and database
// NULL until a restart (audit auditc3 finding 4). The first save of a
// store inserts without a warning.
func TestPostgresStoreRowRecreated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adminDSN, _, _ := freshDatabase(t, ctx)
	s, err := NewPostgresStore(ctx, adminDSN, "rcslot")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var logs bytes.Buffer
	s.SetLogger(zerolog.New(&logs))
	s.SetIdentity("7301234567890123456", "app")
	save := func(lsn event.LSN) {
		t.Helper()
		if err := s.Save(ctx, Position{LSN: lsn, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	save(0x1000)
	save(0x1100)
	if logs.Len() != 0 {
		t.Fatalf("first saves logged %s; want nothing", logs.String())
	}
	// The table dropped and re-created as a standby's NewPostgresStore does.
	exec(t, ctx, adminDSN, "DROP TABLE "+TableName)
	other, err := NewPostgresStore(ctx, adminDSN, "rcslot")
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	save(0x1200)
	r, err := NewPostgresReader(ctx, adminDSN, "rcslot")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, ok, err := r.Load(ctx)
	if err != nil || !ok || p.LSN != 0x1200 || p.SystemID != "7301234567890123456" || p.Database != "app" {
		t.Fatalf("row after the re-creating save = %+v, %v, %v; want the identity recorded again", p, ok, err)
	}
	if out := logs.String(); !strings.Contains(out, `"level":"warn"`) || !strings.Contains(out, "vanished") ||
		!strings.Contains(out, "0/1200") {
		t.Fatalf("log %q: want a warning that the row vanished and was saved again", out)
	}
	logs.Reset()
	exec(t, ctx, adminDSN, "DELETE FROM "+TableName)
	save(0x1300)
	if !strings.Contains(logs.String(), "vanished") {
		t.Fatalf("log %q after the row was deleted: want the warning", logs.String())
	}
}
