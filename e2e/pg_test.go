package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// markerTable is captured by every test's relay; catchUp writes to it.
const markerTable = "public.e2e_marker"

const markerDDL = `
CREATE TABLE e2e_marker (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
`

// connect opens a connection that t's cleanup closes.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", dsn, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// mustExec runs SQL (several statements allowed when there are no args).
func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// slotState returns the slot's confirmed_flush_lsn and whether a walsender
// uses it.
func slotState(ctx context.Context, conn *pgx.Conn, slot string) (confirmed pglogrepl.LSN, active bool, err error) {
	var s *string
	err = conn.QueryRow(ctx, `SELECT confirmed_flush_lsn::text, active FROM pg_replication_slots
		WHERE slot_name = $1`, slot).Scan(&s, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, fmt.Errorf("slot %s does not exist", slot)
	}
	if err != nil {
		return 0, false, fmt.Errorf("slot %s: %w", slot, err)
	}
	if s == nil {
		return 0, active, fmt.Errorf("slot %s has no confirmed_flush_lsn", slot)
	}
	confirmed, err = pglogrepl.ParseLSN(*s)
	return confirmed, active, err
}

// inactiveSlot waits (up to 10 s) until no walsender uses the slot, which
// means the walsender has processed everything the relay sent, and returns
// the slot's confirmed_flush_lsn.
func inactiveSlot(t *testing.T, conn *pgx.Conn, slot string) pglogrepl.LSN {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		lsn, active, err := slotState(ctx, conn, slot)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if !active {
			return lsn
		}
		select {
		case <-ctx.Done():
			t.Fatalf("slot %s still active 10s after the relay exited", slot)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// catchUp writes a marker row and waits until the relay has published it and
// stored a checkpoint beyond its commit; then every transaction committed
// before the marker has been acknowledged by Kafka (invariant 1), and col
// reads up to the topics' current end. mcol consumes the marker topic (it
// may be col itself when col keeps records).
func catchUp(t *testing.T, cfg *relayConfig, conn *pgx.Conn, mcol, col *collector, timeout time.Duration) {
	t.Helper()
	commit := publishedMarker(t, cfg, conn, mcol, timeout)
	cfg.waitCheckpointBeyond(commit, timeout)
	col.readToEnd(timeout)
}

// publishedMarker writes a marker row, waits until mcol reads it and
// returns its commit LSN: every change committed before it was published.
func publishedMarker(t *testing.T, cfg *relayConfig, conn *pgx.Conn, mcol *collector, timeout time.Duration) pglogrepl.LSN {
	t.Helper()
	var id int64
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := conn.QueryRow(ctx, "INSERT INTO e2e_marker DEFAULT VALUES RETURNING id").Scan(&id); err != nil {
		t.Fatalf("insert marker: %v", err)
	}
	want := fmt.Sprintf("id=%d", id)
	topic := cfg.topic(markerTable)
	var commit pglogrepl.LSN
	mcol.waitFor(timeout, "marker "+want+" in "+topic, func() bool {
		for i := len(mcol.recs) - 1; i >= 0; i-- {
			if r := mcol.recs[i]; r.Topic == topic && r.Key == want {
				commit = r.Commit
				return true
			}
		}
		return false
	})
	return commit
}
