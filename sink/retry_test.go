package sink

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
)

// A broker that crashed refuses connections at once, and the cluster gives
// its partitions new leaders only after broker.session.timeout.ms (9 s by
// default). Quick failures must not use the attempts up before then: the
// last attempt comes no sooner than the backoff bounds before it add up to
// (with the jitter on top), so a leader that moves within that window is
// reached. Here bounds 10, 20, 40, 80 and 100 ms: the 6th attempt comes at
// least 150 ms after the first, the "leader" is back after 140 ms, and
// none of 20 writers failing together may give up. With the jitter alone
// (a uniform delay up to each bound, 125 ms in all on average) most did.
func TestRetryQuickFailuresLastAWindow(t *testing.T) {
	c := newFake(t)
	cfg := fastConfig(c.ListenAddrs())
	cfg.BackoffMin, cfg.BackoffMax, cfg.MaxAttempts = 10*time.Millisecond, 100*time.Millisecond, 6
	s := startSink(t, cfg)
	const writers, moved = 20, 140 * time.Millisecond
	start := time.Now()
	refused := fmt.Errorf("dial tcp 127.0.0.1:9: %w", syscall.ECONNREFUSED)
	var wg sync.WaitGroup
	errs := make([]error, writers)
	attempts := make([]int, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			attempts[i], errs[i] = s.retry(context.Background(), zerolog.Nop(), func(context.Context, *kafka.Client) error {
				if time.Since(start) < moved {
					return refused
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d gave up after %d attempts within %s: %v", i, attempts[i], moved, err)
		}
	}
}

// The window does not hold back a retry that the jitter already put late
// enough, nor the first retry: retry n waits at most bound(n) beyond the
// sum of the bounds before it.
func TestRetryDelayWithinWindow(t *testing.T) {
	s := &Sink{backoff: backoff{min: 100 * time.Millisecond, max: 5 * time.Second}}
	cum := time.Duration(0)
	for n := 1; n <= 9; n++ {
		for range 200 {
			d := s.retryDelay(n, 0)
			if d < cum || d > cum+s.backoff.bound(n) {
				t.Fatalf("retry %d right after the first attempt: delay %s, want within [%s, %s]", n, d, cum, cum+s.backoff.bound(n))
			}
			if d := s.retryDelay(n, cum+time.Hour); d > s.backoff.bound(n) {
				t.Fatalf("retry %d long after its window: delay %s, want at most %s", n, d, s.backoff.bound(n))
			}
		}
		cum += s.backoff.bound(n)
	}
	if cum != 21300*time.Millisecond {
		t.Errorf("the bounds of 9 retries add up to %s with the defaults, want 21.3s", cum)
	}
}
