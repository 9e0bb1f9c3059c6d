package pipeline

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestLagGaugesBetweenSessions: while no session streams (Kafka down, the
// pipeline halted and restarting), walrelay_lag_bytes,
// walrelay_checkpoint_lsn and walrelay_server_wal_end_lsn go on measuring
// the slot against the server's WAL position, as `walrelay status` does,
// so that a lag alert fires during an outage. Before, they read 0 then
// (the audit: lag_bytes 0 while the slot was 42 MB behind).
func TestLagGaugesBetweenSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `SELECT pg_create_logical_replication_slot('met_idle', 'pgoutput')`)
	t.Cleanup(func() { testenv.ExecDSN(t, dsn, `SELECT pg_drop_replication_slot('met_idle')`) })
	db := testenv.Connect(t, dsn)
	cfg := &config.Config{}
	cfg.Postgres.DSN, cfg.Postgres.Slot = dsn, "met_idle"
	s := &session{cfg: cfg, log: zerolog.Nop(), rs: &runState{}}
	s.tracker = checkpoint.NewTracker(100, 1<<20)
	s.committer = checkpoint.NewCommitter(s.tracker, nil, "met_idle", 0, zerolog.Nop())
	s.reader.s, s.reader.pub = s, &publisher{s: s, heartbeat: &s.rs.heartbeat}
	m := newMetrics()
	t.Cleanup(m.idle.close) // before the database is dropped
	m.streaming(s)
	m.ended(s) // the pipeline halted: no session streams

	var confirmed int64
	if err := db.QueryRow(ctx, `SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint
		FROM pg_replication_slots WHERE slot_name = 'met_idle'`).Scan(&confirmed); err != nil {
		t.Fatal(err)
	}
	walrelayLag := func() (ckpt, end, lag float64) {
		return gaugeValue(t, m, "walrelay_checkpoint_lsn"), gaugeValue(t, m, "walrelay_server_wal_end_lsn"),
			gaugeValue(t, m, "walrelay_lag_bytes")
	}
	grow := func() int64 { // WAL the slot has not confirmed; the server's position after it
		testenv.ExecDSN(t, dsn, `CREATE TABLE IF NOT EXISTS met_fill (v text);
			INSERT INTO met_fill SELECT repeat('x', 100) FROM generate_series(1, 2000)`)
		var end int64
		if err := db.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&end); err != nil {
			t.Fatal(err)
		}
		return end
	}
	end1 := grow()
	ckpt, end, lag := walrelayLag()
	if ckpt != float64(confirmed) || end < float64(end1) || lag != end-ckpt || lag < 200000 {
		t.Fatalf("between sessions: checkpoint_lsn %v, server_wal_end_lsn %v, lag_bytes %v; want the slot's %d, "+
			">= %d, and their difference (>= 200000)", ckpt, end, lag, confirmed, end1)
	}
	end2 := grow()
	time.Sleep(idleFresh)
	if _, end, lag2 := walrelayLag(); end < float64(end2) || lag2 <= lag {
		t.Errorf("later: server_wal_end_lsn %v, lag_bytes %v; want >= %d and more than %v (the backlog grows)", end, lag2, end2, lag)
	}
}

// TestLagGaugesBeforeFirstSave: a session goes live before its committer's
// first save, which stores the session's start (a moment, longer on a slow
// disk). Meanwhile checkpoint_lsn reads that start and the server WAL
// poller measures the lag from it: before, checkpoint_lsn read 0 and
// lag_bytes the server's whole WAL (CI's e2e TestMetrics saw
// checkpoint_lsn 0 on a loaded machine).
func TestLagGaugesBeforeFirstSave(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	cfg := &config.Config{}
	cfg.Postgres.DSN, cfg.Postgres.Slot = dsn, "met_first"
	s := &session{cfg: cfg, log: zerolog.Nop(), rs: &runState{}, start: 0x1000}
	s.tracker = checkpoint.NewTracker(100, 1<<20)
	s.committer = checkpoint.NewCommitter(s.tracker, nil, "met_first", 0, zerolog.Nop())
	s.reader.s, s.reader.pub = s, &publisher{s: s, heartbeat: &s.rs.heartbeat}
	m := newMetrics()
	m.streaming(s) // live; the committer has saved nothing
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sample atomic.Pointer[walSample]
	p := walPoller{dsn: dsn, persisted: s.lagFrom}
	defer p.close()
	if !s.pollOnce(ctx, &p, &sample) || sample.Load() == nil {
		t.Fatal("no poll of the server's WAL position")
	}
	s.reader.server.Store(sample.Load())
	end := float64(sample.Load().end)
	if ckpt, lag := gaugeValue(t, m, "walrelay_checkpoint_lsn"), gaugeValue(t, m, "walrelay_lag_bytes"); ckpt != 0x1000 || lag != end-0x1000 {
		t.Errorf("before the first save: checkpoint_lsn %v, lag_bytes %v; want the start 4096 and %v", ckpt, lag, end-0x1000)
	}
}
