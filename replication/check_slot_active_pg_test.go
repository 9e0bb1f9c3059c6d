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

// holdSlot creates slot on a replication connection of its own, named
// app (as Debezium's JDBC connection is), and streams from it, so that the
// slot is active; it returns the connection's backend pid and a function
// that closes the connection (also run at cleanup).
func holdSlot(t *testing.T, ctx context.Context, dsn, slot, app string) (pid uint32, release func()) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["replication"] = "database"
	cfg.RuntimeParams["application_name"] = app
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	release = func() { _ = conn.Close(context.Background()) }
	start, err := CreateSlot(ctx, conn, slot, SlotWatch{Log: zerolog.Nop()})
	if err != nil {
		release()
		t.Fatal(err)
	}
	t.Cleanup(func() { dropSlot(t, dsn, slot) })
	t.Cleanup(release)
	if _, err := Start(ctx, conn, StartOptions{Slot: slot, Publication: "p", Start: start}); err != nil {
		t.Fatal(err)
	}
	return conn.PID(), release
}

// TestCheckSlotHeldByAnotherClient: `walrelay check` fails on a slot that
// another client streams from (walrelay run would exit 1 "in use by
// backend pid N"), naming that client's pid, application_name and the
// fix; with postgres.standby it is a warning, since a standby waits for
// the active walrelay. Once the client is gone the slot is ok again.
func TestCheckSlotHeldByAnotherClient(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE t (id int PRIMARY KEY)", "CREATE PUBLICATION p FOR TABLE t")
	pid, release := holdSlot(t, ctx, dsn, "s_held", "Debezium Streaming")
	db := testenv.Connect(t, dsn)
	var active bool
	var activePID uint32
	if err := db.QueryRow(ctx, "SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = 's_held'").
		Scan(&active, &activePID); err != nil || !active || activePID != pid {
		t.Fatalf("slot s_held: active=%v active_pid=%d (want the holder's pid %d), err %v", active, activePID, pid, err)
	}

	fs, err := checkSlot(ctx, db, CheckOptions{Slot: "s_held"})
	if err != nil {
		t.Fatal(err)
	}
	held := heldFinding(fs)
	t.Logf("held slot:\n%s", describe(fs))
	if held == nil || held.OK || held.Warn {
		t.Fatalf("want a FAIL for the held slot, got:\n%s", describe(fs))
	}
	for _, want := range []string{"slot s_held is in use by backend pid " + itoa(pid), `application_name "Debezium Streaming"`,
		"walsender", "exits 1"} {
		if !strings.Contains(held.What, want) {
			t.Errorf("finding %q lacks %q", held.What, want)
		}
	}
	if !strings.Contains(held.Fix, "stop that client") || !strings.Contains(held.Fix, "postgres.slot") ||
		!strings.Contains(held.Fix, "pg_terminate_backend("+itoa(pid)+")") {
		t.Errorf("fix %q does not say to stop the client or use another slot", held.Fix)
	}

	fs, err = checkSlot(ctx, db, CheckOptions{Slot: "s_held", Standby: true})
	if err != nil {
		t.Fatal(err)
	}
	if held = heldFinding(fs); held == nil || !held.Warn || !strings.Contains(held.What, "postgres.standby") {
		t.Fatalf("with postgres.standby, want a warning for the held slot, got:\n%s", describe(fs))
	}

	release()
	waitInactive(t, ctx, db, "s_held")
	fs, err = checkSlot(ctx, db, CheckOptions{Slot: "s_held"})
	if err != nil {
		t.Fatal(err)
	}
	if held = heldFinding(fs); held != nil {
		t.Fatalf("the released slot is still reported in use:\n%s", describe(fs))
	}
	if d := describe(fs); !strings.Contains(d, "ok: slot s_held holds ") {
		t.Fatalf("the released slot is not ok:\n%s", d)
	}
}

// heldFinding is the finding that the slot is in use, or nil.
func heldFinding(fs []Finding) *Finding {
	for i := range fs {
		if strings.Contains(fs[i].What, " is in use by ") {
			return &fs[i]
		}
	}
	return nil
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// waitInactive waits (up to 10 s) for slot's walsender to release it.
func waitInactive(t *testing.T, ctx context.Context, db *pgx.Conn, slot string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		var active bool
		if err := db.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active); err != nil {
			t.Fatal(err)
		}
		if !active {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("slot %s still active after 10 s", slot)
}
