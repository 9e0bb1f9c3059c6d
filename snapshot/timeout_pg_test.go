package snapshot

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/replication"
)

// timeoutDB returns a fresh database holding table tt whose own settings
// (as a DBA may set them on the database or role) are a 200 ms
// statement_timeout and lock_timeout.
func timeoutDB(t *testing.T) string {
	t.Helper()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE tt (id int PRIMARY KEY); INSERT INTO tt SELECT generate_series(1, 3)`,
		`DO $$ BEGIN
			EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '200ms');
			EXECUTE format('ALTER DATABASE %I SET lock_timeout = %L', current_database(), '200ms');
		END $$`)
	return dsn
}

// behindLock runs read while another session holds tt in ACCESS EXCLUSIVE
// mode (as a DDL does) for a second, five times the database's timeouts,
// and returns read's error.
func behindLock(t *testing.T, dsn string, read func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	holder := testenv.Connect(t, dsn)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "LOCK TABLE tt IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- read(ctx) }()
	select {
	case err := <-done:
		return err // returned while the lock was held: cancelled
	case <-time.After(time.Second):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return <-done
}

// TestSnapshotIgnoresDBATimeouts: a statement_timeout or lock_timeout the
// DBA sets on the database or role does not cancel a snapshot's LOCK TABLE
// behind a DDL (the audit saw a catch-up retry every second or two until
// the lock went): an incremental chunk, even on a catalog connection that
// keeps the DBA's timeouts (the catch-up's probe), and a snapshot reader
// wait for the lock and read.
func TestSnapshotIgnoresDBATimeouts(t *testing.T) {
	t.Parallel()
	dsn := timeoutDB(t)
	tt := Table{"public", "tt"}
	for _, connect := range []struct {
		name string
		fn   func(context.Context, string) (*pgx.Conn, error)
	}{{"ConnectSQL", replication.ConnectSQL}, {"ConnectSnapshot", replication.ConnectSnapshot}} {
		err := behindLock(t, dsn, func(ctx context.Context) error {
			conn, err := connect.fn(ctx, dsn)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			c, err := ReadChunk(ctx, conn, ChunkOptions{Table: tt, Limit: 10, Log: zerolog.Nop()})
			if err == nil && len(c.Rows) != 3 {
				t.Errorf("%s: read %d rows, want 3", connect.name, len(c.Rows))
			}
			return err
		})
		if err != nil {
			t.Errorf("ReadChunk on %s behind a lock: %v", connect.name, err)
		}
	}
	err := behindLock(t, dsn, func(ctx context.Context) error {
		exp := testenv.Connect(t, dsn)
		ex, err := Export(ctx, exp)
		if err != nil {
			return err
		}
		defer ex.Release(context.Background()) //nolint:errcheck
		rd, err := Open(ctx, Options{Connect: func(ctx context.Context) (*pgx.Conn, error) { return replication.ConnectSQL(ctx, dsn) },
			Snapshot: ex.Name, Tables: []Table{tt}, Parallelism: 1})
		if err != nil {
			return err
		}
		rd.Close()
		return nil
	})
	if err != nil {
		t.Errorf("snapshot reader behind a lock: %v", err)
	}
}
