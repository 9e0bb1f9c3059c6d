package pipeline

import (
	"context"
	"testing"
	"time"
)

// TestDrainContext: the drain context outlives the stop by the drain time
// (a read cut short by the stop can be taken up again under it), then
// ends; cancel ends it at once.
func TestDrainContext(t *testing.T) {
	stop, signal := context.WithCancel(context.Background())
	drain, cancel := drainContext(stop, 200*time.Millisecond)
	defer cancel()
	signal()
	time.Sleep(50 * time.Millisecond)
	if drain.Err() != nil {
		t.Fatalf("drain context ended %v after the stop, want it to run on for the drain time", drain.Err())
	}
	select {
	case <-drain.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("drain context still running 2s after the stop, want it ended after 200ms")
	}

	idle, cancelIdle := drainContext(context.Background(), time.Hour)
	cancelIdle()
	if idle.Err() == nil {
		t.Fatal("cancel did not end the drain context")
	}
}
