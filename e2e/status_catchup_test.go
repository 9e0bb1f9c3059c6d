package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

// TestStatusDuringBacklog: while the relay catches up a backlog of many
// transactions in one continuous stream, it confirms its progress to the
// server as it goes (postgres.status_interval 100ms), not only once the
// stream pauses: the slot's confirmed_flush_lsn takes at least three values
// between where the relay stopped and the backlog's end (sampled every
// 20 ms by the kill test's monitor, which also checks that the slot is
// never confirmed past the stored checkpoint). Otherwise the server would
// keep the whole backlog's WAL until the relay caught up.
// (The reader sends them from its periodic checks, while it waits to hand
// a batch over, and when a read finds the status deadline passed; with all
// three off, this test fails.)
func TestStatusDuringBacklog(t *testing.T) {
	const txs, rowsPerTx = 200, 2000
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE backlog (id bigint PRIMARY KEY, note text NOT NULL);`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.backlog", markerTable)
	cfg.set("postgres.status_interval", "100ms")
	cfg.set("checkpoint.interval", "100ms")
	mcol := newCollector(t, brokers, cfg.topic(markerTable))
	r := startRelay(t, cfg)
	catchUp(t, cfg, conn, mcol, mcol, time.Minute)
	if code, took := r.term(); code != 0 {
		t.Fatalf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}

	ctx := context.Background()
	start, _, err := slotState(ctx, conn, cfg.Slot)
	if err != nil {
		t.Fatal(err)
	}
	for i := range txs {
		mustExec(t, conn, `INSERT INTO backlog SELECT g, 'row ' || g FROM generate_series($1::bigint, $2::bigint) g`,
			i*rowsPerTx+1, (i+1)*rowsPerTx)
	}
	var end pglogrepl.LSN
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()").Scan(&end); err != nil {
		t.Fatal(err)
	}

	mon := startMonitor(t, cfg, dsn)
	r = startRelay(t, cfg)
	catchUp(t, cfg, conn, mcol, mcol, 2*time.Minute)
	samples, violations := mon.stop()
	for _, v := range violations {
		t.Errorf("monitor: %s", v)
	}
	var between []pglogrepl.LSN
	for _, lsn := range mon.confirmed() {
		if lsn > start && lsn < end {
			between = append(between, lsn)
		}
	}
	t.Logf("backlog %s..%s; %d samples; confirmed_flush_lsn took %d values in between: %v",
		start, end, samples, len(between), between)
	if len(between) < 3 {
		t.Errorf("confirmed_flush_lsn took %d values between %s and %s while the relay caught up %d rows, want at least 3 "+
			"(status updates during the stream)", len(between), start, end, txs*rowsPerTx)
	}
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}
