package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// serverWALEvery is how often a streaming session asks the server for its
// current WAL position, from which walrelay_lag_bytes and the progress
// line's lag_bytes are measured.
const serverWALEvery = 2 * time.Second

// serverWALTimeout bounds one poll (connecting included).
const serverWALTimeout = 10 * time.Second

// ServerWALPosition returns the server's current WAL position:
// pg_current_wal_lsn() on a primary; on a server in recovery (logical
// decoding on a standby, PostgreSQL 16+) the position replayed so far, the
// newest one a slot there can decode. `walrelay status` and the streaming
// session's poller both measure the lag from it, so the two agree.
func ServerWALPosition(ctx context.Context, db *pgx.Conn) (event.LSN, error) {
	var text *string
	err := db.QueryRow(ctx, `SELECT (CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()
		ELSE pg_catalog.pg_current_wal_lsn() END)::text`).Scan(&text)
	if err != nil {
		return 0, fmt.Errorf("postgres: pg_current_wal_lsn: %w", err)
	}
	if text == nil {
		return 0, errors.New("postgres: the server in recovery reports no replayed WAL position")
	}
	lsn, err := pglogrepl.ParseLSN(*text)
	if err != nil {
		return 0, fmt.Errorf("postgres: WAL position %q: %w", *text, err)
	}
	return lsn, nil
}

// walPoller polls the server's WAL position for a streaming session, on a
// connection of its own (the session's SQL connection belongs to other
// goroutines).
type walPoller struct {
	dsn     string
	db      *pgx.Conn // nil until connected, and after a failure
	failing bool      // the last poll failed (logged once per failure streak)
}

// pollServerWAL stores the server's WAL position into end at once and then
// every serverWALEvery until ctx ends. reader.loop runs it in its own
// goroutine for the life of the stream. A failed poll is logged (once, until
// one succeeds again) and retried at the next tick on a new connection; it
// never stops the pipeline, and meanwhile the lag is measured from the
// newest position the walsender reported (reader.serverWALEnd).
func (s *session) pollServerWAL(ctx context.Context, end *atomic.Uint64) {
	p := walPoller{dsn: s.cfg.Postgres.DSN}
	defer p.close()
	t := time.NewTicker(serverWALEvery)
	defer t.Stop()
	for {
		lsn, err := p.poll(ctx)
		switch {
		case err == nil:
			end.Store(uint64(lsn))
			if p.failing {
				s.log.Info().Stringer("server_wal_end", lsn).Msg("the server's WAL position is read again: lag_bytes is current")
			}
			p.failing = false
		case ctx.Err() != nil:
			return
		case !p.failing:
			p.failing = true
			s.log.Warn().Err(err).Msg("the server's WAL position cannot be read: lag_bytes counts only what the walsender " +
				"reported until it can; retrying every " + serverWALEvery.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll connects if needed and reads the position; after an error the
// connection is closed, and the next poll opens a new one.
func (p *walPoller) poll(ctx context.Context) (event.LSN, error) {
	ctx, cancel := context.WithTimeout(ctx, serverWALTimeout)
	defer cancel()
	if p.db == nil {
		db, err := replication.ConnectSQL(ctx, p.dsn)
		if err != nil {
			return 0, err
		}
		p.db = db
	}
	lsn, err := ServerWALPosition(ctx, p.db)
	if err != nil {
		p.close()
	}
	return lsn, err
}

func (p *walPoller) close() {
	if p.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = p.db.Close(ctx)
		cancel()
		p.db = nil
	}
}
