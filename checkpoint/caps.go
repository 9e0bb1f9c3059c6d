package checkpoint

import "context"

// Acquire reserves room for one more event of size bytes, blocking while the
// events or bytes in flight are at their caps (invariant 5), until an ack
// releases room or ctx ends (then it returns ctx.Err() and reserves nothing).
// An event larger than maxBytes is admitted when nothing else is in flight, so
// it cannot deadlock.
//
// Called by the publisher goroutine before Track, typically with a short deadline
// so it can keep sending standby status updates while it waits. Each
// successful Acquire must be followed by Track or Release with the same size.
func (t *Tracker) Acquire(ctx context.Context, size int) error {
	return t.waitUntil(ctx, func() bool { return t.reserveLocked(size) })
}

// TryAcquire is Acquire without the wait: it reserves room and reports true,
// or reports false and reserves nothing when the caps are reached.
func (t *Tracker) TryAcquire(size int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reserveLocked(size)
}

// reserveLocked reserves room for an event of size bytes if it fits. Called
// with mu held.
func (t *Tracker) reserveLocked(size int) bool {
	if !t.fits(int64(size)) {
		return false
	}
	t.reserved++
	t.reservedBytes += int64(size)
	return true
}

// Release returns a reservation made by Acquire that will not be tracked
// (for example, the reader failed before it could call Track).
func (t *Tracker) Release(size int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reserved == 0 {
		return
	}
	t.reserved--
	t.reservedBytes -= int64(size)
	if t.reserved == 0 || t.reservedBytes < 0 {
		t.reservedBytes = 0
	}
	t.wake()
}

// Stats returns the events and bytes in flight (acquired and not yet acked)
// and the number of open transactions (begun and not yet done). Safe from any
// goroutine; for metrics and logs.
func (t *Tracker) Stats() (events int, bytes int64, openTxns int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.events + t.reserved, t.bytes + t.reservedBytes, t.open
}

// Drain waits until every tracked event has been acked, or ctx ends (then it
// returns ctx.Err()). Used on shutdown, after the reader stopped tracking, so
// the final checkpoint covers everything the sink delivered.
func (t *Tracker) Drain(ctx context.Context) error {
	return t.waitUntil(ctx, func() bool { return t.events == 0 })
}

// waitUntil calls done with mu held until it reports true (done may change
// the tracker then), waiting for an ack or release between calls; it returns
// ctx.Err() if ctx ends first.
func (t *Tracker) waitUntil(ctx context.Context, done func() bool) error {
	for {
		t.mu.Lock()
		if done() {
			t.mu.Unlock()
			return nil
		}
		wait := t.waitCh()
		t.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fits reports whether one more event of size bytes is admitted. Called with mu held.
func (t *Tracker) fits(size int64) bool {
	n := t.events + t.reserved
	if n == 0 {
		return true
	}
	return n < t.maxEvents && t.bytes+t.reservedBytes+size <= t.maxBytes
}

// waitCh returns the channel closed by the next wake. Called with mu held.
func (t *Tracker) waitCh() chan struct{} {
	if t.space == nil {
		t.space = make(chan struct{})
	}
	return t.space
}

// wake releases everyone waiting in Acquire or Drain. Called with mu held.
func (t *Tracker) wake() {
	if t.space != nil {
		close(t.space)
		t.space = nil
	}
}
