package pipeline

import (
	"errors"
	"fmt"
	"testing"

	"github.com/walrelay/walrelay/sink"
)

// A sink halted by a dead-letter topic Kafka refuses for good ends Run
// (fatal) instead of restarting in a loop: kafka.dead_letter_topic must
// change first.
func TestDeadLetterRefusedIsFatal(t *testing.T) {
	refused := &sink.DeadLetterRefusedError{
		Refused: &sink.TopicRefusedError{Topic: "p.dlq", Err: errors.New("collides with existing topic: p_dlq")},
		Cause:   errors.New("rejected"),
	}
	halt := &sink.HaltError{Topic: "p.t", Err: refused}
	if !IsFatal(fmt.Errorf("session: %w", halt)) {
		t.Error("a refused dead-letter topic is retried")
	}
	if IsFatal(&sink.HaltError{Topic: "p.t", Err: errors.New("broker down")}) {
		t.Error("an ordinary halt is fatal")
	}
}
