package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/snapshot"
)

// Incremental catch-ups (snapshot.catchup: incremental, the default) read
// the tables of a catch-up (catchup.go) while the stream goes on, as
// DBLog and Debezium's incremental snapshots do. For each chunk of
// snapshot.catchup_chunk_size rows in chunk-key order, the runner goroutine
//
//  1. writes a low watermark (a logical message in a transaction of its own),
//  2. reads the chunk in a new transaction (snapshot.ReadChunk),
//  3. hands the rows to the publisher and writes a high watermark,
//  4. waits until the publisher reached the high watermark.
//
// The publisher (incremental_window.go) publishes the rows that the stream
// did not change between the two watermarks, as read events of the high
// watermark's transaction, and gives the committer the catch-up's new
// cursor (Catchup.Current, After) for the checkpoint past that transaction.
// A restart resumes after the last chunk a checkpoint covers.

// incremental is a session's incremental catch-up. The runner goroutine
// owns run; the publisher goroutine owns the fields below the line.
type incremental struct {
	s        *session
	session  string          // this session's watermark ID
	tables   map[string]bool // the catch-up's tables (schema.table)
	start    *checkpoint.Catchup
	handoff  chan *incChunk // runner -> publisher: the chunk of the next high watermark
	results  chan string    // publisher -> runner: "" published, else why to read it again
	err      chan error     // the runner's failure, for the reader
	rows     atomic.Uint64  // read events published
	finished atomic.Bool    // every table is read (or the runner stopped)

	win      *incWindow
	before   map[uint32]string // xid -> table of transactions before the window, not yet seen by a chunk's snapshot
	rels     map[string]*event.Relation
	atCommit *incCommit
}

func newIncremental(s *session, cu *checkpoint.Catchup) *incremental {
	inc := &incremental{s: s, session: newSessionID(), tables: map[string]bool{}, start: cu,
		handoff: make(chan *incChunk, 1), results: make(chan string, 1), err: make(chan error, 1),
		before: map[uint32]string{}, rels: map[string]*event.Relation{}}
	for _, t := range cu.Tables {
		inc.tables[t] = true
	}
	return inc
}

// incrementalFits reports whether the catch-up of tables can run
// incrementally: snapshot.catchup asks for it, the server has logical
// messages in pgoutput (PostgreSQL 14+) and every table has a chunk key.
// Otherwise it logs why and the catch-up blocks the stream.
func (s *session) incrementalFits(ctx context.Context, tables []string) (bool, error) {
	if s.cfg.Snapshot.Catchup != config.CatchupIncremental {
		return false, nil
	}
	version, err := serverVersionNum(ctx, s.db)
	if err != nil {
		return false, err
	}
	if version < 140000 {
		s.log.Info().Int("server_version", version).Msg("catch-up: incremental snapshots need PostgreSQL 14 or later; the stream waits for this one")
		return false, nil
	}
	for _, name := range tables {
		t, err := snapshot.ParseTable(name)
		if err != nil {
			return false, fatal(err)
		}
		_, err = snapshot.ReadChunk(ctx, s.db, snapshot.ChunkOptions{Table: t, Publication: s.cfg.Postgres.Publication, Log: quiet(s.log)})
		switch {
		case errors.Is(err, snapshot.ErrNoChunkKey):
			s.log.Info().Str("table", name).Err(err).
				Msg("catch-up: a table without a primary key or replica identity index cannot be read incrementally; the stream waits for this catch-up")
			return false, nil
		case errors.Is(err, snapshot.ErrNoTable):
		case err != nil:
			return false, err
		}
	}
	return true, nil
}

// startIncremental arms the session with the incremental catch-up cu: the
// committer saves it with every checkpoint until the runner's cursors
// replace it. The runner starts with the stream (session.run).
func (s *session) startIncremental(cu *checkpoint.Catchup) {
	s.inc = newIncremental(s, cu)
	s.committer.SetCatchup(cu)
	s.log.Info().Strs("tables", cu.Tables).Str("resume_table", cu.Current).Strs("resume_after", cu.After).
		Int("chunk_rows", s.cfg.Snapshot.CatchupChunkSize).
		Msg("incremental snapshot: reading these tables in chunks while the stream goes on")
}

// runIncremental starts the session's incremental catch-up, if it has one,
// on its own goroutine; a failure reaches the reader (checkStages). The
// returned func stops it and waits for it.
func (s *session) runIncremental(ctx context.Context) (stop func()) {
	if s.inc == nil {
		return func() {}
	}
	ictx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.inc.finished.Store(true)
		if err := s.inc.run(ictx); err != nil {
			s.inc.err <- err
		}
	}()
	return func() { cancel(); <-done }
}

// run reads the catch-up chunk by chunk until every table is read or ctx
// ends (then it returns nil: the checkpoint holds the cursor). It runs on
// its own goroutine with its own connection; an error ends the session.
func (inc *incremental) run(ctx context.Context) error {
	conn, err := replication.ConnectSQL(ctx, inc.s.cfg.Postgres.DSN)
	if err != nil {
		return fmt.Errorf("incremental snapshot: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	began, report := time.Now(), time.Now().Add(reportEvery)
	var id, again uint64
	for cur := inc.start; cur != nil; {
		id++
		next, why, err := inc.chunk(ctx, conn, id, cur)
		if err != nil || ctx.Err() != nil {
			return ignoreStop(ctx, err)
		}
		if why != "" {
			if again++; again%20 == 0 {
				inc.s.log.Warn().Str("table", tableOf(cur)).Strs("after", cur.After).Uint64("times", again).Str("reason", why).
					Msg("incremental snapshot: the same chunk had to be read again many times")
			}
		} else {
			again = 0
			if next == nil || !slices.Contains(next.Tables, tableOf(cur)) {
				inc.s.log.Info().Str("table", tableOf(cur)).Uint64("rows_published", inc.rows.Load()).
					Msg("incremental snapshot: table read")
			}
			cur = next
		}
		if time.Now().After(report) {
			report = time.Now().Add(reportEvery)
			inc.s.log.Info().Str("table", tableOf(cur)).Uint64("rows_published", inc.rows.Load()).
				Uint64("chunks", id).Msg("incremental snapshot running")
		}
	}
	inc.s.log.Info().Uint64("rows", inc.rows.Load()).Uint64("chunks", id).
		Dur("took", time.Since(began).Round(time.Millisecond)).Msg("incremental snapshot completed")
	return nil
}

// chunk reads and hands over one chunk of cur's table between its
// watermarks, and waits for the publisher: it returns the cursor after the
// chunk, and why it must be read again ("" once published).
func (inc *incremental) chunk(ctx context.Context, conn *pgx.Conn, id uint64, cur *checkpoint.Catchup) (next *checkpoint.Catchup, again string, err error) {
	table, after := tableOf(cur), cur.After
	if cur.Current == "" {
		after = nil
	}
	t, err := snapshot.ParseTable(table)
	if err != nil {
		return nil, "", fatal(err)
	}
	w := watermark{Session: inc.session, Chunk: id, Table: table, Kind: watermarkLow}
	if err := emitWatermark(ctx, conn, w); err != nil {
		return nil, "", err
	}
	limit := inc.s.cfg.Snapshot.CatchupChunkSize
	c, err := snapshot.ReadChunk(ctx, conn, snapshot.ChunkOptions{Table: t, Publication: inc.s.cfg.Postgres.Publication,
		After: after, Limit: limit, Log: quiet(inc.s.log)})
	hand := &incChunk{id: id, table: table, chunk: c}
	switch {
	case errors.Is(err, snapshot.ErrNoTable):
		inc.s.log.Warn().Str("table", table).Msg("incremental snapshot: the table was dropped; its snapshot ends")
		hand.chunk = nil
	case err != nil:
		return nil, "", fmt.Errorf("incremental snapshot of %s after %q: %w", table, after, err)
	default:
		if hand.snap, err = parseXidSnapshot(c.Snapshot); err != nil {
			return nil, "", fmt.Errorf("incremental snapshot of %s: %w", table, err)
		}
	}
	hand.next = advance(cur, table, hand.chunk, limit)
	inc.handoff <- hand // cap 1: the publisher took the previous chunk
	w.Kind = watermarkHigh
	if err := emitWatermark(ctx, conn, w); err != nil {
		return nil, "", err
	}
	select {
	case again := <-inc.results:
		return hand.next, again, nil
	case <-ctx.Done():
		return nil, "", nil
	}
}

// advance returns the catch-up's cursor after chunk c of table (nil: the
// table is gone): on in the same table after c's last row while chunks come
// back full, else on with the next table; nil once no table is left.
func advance(cur *checkpoint.Catchup, table string, c *snapshot.Chunk, limit int) *checkpoint.Catchup {
	next := &checkpoint.Catchup{Tables: cur.Tables, Signal: cur.Signal}
	if c != nil && len(c.Rows) == limit && limit > 0 {
		next.Current, next.After = table, c.Last
		return next
	}
	next.Tables = slices.DeleteFunc(slices.Clone(cur.Tables), func(t string) bool { return t == table })
	if len(next.Tables) == 0 {
		return nil
	}
	return next
}

// incErr is the incremental catch-up's failure channel; nil (never ready)
// without one.
func (s *session) incErr() <-chan error {
	if s.inc == nil {
		return nil
	}
	return s.inc.err
}

// tableOf is the table cur reads next: its current one, else its first.
func tableOf(cur *checkpoint.Catchup) string {
	if cur == nil {
		return ""
	}
	if cur.Current != "" {
		return cur.Current
	}
	return cur.Tables[0]
}

// quiet is log for planning each chunk: warnings only, not one "relation
// registered" line per chunk.
func quiet(log zerolog.Logger) zerolog.Logger {
	return log.Level(max(log.GetLevel(), zerolog.WarnLevel))
}

// ignoreStop drops err when ctx ended: the session is stopping.
func ignoreStop(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
