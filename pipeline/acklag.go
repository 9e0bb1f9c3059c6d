package pipeline

import (
	"sync"
	"time"
)

// ackLag is the commit-to-Kafka time of the newest transaction Kafka
// acknowledged, and the longest since the last progress report: how far
// behind the database the topics are (Debezium's MilliSecondsBehindSource
// is the same idea). The tracker's OnAcked hook writes it, from the
// goroutine that acked; the reader's progress report takes it.
type ackLag struct {
	mu   sync.Mutex
	last time.Duration
	max  time.Duration // since the last take; 0 if none (lags are never negative)
	at   time.Time     // when last was measured; zero before the first
}

// set records a transaction acknowledged lag (>= 0) after its commit.
func (a *ackLag) set(lag time.Duration) {
	a.mu.Lock()
	a.last, a.at, a.max = lag, time.Now(), max(a.max, lag)
	a.mu.Unlock()
}

// take returns the newest lag, the longest in the window since the last
// take, and when the newest was measured (zero if never), and starts a new
// window. The window always holds the newest lag, acknowledged in it or
// before, so longest >= last: a window in which nothing was acknowledged
// reports the newest as its longest, never 0 (audit m11).
func (a *ackLag) take() (last, longest time.Duration, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	last, longest, at = a.last, max(a.max, a.last), a.at
	a.max = 0
	return last, longest, at
}

// acked is the tracker's OnAcked hook: a transaction committed at committed
// is now in Kafka. It runs under the tracker's lock, so it only records.
func (s *session) acked(committed time.Time) {
	lag := max(time.Since(committed), 0)
	s.ackLag.set(lag)
	s.lagHistograms().ackedAfter(lag)
}
