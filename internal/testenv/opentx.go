package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// OpenTx opens, on a connection of its own to dsn, a transaction that runs
// stmt (a write, so that it takes a transaction ID: creating a replication
// slot then waits for it to end) and returns it with that backend's pid.
// With appName, the session sets application_name first. The caller ends
// it with Commit; t's cleanup rolls back one still open.
func OpenTx(t testing.TB, dsn, appName, stmt string) (pgx.Tx, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := Connect(t, dsn)
	if appName != "" {
		if _, err := conn.Exec(ctx, "SELECT set_config('application_name', $1, false)", appName); err != nil {
			t.Fatalf("testenv: set application_name: %v", err)
		}
	}
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatalf("testenv: pg_backend_pid: %v", err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatalf("testenv: begin: %v", err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) }) // a no-op once committed
	if _, err := tx.Exec(ctx, stmt); err != nil {
		t.Fatalf("testenv: %s: %v", stmt, err)
	}
	return tx, pid
}
