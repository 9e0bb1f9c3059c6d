// Package logfield formats values for structured log fields the same way
// in every package.
package logfield

import "time"

// Seconds is d as a log field: a number of seconds to the millisecond, for a
// field whose name ends in _seconds (retry_in_seconds, took_seconds). It
// prints as 1.235, not as d.Round(time.Millisecond).Seconds() can
// (1.2349999999999999), nor in zerolog Dur's unnamed milliseconds.
func Seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond).Milliseconds()) / 1000
}
