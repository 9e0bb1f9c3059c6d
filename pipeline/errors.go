package pipeline

import (
	"errors"
	"math/rand/v2"
	"time"
)

// FatalError is an error that restarting cannot fix (configuration, a detected
// gap, a missing privilege): Run returns it instead of retrying.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

func fatal(err error) error {
	if err == nil {
		return nil
	}
	return &FatalError{Err: err}
}

// IsFatal reports whether err must not be retried.
func IsFatal(err error) bool {
	var f *FatalError
	return errors.As(err, &f)
}

// backoff returns the delay before restart attempt n (0-based): exponential
// from lo, capped at hi, with full jitter over the upper half.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo << min(n, 20)
	if d > hi || d <= 0 {
		d = hi
	}
	return d/2 + rand.N(d/2+1)
}
