package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestIdlePostgresStoreWritesNoWAL (idlesave): with checkpoint.store:
// postgres, each save is an UPDATE of walrelay.checkpoint in the source
// database, WAL written after the position it stores. The idle advance
// used to follow the next keepalive onto that WAL and save again: on a
// database where nothing happens walrelay saved once per
// checkpoint.interval (25 saves in 5 s at 200 ms) and wrote WAL forever.
// Now an idle walrelay stops saving and the server's WAL stays flat, the
// checkpoint trails it by one save's WAL; a commit still advances it, and
// so does WAL written elsewhere on the server (the slot keeps moving).
// A private cluster: WAL of other tests would move the idle advance.
func TestIdlePostgresStoreWritesNoWAL(t *testing.T) {
	t.Parallel()
	pg := testenv.PrivatePG(t)
	dsn := pg.NewDatabase(t)
	brokers := kafkaBrokers(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE idl (id int PRIMARY KEY)")
	cfg := newRelayConfig(t, dsn, brokers, "public.idl")
	cfg.set("checkpoint.store", "postgres")
	cfg.set("checkpoint.interval", "200ms")
	r := startRelay(t, cfg)
	conn := testenv.Connect(t, dsn)

	waitCheckpointPast(t, cfg, conn, "INSERT INTO idl VALUES (1)")
	testenv.ExecDSN(t, dsn, `CREATE TABLE idl_saves (at timestamptz DEFAULT clock_timestamp());
		CREATE FUNCTION idl_count() RETURNS trigger LANGUAGE plpgsql AS
			'BEGIN INSERT INTO idl_saves DEFAULT VALUES; RETURN NULL; END';
		CREATE TRIGGER idl_count AFTER INSERT OR UPDATE ON walrelay.checkpoint
			FOR EACH ROW EXECUTE FUNCTION idl_count()`)
	time.Sleep(2 * time.Second) // the DDL's WAL is saved past, once

	saves0, wal0 := idleCounters(t, conn)
	time.Sleep(5 * time.Second)
	saves1, wal1 := idleCounters(t, conn)
	if saves, grew := saves1-saves0, wal1-wal0; saves > 1 || grew > 1024 {
		t.Errorf("idle for 5 s with checkpoint.interval 200ms: %d checkpoint saves and %d bytes of WAL; "+
			"want at most 1 save and 1 KB (each save's WAL must not bring the next save)", saves, grew)
	}
	if lsn, _, err := cfg.checkpoint(); err != nil {
		t.Fatal(err)
	} else if lag := int64(wal1) - int64(lsn); lag < 0 || lag > 4096 {
		t.Errorf("idle: the stored checkpoint %s trails the server's WAL %d by %d bytes, want 0..4096", lsn, wal1, lag)
	}

	// WAL written in another database moves the idle advance past it.
	otherEnd := writeElsewhere(t, pg.DSN())
	idleWait(t, 10*time.Second, "the checkpoint to pass WAL written in another database", func() bool {
		lsn, ok, _ := cfg.checkpoint()
		return ok && lsn >= otherEnd
	})
	// And a commit still advances it past its own WAL.
	waitCheckpointPast(t, cfg, conn, "INSERT INTO idl VALUES (2)")
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}

// waitCheckpointPast runs stmt and waits until the stored checkpoint is at
// or past the server's WAL position after it.
func waitCheckpointPast(t *testing.T, cfg *relayConfig, conn *pgx.Conn, stmt string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), stmt); err != nil {
		t.Fatal(err)
	}
	end := currentLSN(t, conn)
	idleWait(t, 20*time.Second, "the checkpoint to pass "+stmt, func() bool {
		lsn, ok, _ := cfg.checkpoint()
		return ok && lsn >= end
	})
}

// idleCounters returns the saves the trigger counted and the server's WAL
// position.
func idleCounters(t *testing.T, conn *pgx.Conn) (saves int64, wal uint64) {
	t.Helper()
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM idl_saves`).Scan(&saves); err != nil {
		t.Fatal(err)
	}
	return saves, uint64(currentLSN(t, conn))
}

// idleWait polls ok every 100 ms until it holds, failing t after timeout.
func idleWait(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
	}
}

// writeElsewhere writes some 60 KB of WAL in the database of dsn and
// returns the WAL position just before its commit record (the server's
// position after the commit may already hold a checkpoint save).
func writeElsewhere(t *testing.T, dsn string) pglogrepl.LSN {
	t.Helper()
	ctx := context.Background()
	conn := testenv.Connect(t, dsn)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var text string
	if _, err = tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS idl_other (v text);
		INSERT INTO idl_other SELECT repeat('x', 100) FROM generate_series(1, 500)`); err == nil {
		err = tx.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&text)
	}
	if err == nil {
		err = tx.Commit(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	lsn, err := pglogrepl.ParseLSN(text)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}
