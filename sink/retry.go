package sink

import (
	"context"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/internal/waits"
)

// attempt is one request against the cluster.
type attempt func(ctx context.Context, cl *kafka.Client) error

// retry runs op until it succeeds, fails with an error that is not retriable,
// or has run Config.MaxAttempts times, sleeping a jittered exponential
// backoff between attempts and refreshing routing metadata before each retry.
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
	for n := 1; ; n++ {
		ref, err := s.cluster.acquire(ctx)
		if err != nil {
			return n - 1, err // ctx ended while waiting for a request slot
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
		d := s.backoff.delay(n)
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
