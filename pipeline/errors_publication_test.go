package pipeline

import (
	"fmt"
	"testing"

	"github.com/walrelay/walrelay/replication"
)

// TestIsFatalPublicationDropped: a stream the server ended because the
// publication was dropped by hand is not retried (every restart fails the
// same way from the same checkpoint): Run returns it and the process
// exits 1 with its way past the gap.
func TestIsFatalPublicationDropped(t *testing.T) {
	err := fmt.Errorf("postgres: replication stream: %w", &replication.PublicationDroppedError{Publication: "p", Slot: "s"})
	if !IsFatal(err) {
		t.Errorf("IsFatal(%v) = false, want true", err)
	}
}
