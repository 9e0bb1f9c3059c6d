package waits

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSleep: Sleep returns nil after d, and ctx's error at once when ctx
// ends first.
func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a canceled ctx = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Sleep on a canceled ctx took %s", took)
	}
}
