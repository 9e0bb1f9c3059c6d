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

// serverWALRecheck is how often the poller checks whether the checkpoint
// has passed the position it last read (walSample.outdated), and
// serverWALRepollAfter the least time between two polls then.
const (
	serverWALRecheck     = 100 * time.Millisecond
	serverWALRepollAfter = 500 * time.Millisecond
)

// serverWALTimeout bounds one poll (connecting included).
const serverWALTimeout = 10 * time.Second

// A scrape of the metrics asks for a poll (reader.refreshServerWAL) unless
// the last one is more recent than serverWALFresh, and waits for it at most
// serverWALScrapeWait.
const (
	serverWALFresh      = 100 * time.Millisecond
	serverWALScrapeWait = 500 * time.Millisecond
)

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

// walSample is one reading of the server's WAL position, together with the
// checkpoint persisted just before it was read: end - checkpoint is the lag
// at that moment, measured as `walrelay status` measures it. Immutable once
// stored.
type walSample struct {
	end        event.LSN // the server's WAL position
	checkpoint event.LSN // persisted just before end was read; end itself when no lag was measured with it
	at         time.Time // when the poll that read end started
}

// lag is the lag the sample measured (0 when the checkpoint was at or past
// the server's position).
func (w walSample) lag() int64 { return lagBetween(w.end, w.checkpoint) }

// outdated reports whether w no longer tells anything about the lag: the
// checkpoint, persisted now, has moved since w was read and reached the
// position w read (the lag w measured is worked off, or the checkpoint
// followed a keepalive past it). The server may have written more since:
// only a new poll tells.
func (w walSample) outdated(persisted event.LSN) bool {
	return persisted > w.checkpoint && persisted >= w.end
}

// lagBytes is walrelay_lag_bytes: the WAL the server has that the persisted
// checkpoint has not passed, as far as walrelay knows. That is the larger of
// the lag the last poll measured (s: the server's position and the
// checkpoint of that moment, read together) and what walrelay has learnt
// since of WAL past the checkpoint now (persisted): the position the
// walsender reported last (reported), or the polled one. So it reads 0
// only when the last poll found the checkpoint at the server's position
// and nothing newer shows WAL past it.
//
// The polled position minus the checkpoint now, as it was, read 0 for up
// to serverWALEvery near the end of a backlog: the checkpoint passes a
// position polled before, and the walsender's reports do not fill in, as a
// change's position is its own record's start (a commit's is below its
// end, the checkpoint; a transaction that ran alongside the one before has
// changes below it) and the walsender sends nothing while it decodes a
// large transaction. Now the figure can instead stay at the lag last measured
// while walrelay works it off, until the poller reads the position again:
// soon after the checkpoint passes it, and at each scrape
// (pollServerWAL, reader.refreshServerWAL).
func lagBytes(s walSample, reported, persisted event.LSN) int64 {
	return max(s.lag(), lagBetween(max(s.end, reported), persisted))
}

// lagBetween is end - from, or 0 when from is at or past end.
func lagBetween(end, from event.LSN) int64 {
	if end <= from {
		return 0
	}
	return int64(end - from)
}

// walPoller polls the server's WAL position for a streaming session, on a
// connection of its own (the session's SQL connection belongs to other
// goroutines).
type walPoller struct {
	dsn       string
	persisted func() event.LSN // the committer's persisted checkpoint
	db        *pgx.Conn        // nil until connected, and after a failure
	failing   bool             // the last poll failed (logged once per failure streak)
	last      time.Time        // when the last poll started
}

// pollServerWAL stores a walSample into sample at once, then every
// serverWALEvery, and sooner (serverWALRepollAfter after the last poll at
// the earliest) once the checkpoint has passed the position it read
// (walSample.outdated), and when a scrape of the metrics asks on requests
// (reader.refreshServerWAL: it closes the channel it receives once the
// sample is fresh), until ctx ends. reader.loop runs it in its own
// goroutine for the life of the stream. A failed poll is logged (once,
// until one succeeds again) and retried at the next serverWALEvery (or
// request) on a new connection; it never stops the pipeline, and meanwhile
// the lag is measured from the newest position the walsender reported
// (reader.serverWALEnd), as the sample then holds no lag of its own.
func (s *session) pollServerWAL(ctx context.Context, sample *atomic.Pointer[walSample], requests <-chan chan struct{}) {
	p := walPoller{dsn: s.cfg.Postgres.DSN, persisted: s.lagFrom}
	defer p.close()
	t := time.NewTicker(serverWALRecheck)
	defer t.Stop()
	for {
		if p.due(time.Now(), sample.Load()) && !s.pollOnce(ctx, &p, sample) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case done := <-requests:
			fresh := time.Since(p.last) < serverWALFresh
			if !fresh && !s.pollOnce(ctx, &p, sample) {
				return
			}
			close(done)
		}
	}
}

// due reports whether the poller should read the position now: the first
// time, every serverWALEvery, and serverWALRepollAfter after the last poll
// once cur (the last sample) is outdated, unless polls are failing.
func (p *walPoller) due(now time.Time, cur *walSample) bool {
	since := now.Sub(p.last)
	return p.last.IsZero() || since >= serverWALEvery ||
		!p.failing && cur != nil && since >= serverWALRepollAfter && cur.outdated(p.persisted())
}

// pollOnce reads the position into sample, with the checkpoint persisted
// just before; false when ctx ended. After a failure the sample keeps the
// position read last but measures no lag (checkpoint = end), since that
// lag is no longer being re-measured.
func (s *session) pollOnce(ctx context.Context, p *walPoller, sample *atomic.Pointer[walSample]) bool {
	p.last = time.Now()
	cp := p.persisted()
	lsn, err := p.poll(ctx)
	switch {
	case err == nil:
		sample.Store(&walSample{end: lsn, checkpoint: cp, at: p.last})
		if p.failing {
			s.log.Info().Stringer("server_wal_end", lsn).Msg("the server's WAL position is read again: lag_bytes is current")
		}
		p.failing = false
	case ctx.Err() != nil:
		return false
	case !p.failing:
		p.failing = true
		if cur := sample.Load(); cur != nil {
			sample.Store(&walSample{end: cur.end, checkpoint: cur.end, at: cur.at})
		}
		s.log.Warn().Err(err).Msg("the server's WAL position cannot be read: lag_bytes counts only what the walsender " +
			"reported until it can; retrying every " + serverWALEvery.String())
	}
	return true
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

// serverWALEnd is the server's WAL position: the one polled last
// (server_wal.go), or the newest one the walsender reported if that is
// later (a keepalive's or XLogData's walEnd; never beyond the server's
// position, but during a backlog only as far as the reader has read). Safe
// from any goroutine.
func (r *reader) serverWALEnd() event.LSN {
	return max(r.polled().end, event.LSN(r.walEndSeen.Load()))
}

// lagFrom is the checkpoint the lag is measured from: the committer's
// persisted one or, before its first save, the session's start, which is
// what that save stores as the committer starts (a moment after the
// session goes live, longer on a slow disk). Without it checkpoint_lsn
// read 0 and lag_bytes the server's whole WAL in that moment. Safe from
// any goroutine (start is set before the session's goroutines start).
func (s *session) lagFrom() event.LSN {
	if p := s.committer.Persisted(); p != 0 {
		return p
	}
	return s.start
}

// lag is walrelay_lag_bytes with the checkpoint persisted (lagBytes). Safe
// from any goroutine.
func (r *reader) lag(persisted event.LSN) int64 {
	return lagBytes(r.polled(), event.LSN(r.walEndSeen.Load()), persisted)
}

// polled returns the last sample of the server's position, zero before the
// first poll.
func (r *reader) polled() walSample {
	if p := r.server.Load(); p != nil {
		return *p
	}
	return walSample{}
}

// pollServerWAL starts the goroutine that polls the server's WAL position
// into r.server; the returned function stops it and waits for it.
func (r *reader) pollServerWAL(ctx context.Context) (stop func()) {
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	r.polling.Store(true)
	go func() {
		defer close(done)
		defer r.polling.Store(false)
		r.s.pollServerWAL(pctx, &r.server, r.pollRequests())
	}()
	return func() { cancel(); <-done }
}

// pollRequests is the channel on which refreshServerWAL asks the poller
// for a poll (one pending at most). Safe from any goroutine.
func (r *reader) pollRequests() chan chan struct{} {
	r.pollInit.Do(func() { r.pollReq = make(chan chan struct{}, 1) })
	return r.pollReq
}

// refreshServerWAL makes the polled position current before a scrape of
// the metrics reads it: unless the last poll is more recent than
// serverWALFresh, it asks the poller for one and waits for it, at most
// wait (a server that does not answer leaves the last sample; so does a
// poller that is not running, at once). So walrelay_lag_bytes shows the lag of the
// scrape's moment, not of a poll up to serverWALEvery old, after which the
// server may have written a large transaction the walsender has not sent
// yet. Called on the metrics server's goroutines; concurrent calls share
// one poll.
func (r *reader) refreshServerWAL(wait time.Duration) {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	if cur := r.server.Load(); !r.polling.Load() || cur != nil && time.Since(cur.at) < serverWALFresh {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	done := make(chan struct{})
	select {
	case r.pollRequests() <- done:
	case <-t.C:
		return
	}
	select {
	case <-done:
	case <-t.C:
	}
}
