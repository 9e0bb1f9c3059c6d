package replication

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestConnectSnapshotTimeouts: a snapshot connection starts with no
// statement or lock timeout whatever the database (or role) sets, so a
// snapshot's lock and reads wait as long as they take; a catalog connection
// keeps the DBA's settings.
func TestConnectSnapshotTimeouts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `DO $$ BEGIN
		EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '2s');
		EXECUTE format('ALTER DATABASE %I SET lock_timeout = %L', current_database(), '3s');
	END $$`)
	for _, c := range []struct {
		name        string
		connect     func(context.Context, string) (*pgx.Conn, error)
		stmt, locks string
	}{
		{"ConnectSnapshot", ConnectSnapshot, "0", "0"},
		{"ConnectSQL", ConnectSQL, "2s", "3s"},
	} {
		conn, err := c.connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		var stmt, locks string
		err = conn.QueryRow(ctx, "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')").Scan(&stmt, &locks)
		_ = conn.Close(ctx)
		if err != nil || stmt != c.stmt || locks != c.locks {
			t.Errorf("%s: statement_timeout %q, lock_timeout %q, %v; want %q, %q", c.name, stmt, locks, err, c.stmt, c.locks)
		}
	}
}
