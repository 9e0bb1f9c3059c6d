package sink

import (
	"testing"
	"time"
)

func TestBackoffBound(t *testing.T) {
	t.Parallel()
	b := backoff{min: 100 * time.Millisecond, max: 5 * time.Second}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000}
	for i, w := range want {
		if got := b.bound(i + 1); got != w*time.Millisecond {
			t.Errorf("bound(%d) = %s, want %s", i+1, got, w*time.Millisecond)
		}
	}
	if got := b.bound(1000); got != 5*time.Second {
		t.Errorf("bound(1000) = %s, want the cap", got)
	}
	huge := backoff{min: time.Second, max: time.Duration(1<<63 - 1)}
	if got := huge.bound(100); got <= 0 {
		t.Errorf("bound overflowed: %s", got)
	}
}

func TestBackoffDelayWithinBoundsAndJittered(t *testing.T) {
	t.Parallel()
	b := backoff{min: 10 * time.Millisecond, max: 300 * time.Millisecond}
	for attempt := 1; attempt <= 8; attempt++ {
		upper := b.bound(attempt)
		lo, hi := upper, time.Duration(0)
		for range 2000 {
			d := b.delay(attempt)
			if d < 0 || d > upper {
				t.Fatalf("delay(%d) = %s, outside [0, %s]", attempt, d, upper)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter: the samples spread over the whole range.
		if lo > upper/10 || hi < upper*9/10 {
			t.Errorf("delay(%d) samples span [%s, %s], want most of [0, %s]", attempt, lo, hi, upper)
		}
	}
}
