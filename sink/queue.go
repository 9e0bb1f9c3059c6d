package sink

import (
	"sync"
	"sync/atomic"

	"github.com/walrelay/walrelay/event"
)

// queueKeep is the capacity (records) a writer's queue keeps while its
// writer waits for records; more is released then. A channel of two batches
// (4,000 pointers, 32 KB by default) held by every partition ever written was
// half of walrelay's live heap with hundreds of tables.
const queueKeep = 64

// recordQueue carries a partition's records from Send to its writer, in Send
// order. It holds at most max records (two batches): Send waits for room
// beyond that (back-pressure). Its storage, a ring, grows with what it holds
// and is released when the writer finds it empty and waits, so an idle
// partition costs a few hundred bytes instead of max pointers. One goroutine
// pushes (Send's), one pops (the writer's).
type recordQueue struct {
	mu     sync.Mutex
	buf    []*event.Record // ring; len(buf) is its capacity
	head   int             // index of the oldest record
	n      int             // records held
	held   atomic.Int64    // n, for len without the lock
	max    int
	closed bool
	idle   bool // the writer waits in wait for a record
	full   bool // Send waits in push for room

	nonEmpty chan struct{} // capacity 1: wakes the writer waiting in wait
	room     chan struct{} // capacity 1: wakes the Send waiting for room
}

func newRecordQueue(max int) *recordQueue {
	return &recordQueue{max: max, nonEmpty: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

// tryPush appends rec unless the queue holds max records (then it returns
// false and the caller waits on q.room before trying again). It must not be
// called after close.
func (q *recordQueue) tryPush(rec *event.Record) bool {
	q.mu.Lock()
	if q.n >= q.max {
		q.full = true
		q.mu.Unlock()
		return false
	}
	if q.n == len(q.buf) {
		q.grow()
	}
	i := q.head + q.n
	if i >= len(q.buf) {
		i -= len(q.buf)
	}
	q.buf[i] = rec
	q.n++
	q.held.Store(int64(q.n))
	wake := q.idle
	q.idle = false
	q.mu.Unlock()
	if wake {
		poke(q.nonEmpty)
	}
	return true
}

// grow doubles the ring (from 8, up to max), keeping the records in order.
func (q *recordQueue) grow() {
	size := min(max(2*len(q.buf), 8), q.max)
	buf := make([]*event.Record, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

// pop takes the oldest record, nil if there is none; closed is true once
// the queue is closed and empty.
func (q *recordQueue) pop() (rec *event.Record, closed bool) {
	q.mu.Lock()
	if q.n == 0 {
		closed = q.closed
		q.mu.Unlock()
		return nil, closed
	}
	rec = q.take()
	wake := q.full
	q.full = false
	q.mu.Unlock()
	if wake {
		poke(q.room)
	}
	return rec, false
}

// take removes the oldest record; q.mu is held and q.n > 0.
func (q *recordQueue) take() *event.Record {
	rec := q.buf[q.head]
	q.buf[q.head] = nil
	if q.head++; q.head == len(q.buf) {
		q.head = 0
	}
	q.n--
	q.held.Store(int64(q.n))
	return rec
}

// drain hands the held records, oldest first, to w.accept until it returns
// false (it took that record too) or none is left, under one lock: a
// writer filling a batch takes the queue's records at once, not one lock
// each. closed is true once the queue is closed and empty.
func (q *recordQueue) drain(w *writer) (closed bool) {
	q.mu.Lock()
	taken := q.n > 0
	for q.n > 0 {
		if !w.accept(q.take()) {
			break
		}
	}
	closed = q.n == 0 && q.closed
	wake := taken && q.full
	if wake {
		q.full = false
	}
	q.mu.Unlock()
	if wake {
		poke(q.room)
	}
	return closed
}

// wait returns once the queue holds a record or is closed (true), or when
// done is closed (false). An empty queue releases its storage beyond
// queueKeep first: a partition that receives nothing more holds none.
func (q *recordQueue) wait(done <-chan struct{}) bool {
	q.mu.Lock()
	if q.n > 0 || q.closed {
		q.mu.Unlock()
		return true
	}
	if len(q.buf) > queueKeep {
		q.buf, q.head = nil, 0
	}
	q.idle = true
	q.mu.Unlock()
	select {
	case <-q.nonEmpty:
		return true
	case <-done:
		return false
	}
}

// len returns the number of records held.
func (q *recordQueue) len() int { return int(q.held.Load()) }

// close marks the end of the records: the writer takes what is held, then
// pop reports closed. Sends must have stopped.
func (q *recordQueue) close() {
	q.mu.Lock()
	q.closed = true
	wake := q.idle
	q.idle = false
	q.mu.Unlock()
	if wake {
		poke(q.nonEmpty)
	}
}

// poke leaves a wake-up in c (capacity 1) unless one is there already.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
