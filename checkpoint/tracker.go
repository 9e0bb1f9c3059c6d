package checkpoint

import (
	"fmt"
	"sync"
	"time"

	"github.com/walrelay/walrelay/event"
)

// Tracker turns out-of-order event acknowledgements into an in-order
// watermark (DESIGN "Checkpoints and replay") and bounds the events in flight
// (invariant 5).
//
// Transactions form a doubly linked list in receive order. A transaction is
// done when it is committed and every event tracked for it has been acked.
// When a done transaction is the head of the list it is popped and the
// watermark advances to its end LSN; a done transaction that is not the head
// is unlinked and folds its end LSN into its predecessor, which reports it when
// it is done itself. Every operation is O(1). The list therefore never holds a
// done transaction, and its length is the number of open transactions.
//
// Begin, Acquire, Track, Commit, SetWatermark and AdvanceIdle are called by the
// single replication reader goroutine; acks, Watermark, Stats, Drain and
// Changed are safe from any goroutine. The Tracker starts no goroutines.
type Tracker struct {
	mu        sync.Mutex
	maxEvents int
	maxBytes  int64

	events        int   // tracked events not yet acked
	bytes         int64 // their bytes
	reserved      int   // acquired but not yet tracked (or released)
	reservedBytes int64 // their bytes

	head, tail *Txn
	open       int // transactions in the list: begun and not yet done

	watermark event.LSN
	received  event.LSN // newest end LSN seen (Commit or AdvanceIdle)

	// idleFloor and idleHeld keep AdvanceIdle from chasing the WAL of the
	// checkpoint store's own saves (tracker_idle.go).
	idleFloor event.LSN
	idleHeld  int

	space   chan struct{} // closed and cleared when room is released; nil while no one waits
	changed chan struct{} // capacity 1: coalesced "watermark moved" signal

	onAcked func(committed time.Time) // see OnAcked; nil: nothing measured
}

// NewTracker returns a Tracker that admits at most maxEvents events and
// maxBytes bytes in flight (acquired and not yet acked). Both caps must be
// positive; config validation rejects other values before this is called, so a
// non-positive cap is a programming error and panics.
func NewTracker(maxEvents int, maxBytes int64) *Tracker {
	if maxEvents <= 0 || maxBytes <= 0 {
		panic(fmt.Sprintf("checkpoint: NewTracker caps must be positive, got maxEvents=%d maxBytes=%d", maxEvents, maxBytes))
	}
	return &Tracker{maxEvents: maxEvents, maxBytes: maxBytes, changed: make(chan struct{}, 1)}
}

// Txn is one transaction registered with Begin. Its methods are called by the
// reader goroutine that called Begin; the acks returned by Track may be called
// from any goroutine.
type Txn struct {
	t          *Tracker
	prev, next *Txn
	commit     event.LSN // the transaction's CommitLSN, for diagnostics only
	end        event.LSN // own end once committed, raised by folded successors
	pending    int       // tracked events not yet acked
	committed  bool
	tracked    bool      // an event was tracked
	commitTime time.Time // when PostgreSQL committed it (SetCommitTime); zero if unknown
}

// SetCommitTime records when PostgreSQL committed the transaction, for
// OnAcked. Called by the reader goroutine before Commit.
func (x *Txn) SetCommitTime(at time.Time) { x.commitTime = at }

// OnAcked sets f, which the Tracker calls for each transaction with a
// commit time and at least one tracked event once Kafka acknowledged its
// last event (the transaction's commit-to-Kafka latency ends then). It is
// called with the Tracker's lock held, from whichever goroutine acked or
// committed last: f must be quick and must not call the Tracker. Call
// OnAcked before the first Begin.
func (t *Tracker) OnAcked(f func(committed time.Time)) { t.onAcked = f }

// CommitLSN returns the commit LSN given to Begin.
func (x *Txn) CommitLSN() event.LSN { return x.commit }

// SetWatermark sets the starting position (the stored checkpoint, or the
// slot's position when nothing is stored). Call it before the first Begin; it
// does not signal Changed.
func (t *Tracker) SetWatermark(lsn event.LSN) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watermark = lsn
	t.received = max(t.received, lsn)
}

// Watermark returns the end LSN of the newest done transaction whose
// predecessors are all done, or the value set by SetWatermark or AdvanceIdle
// if that is newer. It never decreases after SetWatermark.
func (t *Tracker) Watermark() event.LSN {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.watermark
}

// Received returns the newest end LSN the Tracker has been told about (by
// Commit, AdvanceIdle or SetWatermark), acked or not. Received minus the
// persisted position is the checkpoint lag in WAL bytes.
func (t *Tracker) Received() event.LSN {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.received
}

// Changed returns a channel that receives a value after the watermark moves.
// Signals are coalesced (capacity 1) and never block the Tracker, so a reader
// must re-read Watermark after each signal rather than count signals.
func (t *Tracker) Changed() <-chan struct{} { return t.changed }

// Begin registers a transaction at the tail of the receive order. Called by
// the reader goroutine on pgoutput's Begin message, before any event of the
// transaction is tracked.
func (t *Tracker) Begin(commitLSN event.LSN) *Txn {
	x := &Txn{t: t, commit: commitLSN}
	t.mu.Lock()
	defer t.mu.Unlock()
	x.prev = t.tail
	if t.tail != nil {
		t.tail.next = x
	} else {
		t.head = x
	}
	t.tail = x
	t.open++
	return x
}

// Track attaches one event of size bytes to the transaction, consuming one
// reservation made by Acquire with the same size, and returns its ack. The
// ack must be called once, from any goroutine, after the event is durable in
// Kafka (or was filtered out); it resolves the event and releases its share of
// the caps. Further calls of the same ack do nothing.
//
// Tracking an event after Commit would let the watermark pass an unacked
// event, so it panics.
func (x *Txn) Track(size int) (ack func()) { return x.TrackCounted(size, nil) }

// AckCounter counts acknowledged events (TrackCounted). Acked is called
// once per event, with the Tracker's lock held: it must be quick (an atomic
// add) and must not call the Tracker.
type AckCounter interface{ Acked() }

// TrackCounted is Track, whose ack also tells c (nil: no one) that the
// event was acknowledged, on its first call only. It costs no allocation
// more than Track.
func (x *Txn) TrackCounted(size int, c AckCounter) (ack func()) {
	t := x.t
	t.mu.Lock()
	if x.committed {
		t.mu.Unlock()
		panic(fmt.Sprintf("checkpoint: Track after Commit of transaction with commit LSN %s", x.commit))
	}
	if t.reserved > 0 {
		t.reserved--
		t.reservedBytes -= int64(size)
		if t.reserved == 0 || t.reservedBytes < 0 {
			t.reservedBytes = 0
		}
	}
	t.events++
	t.bytes += int64(size)
	x.pending++
	x.tracked = true
	t.mu.Unlock()
	a := &eventAck{txn: x, size: int64(size), counter: c}
	return a.ack
}

// Commit records that no more events will be tracked for the transaction and
// sets its end LSN, which must be pgoutput's TransactionEndLSN (invariant 2),
// not the commit LSN. A transaction whose events are all acked (or that has
// none) is done at once. Committing twice panics.
func (x *Txn) Commit(end event.LSN) {
	t := x.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if x.committed {
		panic(fmt.Sprintf("checkpoint: Commit called twice for transaction with commit LSN %s", x.commit))
	}
	x.committed = true
	x.end = max(x.end, end)
	t.received = max(t.received, end)
	if x.pending == 0 {
		t.finish(x)
	}
}

// AdvanceIdle moves the watermark to lsn (a keepalive's ServerWALEnd) when
// nothing is in flight, no transaction is open and lsn is ahead of the
// watermark (DESIGN "Idle databases"), unless lsn is WAL the checkpoint
// store wrote itself (HoldIdle, ReleaseIdle). It reports whether it moved.
func (t *Tracker) AdvanceIdle(lsn event.LSN) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.events != 0 || t.reserved != 0 || t.head != nil || lsn <= t.watermark {
		return false
	}
	if t.idleHeld > 0 || lsn <= t.idleFloor {
		return false
	}
	return t.advanceIdle(lsn)
}

// AdvanceIdleAny is AdvanceIdle that follows lsn onto the checkpoint
// store's own WAL too: for a keepalive at which a catch-up cursor was
// recorded (Committer.CatchupAt) that the session saves before it
// restarts to take it.
func (t *Tracker) AdvanceIdleAny(lsn event.LSN) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.events != 0 || t.reserved != 0 || t.head != nil || lsn <= t.watermark {
		return false
	}
	return t.advanceIdle(lsn)
}

// advanceIdle is the move of AdvanceIdle. Called with mu held.
func (t *Tracker) advanceIdle(lsn event.LSN) bool {
	t.received = max(t.received, lsn)
	t.advance(lsn)
	return true
}

// eventAck is the state behind one ack returned by Track.
type eventAck struct {
	txn     *Txn
	size    int64      // -1 once acked (guarded by the Tracker's mutex; no flag, to keep eventAck at 32 bytes)
	counter AckCounter // told of the ack; nil: no one
}

func (a *eventAck) ack() {
	x := a.txn
	t := x.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if a.size < 0 {
		return
	}
	size := a.size
	a.size = -1
	if a.counter != nil {
		a.counter.Acked()
	}
	t.events--
	t.bytes -= size
	x.pending--
	if x.pending == 0 && x.committed {
		t.finish(x)
	}
	t.wake()
}

// finish handles a transaction that just became done: the head advances the
// watermark; any other folds its end into its predecessor. Called with mu held.
func (t *Tracker) finish(x *Txn) {
	if t.onAcked != nil && x.tracked && !x.commitTime.IsZero() {
		t.onAcked(x.commitTime)
	}
	p := x.prev
	t.unlink(x)
	if p == nil {
		t.advance(x.end)
		return
	}
	p.end = max(p.end, x.end)
}

func (t *Tracker) unlink(x *Txn) {
	if x.prev != nil {
		x.prev.next = x.next
	} else {
		t.head = x.next
	}
	if x.next != nil {
		x.next.prev = x.prev
	} else {
		t.tail = x.prev
	}
	x.prev, x.next = nil, nil
	t.open--
}

// advance raises the watermark and signals Changed. Called with mu held.
func (t *Tracker) advance(lsn event.LSN) {
	if lsn <= t.watermark {
		return
	}
	t.watermark = lsn
	select {
	case t.changed <- struct{}{}:
	default:
	}
}
