package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/snapshot"
)

// The publisher's half of an incremental catch-up (incremental.go has the
// runner's). Between a chunk's low and high watermarks the publisher notes
// every row of the chunk's table that the stream changes; at the high
// watermark it publishes the chunk's rows that no such change touched, as
// read events of the high watermark's transaction. A row the stream changed
// in the window reached Kafka with its newest state already; every other
// row's state in the chunk is the state after every change before the low
// watermark, and its later changes come after the read. So each row's last
// event in Kafka is its current state, and no read ever follows a newer
// change of its key.
//
// That holds if the chunk's snapshot sees every transaction that committed
// before the low watermark. Commit order in the WAL and visibility can
// differ for a moment (a backend writes its commit record, then leaves the
// proc array), so the publisher also notes the transactions of the catch-up's
// tables before the window, and reads the chunk again when its snapshot did
// not see one of them (incWindow.spoiled).

// incChunk is a chunk the runner read, handed to the publisher before its
// high watermark is written.
type incChunk struct {
	id    uint64
	prev  uint64 // the chunk whose cursor it was read from (0: the catch-up's start); published only after it
	table string
	chunk *snapshot.Chunk // nil: the table is gone, nothing to publish
	snap  xidSnapshot
	next  *checkpoint.Catchup // the catch-up's cursor once this chunk is published
}

// incWindow is the open window of a chunk, between its watermarks.
type incWindow struct {
	id      uint64
	table   string
	rows    []windowRow // rows of the table the stream changed
	xids    []uint32
	spoiled string // why the chunk must be read again; "" if it need not
}

// windowRow is a row image of a change in the window.
type windowRow struct {
	rel  *event.Relation
	vals []any
}

// incCommit is what the high watermark's commit completes.
type incCommit struct {
	id    uint64
	next  *checkpoint.Catchup
	again string // why the chunk must be read again; "" once published
}

// observe notes a stream change of one of the catch-up's tables: its
// transaction, in the window of that table if it is open. Called by publish
// on the publisher goroutine for every change before routing; publishedChange
// notes the row images of the changes that were published.
func (inc *incremental) observe(ch *event.Change) {
	if ch.Relation == nil || ch.Tx == nil {
		return
	}
	name := inc.tableOfChange(ch.Relation)
	if name == "" {
		return
	}
	inc.rels[name] = ch.Relation
	w := inc.win
	if w == nil || w.table != name {
		inc.before[ch.Tx.Xid] = name
		return
	}
	if n := len(w.xids); n == 0 || w.xids[n-1] != ch.Tx.Xid {
		w.xids = append(w.xids, ch.Tx.Xid)
	}
	if ch.Op == event.OpTruncate {
		w.spoil("the table was truncated while the chunk was read")
	}
}

// publishedChange notes the row images of ch, a stream change that produced
// records, when the window of its table is open: the chunk's reads of those
// keys are left out, since the change carries a newer state. A change the
// rules dropped (or a catch-up held back) is not noted, so the read of its
// row is published (a consumer would otherwise have neither). Called by
// publish on the publisher goroutine after observe and route.
func (inc *incremental) publishedChange(ch *event.Change) {
	w := inc.win
	if w == nil || ch.Relation == nil || ch.Tx == nil || w.table != inc.tableOfChange(ch.Relation) {
		return
	}
	for _, row := range [][]any{ch.Before, ch.After} {
		if row != nil {
			w.rows = append(w.rows, windowRow{ch.Relation, row})
		}
	}
}

func (w *incWindow) spoil(why string) {
	if w.spoiled == "" {
		w.spoiled = why
	}
}

// watermark handles a watermark message of this session: a low one opens
// its chunk's window, a high one closes it and publishes the chunk into
// txn, the watermark's transaction, unless the chunk is stale: read from
// the cursor after a chunk that was not published (the runner reads that
// one again). Watermarks of other sessions are ignored. Called on the
// publisher goroutine; an error ends the session.
func (p *publisher) watermark(ctx context.Context, txn *checkpoint.Txn, ch *event.Change, w watermark) error {
	inc := p.s.inc
	if inc == nil || w.Session != inc.session {
		return nil
	}
	if w.Kind == watermarkLow {
		inc.win = &incWindow{id: w.Chunk, table: w.Table}
		return nil
	}
	var c *incChunk
	select {
	case c = <-inc.handoff:
	default:
	}
	win := inc.win
	inc.win = nil
	if c == nil || win == nil || c.id != w.Chunk || win.id != w.Chunk {
		return fmt.Errorf("incremental snapshot: high watermark of chunk %d of %s without its window or rows", w.Chunk, w.Table)
	}
	again, err := incStale, error(nil)
	if c.prev == inc.published {
		again, err = p.publishChunk(ctx, txn, ch, c, win)
	} else {
		p.s.log.Debug().Str("table", c.table).Uint64("chunk", c.id).Uint64("after_chunk", c.prev).
			Msg("incremental snapshot: a chunk read after one that is read again is dropped")
	}
	if again == "" && err == nil {
		inc.published = c.id
	}
	for _, x := range win.xids {
		inc.before[x] = win.table
	}
	inc.atCommit = &incCommit{id: c.id, next: c.next, again: again}
	return err
}

// publishChunk publishes c's rows that the window's changes did not touch,
// unless the chunk must be read again: then it returns why.
func (p *publisher) publishChunk(ctx context.Context, txn *checkpoint.Txn, hw *event.Change, c *incChunk, win *incWindow) (string, error) {
	inc := p.s.inc
	if c.chunk == nil {
		return "", nil // the table is gone: nothing to publish, the cursor moves on
	}
	why := win.spoiled
	if unseen := inc.unseenBefore(c); unseen != "" && why == "" {
		why = unseen
	}
	changed, ok := changedKeys(win.rows, c.chunk)
	if !ok && why == "" {
		why = "a change in the window lacks the chunk key's columns"
	}
	if why != "" {
		p.s.log.Debug().Str("table", c.table).Uint64("chunk", c.id).Str("reason", why).
			Msg("incremental snapshot: reading the chunk again")
		return why, nil
	}
	rel := inc.relation(c.table, c.chunk.Plan.Relation)
	ord, n, published := hw.Ordinal, uint32(0), uint64(0)
	for _, row := range c.chunk.Rows {
		if changed[keyString(row, c.chunk.KeyColumns)] {
			continue
		}
		ord, n = ord+1, n+1
		rc := &event.Change{Op: event.OpRead, Tx: hw.Tx, Ordinal: ord, CollectionOrder: n, LSN: hw.LSN,
			Relation: rel, After: row, Snapshot: "incremental"}
		recs, err := p.s.route(rc)
		if err != nil {
			return "", fmt.Errorf("encoding incremental snapshot row %s of %s: %w", rc.ID(), c.table, err)
		}
		if len(recs) > 0 {
			published++
		}
		// A snapshot read: counted per table (op r), not in walrelay_events_total.
		p.acks = p.readCounter.acks(rc, recs, p.acks)
		_, err = p.s.sendCounted(ctx, txn, recs, p.acks, p.acquire)
		clear(p.acks)
		if err != nil {
			return "", err
		}
	}
	inc.read.Add(uint64(n))
	inc.rows.Add(published)
	return "", nil
}

// unseenBefore checks the transactions of c's table noted before the
// window against c's snapshot: it returns why the chunk must be read again
// if the snapshot did not see one of them. Transactions it saw (of any
// table: later snapshots see them too) are forgotten.
func (inc *incremental) unseenBefore(c *incChunk) string {
	why := ""
	for xid, table := range inc.before {
		switch {
		case c.snap.sees(xid):
			delete(inc.before, xid)
		case table == c.table && why == "":
			why = fmt.Sprintf("transaction %d committed before the chunk's low watermark but its snapshot did not see it", xid)
		}
	}
	return why
}

// committed completes the high watermark's transaction that ended at end:
// the committer saves the catch-up's new cursor from end on if the chunk
// was published, and the runner gets the chunk's result. Called on the
// publisher goroutine at every commit.
func (inc *incremental) committed(end event.LSN) {
	c := inc.atCommit
	if c == nil {
		return
	}
	inc.atCommit = nil
	if c.again == "" {
		inc.s.committer.CatchupAt(end, c.next)
	}
	if c.again == "" && c.next == nil { // the last chunk: nothing to watch any more
		clear(inc.tables)
		clear(inc.before)
	}
	select {
	case inc.results <- incResult{id: c.id, again: c.again}:
	default:
		// Never: results has room for incDepth, and the runner has at
		// most incDepth chunks outstanding, each with one result.
		inc.s.log.Error().Uint64("chunk", c.id).Msg("incremental snapshot: the result of a chunk is lost; the catch-up stalls")
	}
}

// relation returns the relation to publish a chunk of table with: the
// stream's newest one when it has the same name (a renamed table's chunk is
// read under its new name) and describes the same columns (one Avro plan
// for both), else the chunk's own.
func (inc *incremental) relation(table string, chunkRel *event.Relation) *event.Relation {
	if r := inc.rels[table]; r != nil && r.QualifiedName() == chunkRel.QualifiedName() && sameColumns(r, chunkRel) {
		return r
	}
	return chunkRel
}

// sameColumns reports whether a and b have the same columns, key flags and
// key order.
func sameColumns(a, b *event.Relation) bool {
	if len(a.Columns) != len(b.Columns) || a.ReplicaIdentity != b.ReplicaIdentity {
		return false
	}
	for i := range a.Columns {
		if a.Columns[i] != b.Columns[i] {
			return false
		}
	}
	return slices.Equal(a.KeyColumns(), b.KeyColumns())
}

// changedKeys returns the chunk keys of rows (row images of the window),
// ok false if one lacks a key column (not in its relation, or absent from
// an old tuple).
func changedKeys(rows []windowRow, c *snapshot.Chunk) (map[string]bool, bool) {
	keys := make(map[string]bool, len(rows))
	names := c.Plan.ChunkKey
	for _, r := range rows {
		idx := make([]int, len(names))
		for i, name := range names {
			idx[i] = slices.IndexFunc(r.rel.Columns, func(c event.Column) bool { return c.Name == name })
			if idx[i] < 0 || idx[i] >= len(r.vals) {
				return nil, false
			}
			switch r.vals[idx[i]].(type) {
			case event.Absent, event.Unavailable:
				return nil, false
			}
		}
		keys[keyString(r.vals, idx)] = true
	}
	return keys, true
}

// keyString renders the values at idx of row as one comparable string.
// Stream and chunk rows are decoded by the same converters, so equal keys
// give equal strings.
func keyString(row []any, idx []int) string {
	var b strings.Builder
	for _, i := range idx {
		fmt.Fprintf(&b, "%T:%v\x00", row[i], row[i])
	}
	return b.String()
}
