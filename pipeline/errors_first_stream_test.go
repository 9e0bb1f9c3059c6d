package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/sink"
)

// TestBeforeFirstStreamSaysItExits (auditc6, auditc7): a Kafka halt during
// the initial snapshot ends the process with exit 1, so its error must say
// so instead of "walrelay restarts from its last checkpoint" (what it does
// once it has streamed), whatever wraps the halt; the halt stays in the
// chain, unchanged; other errors pass through.
func TestBeforeFirstStreamSaysItExits(t *testing.T) {
	halt := &sink.HaltError{Topic: "p.t", Err: errors.New("dial tcp: connection refused"), LastOffset: -1}
	if !strings.Contains(halt.Error(), "walrelay restarts from its last checkpoint") {
		t.Fatalf("the halt's own message %q no longer says it restarts: the test needs a new premise", halt.Error())
	}
	err := beforeFirstStream(fmt.Errorf("snapshot at 0/1: %w", halt))
	got := err.Error()
	if strings.Contains(got, "restarts from its last checkpoint") || !strings.Contains(got, "this walrelay exits") ||
		!strings.HasPrefix(got, "snapshot at 0/1: kafka: halted writing topic") {
		t.Errorf("error %q: want the halt's message saying this process exits, and no restart", got)
	}
	var h *sink.HaltError
	if !errors.As(err, &h) || h != halt || h.NoRestart {
		t.Error("the halt is not in the error's chain unchanged")
	}
	other := errors.New("role lacks REPLICATION")
	if beforeFirstStream(other) != other {
		t.Error("an error that is not a halt was changed")
	}
}
