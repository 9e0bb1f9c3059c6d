package filter

import (
	"math"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

// TestFarTimestampValues: a timestamp past the int64-µs range (PostgreSQL's
// last one, 294276-12-31 23:59:59.999999, which the decoder carries as
// event.FarTimestamp milliseconds) is its real date in where expressions
// and text uses, not the clamped 294247-01-10 04:00:54.775807.
func TestFarTimestampValues(t *testing.T) {
	t.Parallel()
	far := event.FarTimestamp(9224318015999999)
	want := time.Date(294276, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
	if got := exprValue(far, "timestamp"); got != want {
		t.Errorf("exprValue = %v, want %v", got, want)
	}
	if got, ok := textOf(far); !ok || got != "294276-12-31T23:59:59.999" {
		t.Errorf("textOf = %q, %v, want 294276-12-31T23:59:59.999", got, ok)
	}
	clamp := exprValue(event.MicroTimestamp(math.MaxInt64), "timestamp").(time.Time)
	if !want.After(clamp) {
		t.Errorf("far timestamp %v not after the clamped µs %v", want, clamp)
	}
}
