package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// idleFresh is how long a between-sessions measurement serves scrapes
// before the next one measures again; idleTimeout bounds one measurement
// (connecting included).
const (
	idleFresh   = 2 * time.Second
	idleTimeout = 3 * time.Second
)

// idleLag measures walrelay_checkpoint_lsn, walrelay_server_wal_end_lsn
// and walrelay_lag_bytes while no session streams (the pipeline halted,
// restarting, or a session setting up), so that a lag alert fires during
// an outage instead of reading 0: at a scrape, at most every idleFresh, it
// reads the slot's confirmed_flush_lsn and the server's WAL position on a
// connection of the Run (a session's connections end with it), as
// `walrelay status` does. The checkpoint is the newer of the slot's
// confirmed position and the one the last session persisted. When a
// measurement fails (PostgreSQL down too) the last values stay. Before a
// session of the Run streamed it measures nothing: the gauges read 0.
type idleLag struct {
	mu         sync.Mutex
	dsn, slot  string    // of the last session that streamed; "" before one
	persisted  event.LSN // what the last session persisted
	db         *pgx.Conn // the Run's connection; nil until needed, or after a failure
	at         time.Time // when last measured; zero if never
	checkpoint event.LSN
	end        event.LSN
}

// from takes the slot and DSN of s, which streams now.
func (l *idleLag) from(s *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dsn, l.slot = s.cfg.Postgres.DSN, s.cfg.Postgres.Slot
}

// ended takes what s, which stopped streaming, persisted last and its
// last measurement, so that the gauges go on from there.
func (l *idleLag) ended(s *session) {
	if s.committer == nil {
		return
	}
	persisted := s.committer.Persisted()
	end := s.reader.serverWALEnd()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.persisted = max(l.persisted, persisted)
	l.checkpoint = max(l.checkpoint, persisted)
	l.end = max(l.end, end, l.checkpoint)
	l.at = time.Time{} // measure at the next scrape
}

// read returns the checkpoint and the server's WAL position, measured at
// most idleFresh ago if it can be; zero before a session streamed.
func (l *idleLag) read() (checkpoint, end event.LSN) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dsn == "" {
		return 0, 0
	}
	if time.Since(l.at) >= idleFresh {
		l.at = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), idleTimeout)
		defer cancel()
		if err := l.measure(ctx); err != nil {
			l.closeLocked() // connect again next time; the last values stay
		}
	}
	return l.checkpoint, l.end
}

// measure reads the slot's confirmed position and the server's WAL
// position. Called with mu held.
func (l *idleLag) measure(ctx context.Context) error {
	if l.db == nil {
		db, err := replication.ConnectSQL(ctx, l.dsn)
		if err != nil {
			return err
		}
		l.db = db
	}
	info, err := replication.LookupSlot(ctx, l.db, l.slot)
	if err != nil {
		return err
	}
	end, err := ServerWALPosition(ctx, l.db)
	if err != nil {
		return err
	}
	l.checkpoint = max(l.persisted, l.checkpoint)
	if info.Exists {
		l.checkpoint = max(l.checkpoint, info.ConfirmedFlush)
	}
	l.end = max(end, l.checkpoint)
	return nil
}

// close ends the Run's connection. Called when the metrics server stops.
func (l *idleLag) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closeLocked()
}

func (l *idleLag) closeLocked() {
	if l.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = l.db.Close(ctx)
		l.db = nil
	}
}
