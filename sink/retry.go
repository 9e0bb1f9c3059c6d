package sink

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/internal/waits"
)

// attempt is one request against the cluster.
type attempt func(ctx context.Context, cl *kafka.Client) error

// retry runs op until it succeeds, fails with an error that is not retriable,
// or has run Config.MaxAttempts times, sleeping a jittered exponential
// backoff between attempts (retryDelay: quick failures do not use the
// attempts up sooner than the backoff bounds add up to) and refreshing
// routing metadata before each retry.
// It logs one line per retry and one when a retried op recovers. It returns
// the last error and the number of attempts made; ctx's error if ctx ended.
// Rejected credentials and TLS failures come back at once as a
// *SecurityError (never retried).
//
// Each attempt runs holding one of the sink's request slots
// (Config.MaxInFlightRequests), taken before op starts its timeout and given
// back before the backoff; ctx bounds the wait for one. op must therefore
// not call retry or acquire the cluster itself (it would hold one slot while
// waiting for another).
//
// Called from partition writers and from Send; op must be idempotent from the
// caller's point of view (a retried produce may duplicate records, never
// reorder them, since the caller has nothing else in flight).
func (s *Sink) retry(ctx context.Context, log zerolog.Logger, op attempt) (int, error) {
	var start time.Time
	for n := 1; ; n++ {
		ref, err := s.cluster.acquire(ctx)
		if err != nil {
			return n - 1, err // ctx ended while waiting for a request slot
		}
		if n == 1 {
			start = time.Now()
		}
		err = asSecurityError(op(ctx, ref.client), &s.cfg)
		failed := err != nil && retriable(err)
		s.cluster.release(ref, failed)
		if err == nil {
			if n > 1 {
				log.Info().Int("attempts", n).Msg("kafka: recovered")
			}
			return n, nil
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if !failed || n >= s.cfg.MaxAttempts {
			return n, err
		}
		d := s.retryDelay(n, time.Since(start))
		s.stats.retries.Add(1)
		// One warning per outage and partition (the state change); the
		// following attempts are debug lines, then "recovered" or a halt.
		ev := log.Debug()
		if n == 1 {
			ev = log.Warn()
		}
		ev.Err(err).Int("attempt", n).Int("max_attempts", s.cfg.MaxAttempts).
			Float64("delay_seconds", logfield.Seconds(d)).Msg("kafka: request failed, retrying")
		if err := waits.Sleep(ctx, d); err != nil {
			return n, err
		}
	}
}

// retryDelay is the wait before retry n (1-based), elapsed after the first
// attempt started: the jittered backoff delay (0 to bound(n)), counted from
// the moment the bounds of the retries before n add up to when the failures
// came sooner. So retry n comes at a random time in the n-th window of the
// backoff, and quick failures (connections refused by a broker that
// crashed, whose partitions get new leaders only after the cluster's
// broker.session.timeout.ms, 9 s by default) do not use the attempts up:
// with the defaults the last of 10 attempts comes 16.3 to 21.3 s after the
// first, not anywhere from 0 to 21.3 s (more than one writer in four gave
// up within 9 s). The jitter stays, so writers failing together do not
// retry together.
func (s *Sink) retryDelay(n int, elapsed time.Duration) time.Duration {
	var before time.Duration // the bounds of retries 1 to n-1
	for i := 1; i < n; i++ {
		before += s.backoff.bound(i)
	}
	return max(0, before-elapsed) + s.backoff.delay(n)
}
