package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRealBrokerRefusedDeadLetterTopicStops: in dead_letter mode, a
// dead-letter topic that Kafka refuses for good (its name collides with an
// existing topic under the '.'/'_' rule) halts the sink with an error that
// says the record could not go there, names kafka.dead_letter_topic, why
// and the fix, and wraps ErrDeadLetterRefused, which the pipeline treats
// as fatal (not a restart loop). The record stays unacked.
func TestRealBrokerRefusedDeadLetterTopicStops(t *testing.T) {
	brokers := realBrokers(t)
	rt := newRefusedTopics(t, brokers)
	pre := startSink(t, realConfig(brokers))
	a := newAcks(1)
	if err := pre.Send(context.Background(), testRecord(rt.ab, 1, 0, a)); err != nil {
		t.Fatalf("Send to %s: %v", rt.ab, err)
	}
	a.wait(t, 30*time.Second)

	cfg := realConfig(brokers)
	cfg.OnFailure, cfg.DeadLetterTopic = OnFailureDeadLetter, rt.aUnderB // collides with rt.ab
	s := startSink(t, cfg)
	if err := s.Send(context.Background(), testRecord(rt.long, 1, 1, newAcks(1))); err != nil {
		t.Fatalf("Send to the refused topic in dead_letter mode: %v", err)
	}
	s.SendNow()
	var err error
	select {
	case err = <-s.Err():
	case <-time.After(30 * time.Second):
		t.Fatal("the sink did not halt")
	}
	if !errors.Is(err, ErrDeadLetterRefused) {
		t.Errorf("halt error %v does not wrap ErrDeadLetterRefused", err)
	}
	msg := err.Error()
	for _, want := range []string{fmt.Sprintf("%q (kafka.dead_letter_topic)", rt.aUnderB), "collides",
		"walrelay stops", "set kafka.dead_letter_topic to"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "writable") {
		t.Errorf("error %q says to make the refused dead-letter topic writable", msg)
	}
	if st := s.Stats(); st.DeadLettered != 0 {
		t.Errorf("stats %+v: nothing was dead-lettered", st)
	}
}
