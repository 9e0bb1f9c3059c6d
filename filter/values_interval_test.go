package filter

import (
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

// TestIntervalValues: interval values (event.Interval) are seen by where
// expressions and text uses as MicroDuration: a month is 30.4375 days.
func TestIntervalValues(t *testing.T) {
	t.Parallel()
	iv := event.Interval{Months: 1, Days: -1, Micros: int64(time.Hour / time.Microsecond)}
	const us = 2_629_800_000_000 - 86_400_000_000 + 3_600_000_000
	if got := exprValue(iv, "interval"); got != time.Duration(us)*time.Microsecond {
		t.Errorf("exprValue = %v, want %v", got, time.Duration(us)*time.Microsecond)
	}
	if got, ok := textOf(iv); !ok || got != "2547000000000" {
		t.Errorf("textOf = %q, %v, want 2547000000000", got, ok)
	}
	if got, _ := textOf([]any{iv, nil}); got != "{2547000000000,NULL}" {
		t.Errorf("textOf(array) = %q", got)
	}

	ivRel := rel("public.iv", "id:int8*", "iv:interval", "ivs:_interval")
	row := []any{int64(1), iv, []any{event.Interval{Micros: 1}, nil}}
	for where, want := range map[string]bool{
		"row.iv > duration('707h')":                          true,
		"row.iv < duration('708h')":                          true,
		"row.ivs[0] == duration('1us') && row.ivs[1] == nil": true,
	} {
		src := "rules:\n  - tables: [public.iv]\n    where: " + quoteYAML(where) + "\n"
		d := mustApply(t, mustParse(t, src, ""), ins(ivRel, row...))
		if got := d.Action == Keep; got != want {
			t.Errorf("where %q: captured %v, want %v", where, got, want)
		}
	}
}
