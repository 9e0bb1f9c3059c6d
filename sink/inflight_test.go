package sink

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
)

// slotSink is a sink with only what retry needs, for brokers that are never
// dialled (the ops given to retry do not use the client).
func slotSink(t *testing.T, maxInFlight int) *Sink {
	t.Helper()
	cfg := Config{Brokers: []string{"127.0.0.1:1"}, MaxInFlightRequests: maxInFlight,
		BackoffMin: time.Millisecond, BackoffMax: time.Millisecond}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := &Sink{cfg: cfg, cluster: newCluster(&cfg, nil), backoff: backoff{min: cfg.BackoffMin, max: cfg.BackoffMax}}
	t.Cleanup(s.cluster.close)
	return s
}

func TestValidateMaxInFlightRequests(t *testing.T) {
	t.Parallel()
	c := Config{Brokers: []string{"127.0.0.1:9092"}}
	if err := c.Validate(); err != nil || c.MaxInFlightRequests != DefaultMaxInFlightRequests {
		t.Errorf("default: MaxInFlightRequests %d, err %v; want %d", c.MaxInFlightRequests, err, DefaultMaxInFlightRequests)
	}
	c = Config{Brokers: []string{"127.0.0.1:9092"}, MaxInFlightRequests: 1}
	if err := c.Validate(); err != nil || c.MaxInFlightRequests != 1 {
		t.Errorf("1 is kept: MaxInFlightRequests %d, err %v", c.MaxInFlightRequests, err)
	}
	c = Config{Brokers: []string{"127.0.0.1:9092"}, MaxInFlightRequests: -1}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "kafka.max_in_flight_requests") {
		t.Errorf("-1: error %v, want one naming kafka.max_in_flight_requests", err)
	}
}

// Many partitions retrying at once never have more requests in flight than
// the bound, and every one gets its turn.
func TestRetryBoundsRequestsInFlight(t *testing.T) {
	t.Parallel()
	const bound, writers = 3, 40
	s := slotSink(t, bound)
	var cur, peak atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.retry(context.Background(), zerolog.Nop(), func(context.Context, *kafka.Client) error {
				n := cur.Add(1)
				defer cur.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(5 * time.Millisecond)
				return nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("retry: %v", err)
		}
	}
	if p := peak.Load(); p > bound || p < 2 {
		t.Errorf("at most %d requests were in flight at once, want between 2 and the bound %d", p, bound)
	}
}

// A request waiting for its retry gives its slot back: another partition
// goes first, and neither waits for the other's slot (no deadlock with one
// slot).
func TestRetryFreesSlotDuringBackoff(t *testing.T) {
	t.Parallel()
	s := slotSink(t, 1)
	var order []string
	var mu sync.Mutex
	note := func(what string) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, what)
	}
	bQueued := make(chan struct{})
	bDone := make(chan error, 1)
	first := true
	_, err := s.retry(context.Background(), zerolog.Nop(), func(context.Context, *kafka.Client) error {
		if !first {
			note("a retried")
			return nil
		}
		first = false
		go func() {
			close(bQueued)
			_, err := s.retry(context.Background(), zerolog.Nop(), func(context.Context, *kafka.Client) error {
				note("b")
				return nil
			})
			bDone <- err
		}()
		<-bQueued
		time.Sleep(50 * time.Millisecond) // b is waiting for the slot
		return errStaleMetadata           // retriable
	})
	if err != nil {
		t.Fatalf("a: %v", err)
	}
	if err := <-bDone; err != nil {
		t.Fatalf("b: %v", err)
	}
	if strings.Join(order, ",") != "b,a retried" {
		t.Errorf("order %v, want b before a's retry (a's backoff frees its slot)", order)
	}
}

// The wait for a slot ends with ctx, without running the op.
func TestRetryWaitForSlotEndsWithContext(t *testing.T) {
	t.Parallel()
	s := slotSink(t, 1)
	ref, err := s.cluster.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.cluster.release(ref, false)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	ran := false
	n, err := s.retry(ctx, zerolog.Nop(), func(context.Context, *kafka.Client) error {
		ran = true
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) || n != 0 || ran {
		t.Errorf("retry = %d, %v (op ran: %t); want 0 attempts, context.DeadlineExceeded, op not run", n, err, ran)
	}
}
