package pipeline

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/snapshot"
)

func cursorAt(after string) *checkpoint.Catchup {
	return &checkpoint.Catchup{Tables: []string{"public.a"}, Current: "public.a", After: []string{after}}
}

// issue issues q's next chunk with next the cursor after it, checking the
// id and prev the queue gives it.
func issue(t *testing.T, q *incQueue, wantID, wantPrev uint64, next *checkpoint.Catchup) *checkpoint.Catchup {
	t.Helper()
	if !q.ready() {
		t.Fatalf("chunk %d: the queue is not ready (%d outstanding, cursor %+v)", wantID, len(q.out), q.cur)
	}
	id, prev, cur := q.nextChunk()
	if id != wantID || prev != wantPrev {
		t.Fatalf("next chunk: id %d prev %d, want %d and %d", id, prev, wantID, wantPrev)
	}
	q.issued(next)
	if len(q.out) > q.depth {
		t.Fatalf("%d chunks outstanding, depth %d", len(q.out), q.depth)
	}
	return cur
}

func expectResult(t *testing.T, q *incQueue, r incResult, want incOutcome) incIssued {
	t.Helper()
	c, got, err := q.result(r)
	if err != nil || got != want {
		t.Fatalf("result %+v: outcome %d, err %v; want outcome %d", r, got, err, want)
	}
	return c
}

// The runner issues up to depth chunks ahead; results come in order. A
// chunk read again sends the cursor back to where it started, and the
// chunk issued after it is ignored; the run ends only when no cursor is
// left and nothing is outstanding.
func TestIncQueue(t *testing.T) {
	t.Parallel()
	start := &checkpoint.Catchup{Tables: []string{"public.a"}}
	c1, c2 := cursorAt("10"), cursorAt("20")
	q := newIncQueue(start, 2)
	if got := issue(t, q, 1, 0, c1); got != start {
		t.Fatalf("chunk 1 reads from %+v, want the start", got)
	}
	if got := issue(t, q, 2, 1, c2); got != c1 {
		t.Fatalf("chunk 2 reads from %+v, want chunk 1's next", got)
	}
	if q.ready() || q.done() {
		t.Fatalf("two outstanding at depth 2: ready %v, done %v", q.ready(), q.done())
	}

	// Chunk 1 is read again: back to the start, chunk 2 ignored.
	expectResult(t, q, incResult{id: 1, again: "spoiled"}, incAgain)
	if got := issue(t, q, 3, 0, c1); got != start {
		t.Fatalf("the re-read of chunk 1 reads from %+v, want the start", got)
	}
	if q.ready() {
		t.Fatal("ready with chunks 2 and 3 outstanding")
	}
	expectResult(t, q, incResult{id: 2, again: incStale}, incIgnored)
	if got := issue(t, q, 4, 3, c2); got != c1 {
		t.Fatalf("chunk 4 reads from %+v, want chunk 3's next", got)
	}
	if c := expectResult(t, q, incResult{id: 3}, incPublished); c.start != start || c.next != c1 {
		t.Fatalf("published chunk 3: %+v", c)
	}

	// The last chunk (next nil) is issued; the run is not done until its
	// result and chunk 4's are back.
	issue(t, q, 5, 4, nil)
	if q.ready() || q.done() {
		t.Fatalf("no cursor left, two outstanding: ready %v, done %v", q.ready(), q.done())
	}
	expectResult(t, q, incResult{id: 4}, incPublished)
	if q.ready() || q.done() {
		t.Fatalf("no cursor left, one outstanding: ready %v, done %v", q.ready(), q.done())
	}
	expectResult(t, q, incResult{id: 5}, incPublished)
	if !q.done() || q.ready() {
		t.Fatalf("all published: ready %v, done %v", q.ready(), q.done())
	}
}

// A last chunk read again brings the cursor back; the chunk read after it
// in the next table is ignored.
func TestIncQueueAgainAtTheEnd(t *testing.T) {
	t.Parallel()
	c1 := cursorAt("10")
	q := newIncQueue(c1, 2)
	next := &checkpoint.Catchup{Tables: []string{"public.b"}}
	issue(t, q, 1, 0, next)
	issue(t, q, 2, 1, nil)
	expectResult(t, q, incResult{id: 1, again: "transaction 7 unseen"}, incAgain)
	if q.done() || !q.ready() {
		t.Fatalf("after a re-read with one outstanding: ready %v, done %v", q.ready(), q.done())
	}
	if _, prev, cur := q.nextChunk(); cur != c1 || prev != 0 {
		t.Fatalf("next chunk reads from %+v after %d, want chunk 1's start after 0", cur, prev)
	}
	issue(t, q, 3, 0, next)
	expectResult(t, q, incResult{id: 2, again: incStale}, incIgnored)
	expectResult(t, q, incResult{id: 3}, incPublished)
	issue(t, q, 4, 3, nil)
	expectResult(t, q, incResult{id: 4}, incPublished)
	if !q.done() {
		t.Fatal("not done after the last chunk was published")
	}
}

// Results that do not match the chunks issued are errors, not guesses.
func TestIncQueueMismatch(t *testing.T) {
	t.Parallel()
	for name, results := range map[string][]incResult{
		"none outstanding":      {{id: 1}, {id: 2}, {id: 3}},
		"out of order":          {{id: 2}},
		"stale, not ignored":    {{id: 1, again: incStale}},
		"ignored but published": {{id: 1, again: "spoiled"}, {id: 2}},
	} {
		q := newIncQueue(cursorAt("0"), 2)
		q.issued(cursorAt("1"))
		q.issued(cursorAt("2"))
		var err error
		for _, r := range results {
			if _, _, err = q.result(r); err != nil {
				break
			}
		}
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// lastPosition is a checkpoint.Store that keeps the last position saved.
type lastPosition struct {
	mu sync.Mutex
	p  checkpoint.Position
}

func (s *lastPosition) Load(context.Context) (checkpoint.Position, bool, error) {
	return checkpoint.Position{}, false, nil
}
func (s *lastPosition) Close() error { return nil }
func (s *lastPosition) Save(_ context.Context, p checkpoint.Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p = p
	return nil
}

// incHarness drives the publisher's half of an incremental catch-up of
// public.a through watermarks and commits, with a real tracker and
// committer.
type incHarness struct {
	t     *testing.T
	inc   *incremental
	p     *publisher
	tr    *checkpoint.Tracker
	cm    *checkpoint.Committer
	store *lastPosition
	lsn   event.LSN
	rel   *event.Relation
}

func newIncHarness(t *testing.T, start *checkpoint.Catchup) *incHarness {
	h := &incHarness{t: t, tr: checkpoint.NewTracker(100, 1<<20), store: &lastPosition{}, lsn: 1000,
		rel: &event.Relation{Schema: "public", Table: "a", Columns: []event.Column{{Name: "id"}}}}
	h.cm = checkpoint.NewCommitter(h.tr, h.store, "slot", time.Hour, zerolog.Nop())
	s := &session{committer: h.cm}
	h.inc = newIncremental(s, start)
	s.inc = h.inc
	h.cm.SetCatchup(start)
	h.p = &publisher{s: s}
	return h
}

// txn runs f in a transaction of its own and commits it; it returns the
// checkpoint's catch-up after it.
func (h *incHarness) txn(xid uint32, f func(txn *checkpoint.Txn, ch *event.Change)) *checkpoint.Catchup {
	h.t.Helper()
	h.lsn += 100
	txn := h.tr.Begin(h.lsn)
	f(txn, &event.Change{Tx: &event.Tx{Xid: xid, CommitLSN: h.lsn}, LSN: h.lsn})
	txn.Commit(h.lsn + 1)
	h.inc.committed(h.lsn + 1)
	if err := h.cm.Flush(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	if h.store.p.LSN != h.lsn+1 {
		h.t.Fatalf("checkpoint at %s, want %s", h.store.p.LSN, h.lsn+1)
	}
	return h.store.p.Catchup
}

// watermark handles a watermark of chunk id in its own transaction.
func (h *incHarness) watermark(id uint64, kind string) *checkpoint.Catchup {
	h.t.Helper()
	return h.txn(uint32(h.lsn), func(txn *checkpoint.Txn, ch *event.Change) {
		w := watermark{Session: h.inc.session, Chunk: id, Table: "public.a", Kind: kind}
		if err := h.p.watermark(context.Background(), txn, ch, w); err != nil {
			h.t.Fatalf("%s watermark of chunk %d: %v", kind, id, err)
		}
	})
}

// change passes a published change of public.a in transaction xid through
// observe and publishedChange.
func (h *incHarness) change(xid uint32, op event.Op) {
	h.txn(xid, func(_ *checkpoint.Txn, ch *event.Change) {
		ch.Op, ch.Relation, ch.After = op, h.rel, []any{int64(xid)}
		h.inc.observe(ch)
		h.inc.publishedChange(ch)
	})
}

// chunk runs chunk id (read from the cursor after chunk prev, in snapshot
// snap, with next the cursor after it) through its window, with the
// changes of public.a in the window, and returns its result and the
// checkpoint's catch-up after its high watermark.
func (h *incHarness) chunk(id, prev uint64, snap string, next *checkpoint.Catchup, window func()) (incResult, *checkpoint.Catchup) {
	h.t.Helper()
	h.watermark(id, watermarkLow)
	if window != nil {
		window()
	}
	xs, err := parseXidSnapshot(snap)
	if err != nil {
		h.t.Fatal(err)
	}
	c := &snapshot.Chunk{Plan: &snapshot.TablePlan{Relation: h.rel, ChunkKey: []string{"id"}}, KeyColumns: []int{0}}
	h.inc.handoff <- &incChunk{id: id, prev: prev, table: "public.a", chunk: c, snap: xs, next: next}
	cu := h.watermark(id, watermarkHigh)
	if h.inc.win != nil {
		h.t.Fatalf("chunk %d: the window is still open after its high watermark", id)
	}
	select {
	case r := <-h.inc.results:
		return r, cu
	default:
		h.t.Fatalf("chunk %d: no result after its high watermark committed", id)
		return incResult{}, nil
	}
}

// Chunk 2 was read after chunk 1, which is read again: it is stale, not
// published and its cursor not saved, but its window's transactions are
// kept for the next chunk's visibility check. Chunk 1 read again (3,
// after the start) is published, then chunk 4 after it; the last one ends
// the catch-up.
func TestIncrementalStaleChunk(t *testing.T) {
	t.Parallel()
	start := &checkpoint.Catchup{Tables: []string{"public.a"}}
	c1, c2 := cursorAt("10"), cursorAt("20")
	h := newIncHarness(t, start)

	r, cu := h.chunk(1, 0, "100:100:", c1, func() { h.change(150, event.OpTruncate) })
	if r.id != 1 || r.again == "" || r.again == incStale || !reflect.DeepEqual(cu, start) {
		t.Fatalf("chunk 1 with a truncate in its window: %+v, checkpoint %+v; want it read again, the start saved", r, cu)
	}
	r, cu = h.chunk(2, 1, "160:160:", c2, func() { h.change(155, event.OpUpdate) })
	if r != (incResult{id: 2, again: incStale}) || !reflect.DeepEqual(cu, start) {
		t.Fatalf("chunk 2 after chunk 1 read again: %+v, checkpoint %+v; want it stale, the start saved", r, cu)
	}
	if h.inc.published != 0 || h.inc.before[155] != "public.a" || h.inc.before[150] != "public.a" {
		t.Fatalf("after the stale chunk: published %d, before %v", h.inc.published, h.inc.before)
	}

	// Its snapshot does not see 155 from the stale chunk's window: read again.
	r, _ = h.chunk(3, 0, "152:152:", c1, nil)
	if r.id != 3 || !strings.Contains(r.again, "transaction 155") {
		t.Fatalf("a re-read that does not see 155: %+v, want it read again for 155", r)
	}
	r, cu = h.chunk(4, 0, "170:170:", c1, nil)
	if r != (incResult{id: 4}) || !reflect.DeepEqual(cu, c1) || h.inc.published != 4 {
		t.Fatalf("chunk 1 read again as 4: %+v, checkpoint %+v, published %d; want it published, c1 saved", r, cu, h.inc.published)
	}
	r, cu = h.chunk(5, 4, "180:180:", nil, nil)
	if r != (incResult{id: 5}) || cu != nil || len(h.inc.tables) != 0 {
		t.Fatalf("last chunk 5 after 4: %+v, checkpoint %+v, tables %v; want it published and the catch-up done", r, cu, h.inc.tables)
	}
}

// A stale last chunk does not end the catch-up: the tables stay watched.
func TestIncrementalStaleLastChunk(t *testing.T) {
	t.Parallel()
	start := &checkpoint.Catchup{Tables: []string{"public.a"}}
	h := newIncHarness(t, start)
	r, _ := h.chunk(1, 0, "100:100:", cursorAt("10"), func() { h.change(150, event.OpTruncate) })
	if r.again == "" {
		t.Fatal("chunk 1 with a truncate in its window was published")
	}
	r, cu := h.chunk(2, 1, "160:160:", nil, nil)
	if r.again != incStale || !reflect.DeepEqual(cu, start) || !h.inc.tables["public.a"] {
		t.Fatalf("stale last chunk: %+v, checkpoint %+v, tables %v; want the catch-up going on", r, cu, h.inc.tables)
	}
}
