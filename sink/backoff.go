package sink

import (
	"math/rand/v2"
	"time"
)

// backoff computes retry delays: exponential from min, capped at max, with
// full jitter (a uniform delay between 0 and the exponential bound), so that
// writers failing together do not retry together.
type backoff struct {
	min, max time.Duration
}

// bound is the largest delay before retry number attempt (1-based):
// min·2^(attempt-1), capped at max.
func (b backoff) bound(attempt int) time.Duration {
	d := b.min
	for i := 1; i < attempt && d < b.max; i++ {
		if d > b.max/2 {
			return b.max
		}
		d *= 2
	}
	return min(d, b.max)
}

// delay returns a random delay in [0, bound(attempt)]. Safe for concurrent use.
func (b backoff) delay(attempt int) time.Duration {
	upper := b.bound(attempt)
	if upper <= 0 {
		return 0
	}
	return rand.N(upper + 1)
}
