package pipeline

import (
	"errors"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/sink"
)

// TestBeforeFirstStreamSaysItExits (auditc6): a Kafka halt during the
// initial snapshot ends the process with exit 1, so its error must not
// only say "walrelay restarts from its last checkpoint" (what it does once
// it has streamed); other errors pass through unchanged.
func TestBeforeFirstStreamSaysItExits(t *testing.T) {
	halt := &sink.HaltError{Topic: "p.t", Err: errors.New("dial tcp: connection refused")}
	got := beforeFirstStream(halt).Error()
	if !strings.Contains(got, "this process exits instead of restarting") || !strings.HasPrefix(got, halt.Error()) {
		t.Errorf("error %q: want the halt's message, then that this process exits", got)
	}
	var h *sink.HaltError
	if !errors.As(beforeFirstStream(halt), &h) {
		t.Error("the halt is no longer in the error's chain")
	}
	other := errors.New("role lacks REPLICATION")
	if beforeFirstStream(other) != other {
		t.Error("an error that is not a halt was changed")
	}
}
