package sink

import "context"

// inflight bounds the requests the sink has in flight at once
// (Config.MaxInFlightRequests), and so its broker connections: kafka-go's
// Transport sends one request at a time on a connection and dials a new one
// whenever every connection to the broker is busy, so without a bound each
// partition written at once would hold a connection of its own (and a
// transaction touching thousands of tables would dial thousands at once).
//
// A slot covers one attempt: taken before the request's timeout starts and
// given back when the attempt returned, never held across a backoff, a wait
// for room or acks, or while taking another slot, so waiting for one cannot
// deadlock. Waiters are served in about the order they came (Go's channel
// send queue), so every partition gets its turn. Safe for concurrent use.
type inflight chan struct{}

// newInflight returns a bound of n (>= 1) requests.
func newInflight(n int) inflight { return make(inflight, n) }

// acquire takes a slot, waiting until one is free or ctx ends (then it
// returns ctx's error). The caller must release the slot.
func (f inflight) acquire(ctx context.Context) error {
	select {
	case f <- struct{}{}:
		return nil
	default:
	}
	select {
	case f <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives back a slot taken by acquire.
func (f inflight) release() { <-f }
