package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/snapshot"
)

// The runner's half of an incremental catch-up (incremental.go has the
// overview, incremental_window.go the publisher's half).

// incDepth is how many chunks may be outstanding: issued by the runner
// (read, handed over, high watermark written) with their result not back
// from the publisher yet. At 2 the runner reads chunk N+1 while the
// publisher publishes chunk N.
const incDepth = 2

// incStale is the publisher's result for a chunk read from the cursor after
// a chunk that was not published: it is neither published nor saved.
const incStale = "an earlier chunk is read again"

// incResult is the publisher's result of a chunk, sent to the runner once
// the chunk's high watermark committed.
type incResult struct {
	id    uint64
	again string // "" published; else why the chunk must be read again, or incStale
}

// run reads the catch-up chunk by chunk, up to incDepth chunks ahead of
// the publisher, until every table is read or ctx ends (then it returns
// nil: the checkpoint holds the cursor). It runs on its own goroutine with
// its own connection; an error ends the session.
func (inc *incremental) run(ctx context.Context) error {
	conn, err := replication.ConnectSnapshot(ctx, inc.s.cfg.Postgres.DSN)
	if err != nil {
		return fmt.Errorf("incremental snapshot: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	r := &incRun{inc: inc, q: newIncQueue(inc.start, incDepth), report: time.Now().Add(reportEvery)}
	began := time.Now()
	for !r.q.done() {
		if err := r.step(ctx, conn); err != nil || ctx.Err() != nil {
			return ignoreStop(ctx, err)
		}
	}
	inc.s.log.Info().Uint64("rows", inc.rows.Load()).Uint64("rows_read", inc.read.Load()).Uint64("chunks", r.q.lastID).
		Float64("took_seconds", logfield.Seconds(time.Since(began))).Msg("incremental snapshot completed")
	return nil
}

// incRun is the runner goroutine's state during run.
type incRun struct {
	inc    *incremental
	q      *incQueue
	again  uint64    // results in a row that asked for a chunk to be read again
	report time.Time // when to log progress next
	// tableFrom and readFrom are inc.rows and inc.read when the table
	// being read began (in this session), so that "table read" logs the
	// table's own rows.
	tableFrom, readFrom uint64
}

// step consumes a result that is already back, else issues the next chunk
// if it may, else waits for the oldest outstanding chunk's result or for
// ctx to end (then it returns nil).
func (r *incRun) step(ctx context.Context, conn *pgx.Conn) error {
	select {
	case res := <-r.inc.results:
		return r.consume(res)
	default:
	}
	if r.q.ready() {
		return r.inc.chunk(ctx, conn, r.q)
	}
	select {
	case res := <-r.inc.results:
		return r.consume(res)
	case <-ctx.Done():
		return nil
	}
}

// consume applies the publisher's result of the oldest outstanding chunk
// (incQueue.result) and logs what changed: a table read completely, a
// chunk read again many times, progress. An error means the runner and the
// publisher disagree about the chunks; it ends the session.
func (r *incRun) consume(res incResult) error {
	c, outcome, err := r.q.result(res)
	if err != nil {
		return err
	}
	log, table := r.inc.s.log, tableOf(c.start)
	switch outcome {
	case incAgain:
		if r.again++; r.again%20 == 0 {
			log.Warn().Str("table", table).Strs("after", r.inc.s.shownCursor(table, nil, c.start.After)).Uint64("times", r.again).Str("reason", res.again).
				Msg("incremental snapshot: the same chunk had to be read again many times")
		}
	case incPublished:
		r.again = 0
		if c.next == nil || !slices.Contains(c.next.Tables, table) {
			rows, read := r.inc.rows.Load(), r.inc.read.Load()
			log.Info().Str("table", table).Uint64("rows_read", read-r.readFrom).Uint64("rows_published", rows-r.tableFrom).
				Msg("incremental snapshot: table read")
			r.tableFrom, r.readFrom = rows, read
		}
	}
	if time.Now().After(r.report) {
		r.report = time.Now().Add(reportEvery)
		log.Info().Str("table", tableOf(r.q.cur)).Uint64("rows_published_all_tables", r.inc.rows.Load()).
			Uint64("chunks", r.q.lastID).Msg("incremental snapshot running")
	}
	return nil
}

// chunk issues q's next chunk: it writes its low watermark, reads it,
// hands it to the publisher, writes its high watermark and records it in
// q. It returns nil without recording it when ctx ends; an error (a
// watermark not written, the read failed) ends the session.
func (inc *incremental) chunk(ctx context.Context, conn *pgx.Conn, q *incQueue) error {
	id, prev, cur := q.nextChunk()
	table, after := tableOf(cur), cur.After
	if cur.Current == "" {
		after = nil
	}
	w := watermark{Session: inc.session, Chunk: id, Table: table, Kind: watermarkLow}
	if err := emitWatermark(ctx, conn, w); err != nil {
		return err
	}
	limit := inc.s.cfg.Snapshot.CatchupChunkSize
	c, err := inc.readChunk(ctx, conn, table, after, limit)
	hand := &incChunk{id: id, prev: prev, table: table, chunk: c}
	switch {
	case errors.Is(err, snapshot.ErrNoTable):
		inc.s.log.Warn().Str("table", table).Msg("incremental snapshot: the table was dropped; its snapshot ends")
		hand.chunk = nil
	case err != nil:
		return hideCursor(fmt.Errorf("incremental snapshot of %s after %q: %w", table, after, err),
			after, inc.s.shownCursor(table, nil, after))
	default:
		if hand.snap, err = parseXidSnapshot(c.Snapshot); err != nil {
			return fmt.Errorf("incremental snapshot of %s: %w", table, err)
		}
	}
	hand.next = advance(cur, table, hand.chunk, limit)
	select {
	case inc.handoff <- hand: // cap incDepth: never full with fewer than incDepth outstanding
	case <-ctx.Done():
		return nil
	}
	w.Kind = watermarkHigh
	if err := emitWatermark(ctx, conn, w); err != nil {
		return err
	}
	q.issued(hand.next)
	return nil
}

// readChunk reads the chunk of table after after: under the table's
// current name (readName), after the low watermark so that the window
// covers a rename in between. A table renamed between finding its name
// and reading it is read again under its newer name. It wraps
// snapshot.ErrNoTable when the table was dropped.
func (inc *incremental) readChunk(ctx context.Context, conn *pgx.Conn, table string, after []string, limit int) (*snapshot.Chunk, error) {
	tried := ""
	for {
		name, err := inc.readName(ctx, conn, table)
		if err != nil {
			return nil, err
		}
		if name == "" || name == tried { // dropped, or not renamed since the read that found no table
			return nil, fmt.Errorf("incremental snapshot: %s: %w", table, snapshot.ErrNoTable)
		}
		t, err := snapshot.ParseTable(name)
		if err != nil {
			return nil, fatal(err)
		}
		c, err := snapshot.ReadChunk(ctx, conn, snapshot.ChunkOptions{Table: t, Publication: inc.s.cfg.Postgres.Publication,
			After: after, Limit: limit, Log: quiet(inc.s.log)})
		if !errors.Is(err, snapshot.ErrNoTable) {
			return c, err
		}
		tried = name
	}
}

// incIssued is a chunk the runner issued.
type incIssued struct {
	id     uint64
	prev   uint64              // the id of the chunk whose cursor it starts from; 0: the catch-up's start
	start  *checkpoint.Catchup // the cursor it was read from
	next   *checkpoint.Catchup // the cursor after it (advance); nil: the catch-up's last chunk
	ignore bool                // issued after a chunk that is read again: its result is only consumed
}

// incOutcome is what a chunk's result means to the runner.
type incOutcome int

const (
	incPublished incOutcome = iota // published: the catch-up moved past it
	incAgain                       // to be read again: the next chunk starts from its cursor
	incIgnored                     // issued after a chunk read again: not published, nothing to do
)

// incQueue is the runner's bookkeeping: the cursor of the next chunk to
// issue and the chunks outstanding, oldest first. It does no I/O. Owned by
// the runner goroutine.
type incQueue struct {
	depth  int
	cur    *checkpoint.Catchup // the next chunk's cursor; nil: none left
	prev   uint64              // the id of the chunk cur follows; 0: the catch-up's start
	lastID uint64              // the id of the last chunk issued
	out    []incIssued
}

// newIncQueue returns the bookkeeping of a catch-up that starts at start,
// with at most depth chunks outstanding.
func newIncQueue(start *checkpoint.Catchup, depth int) *incQueue {
	return &incQueue{depth: depth, cur: start}
}

// ready reports whether a chunk may be issued now: a cursor is left and
// fewer than depth chunks are outstanding.
func (q *incQueue) ready() bool { return q.cur != nil && len(q.out) < q.depth }

// done reports whether the catch-up is over: no cursor is left and no chunk
// is outstanding.
func (q *incQueue) done() bool { return q.cur == nil && len(q.out) == 0 }

// nextChunk returns the id of the next chunk to issue, the id of the chunk
// whose cursor it starts from, and that cursor. Call it when ready.
func (q *incQueue) nextChunk() (id, prev uint64, cur *checkpoint.Catchup) {
	return q.lastID + 1, q.prev, q.cur
}

// issued records the chunk nextChunk described as outstanding, with next
// the cursor after it; the next chunk starts there.
func (q *incQueue) issued(next *checkpoint.Catchup) {
	q.lastID++
	q.out = append(q.out, incIssued{id: q.lastID, prev: q.prev, start: q.cur, next: next})
	q.cur, q.prev = next, q.lastID
}

// result takes the publisher's result of the oldest outstanding chunk and
// returns that chunk and what the result means. A chunk to be read again
// sends the cursor back to where that chunk started (and marks the chunks
// issued after it ignored: the publisher does not publish them). An error
// says the publisher's results do not match the chunks issued; the runner
// ends then.
func (q *incQueue) result(r incResult) (incIssued, incOutcome, error) {
	if len(q.out) == 0 {
		return incIssued{}, 0, fmt.Errorf("incremental snapshot: a result for chunk %d, but no chunk is outstanding", r.id)
	}
	c := q.out[0]
	if r.id != c.id {
		return c, 0, fmt.Errorf("incremental snapshot: a result for chunk %d, but chunk %d is the oldest outstanding", r.id, c.id)
	}
	q.out = slices.Delete(q.out, 0, 1)
	switch {
	case c.ignore && r.again == "":
		return c, 0, fmt.Errorf("incremental snapshot: chunk %d of %s was published though a chunk before it is read again", c.id, tableOf(c.start))
	case c.ignore:
		return c, incIgnored, nil
	case r.again == incStale:
		return c, 0, fmt.Errorf("incremental snapshot: chunk %d of %s was not published (%s), but it follows chunk %d, the last one published", c.id, tableOf(c.start), r.again, c.prev)
	case r.again != "":
		for i := range q.out {
			q.out[i].ignore = true
		}
		q.cur, q.prev = c.start, c.prev
		return c, incAgain, nil
	}
	return c, incPublished, nil
}
