package pipeline

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"

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
//  4. learns later whether the publisher published the chunk.
//
// The publisher (incremental_window.go) publishes the rows that the stream
// did not change between the two watermarks, as read events of the high
// watermark's transaction, and gives the committer the catch-up's new
// cursor (Catchup.Current, After) for the checkpoint past that transaction.
// A restart resumes after the last chunk a checkpoint covers.
//
// The runner does not wait for a chunk's result before it reads the next
// one: up to incDepth chunks are outstanding (incremental_runner.go), so it
// reads chunk N+1 while the publisher publishes chunk N. Watermarks go out
// one after the other on the runner's connection, so windows never overlap
// and results come back in order. Chunk N+1 is read from the cursor after
// chunk N; if N must be read again, the publisher does not publish N+1
// (incChunk.prev) and the runner reads from N's cursor again.

// incremental is a session's incremental catch-up. The runner goroutine
// owns run; the publisher goroutine owns the fields below the line.
type incremental struct {
	s        *session
	session  string          // this session's watermark ID
	tables   map[string]bool // the catch-up's tables (schema.table)
	start    *checkpoint.Catchup
	handoff  chan *incChunk // runner -> publisher: the chunks of the next high watermarks, cap incDepth
	results  chan incResult // publisher -> runner: each chunk's result in order, cap incDepth
	err      chan error     // the runner's failure, for the reader
	rows     atomic.Uint64  // rows published as read events (an outbox rule's rows publish none)
	read     atomic.Uint64  // rows read and routed
	finished atomic.Bool    // every table is read (or the runner stopped)

	oids    incOIDs           // the tables' OIDs: the runner adds, the publisher reads (incremental_follow.go)
	renamed map[string]string // runner: catch-up table -> the new name it was last read under

	win       *incWindow
	before    map[uint32]string // xid -> table of transactions before the window, not yet seen by a chunk's snapshot
	rels      map[string]*event.Relation
	atCommit  *incCommit
	published uint64 // the id of the last chunk published; 0 before the first
}

func newIncremental(s *session, cu *checkpoint.Catchup) *incremental {
	inc := &incremental{s: s, session: newSessionID(), tables: map[string]bool{}, start: cu,
		handoff: make(chan *incChunk, incDepth), results: make(chan incResult, incDepth), err: make(chan error, 1),
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
	version, err := replication.ServerVersion(ctx, s.db)
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
	s.log.Info().Strs("tables", cu.Tables).Str("resume_table", cu.Current).Strs("resume_after", s.shownCursor(cu.Current, nil, cu.After)).
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
