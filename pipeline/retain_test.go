package pipeline

import (
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

func TestRetainerNoWindowConfirmsPersisted(t *testing.T) {
	t.Parallel()
	r := retainer{floor: 100}
	now := time.Now()
	if got := r.confirm(now, 50); got != 100 {
		t.Errorf("below floor: got %d, want 100", got)
	}
	if got := r.confirm(now, 200); got != 200 {
		t.Errorf("got %d, want 200", got)
	}
}

func TestRetainerHoldsWindow(t *testing.T) {
	t.Parallel()
	r := retainer{window: 10 * time.Second, floor: 100}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at        time.Duration
		persisted event.LSN
		want      event.LSN
	}{
		{0, 200, 100},               // nothing is 10 s old yet
		{5 * time.Second, 300, 100}, // still nothing
		{10 * time.Second, 400, 200},
		{14 * time.Second, 400, 200},
		{15 * time.Second, 500, 300},
		{60 * time.Second, 500, 500}, // everything is old enough now
		{61 * time.Second, 600, 500},
	}
	for _, s := range steps {
		if got := r.confirm(t0.Add(s.at), s.persisted); got != s.want {
			t.Fatalf("at %v persisted %d: confirm %d, want %d", s.at, s.persisted, got, s.want)
		}
		if got := r.floor; got > s.persisted {
			t.Fatalf("confirmed %d beyond persisted %d", got, s.persisted)
		}
	}
	if len(r.samples) > 3 {
		t.Errorf("samples not trimmed: %d", len(r.samples))
	}
}
