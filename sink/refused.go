package sink

import (
	"errors"
	"fmt"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/walrelay/walrelay/event"
)

// ErrTopicRefused is wrapped by the error of a record whose topic cannot
// exist (see TopicRefusedError): retrying or restarting cannot fix it.
var ErrTopicRefused = errors.New("kafka refuses the topic")

// TopicRefusedError says that a topic Send routes to cannot be created, for
// good: its name breaks Kafka's rules (longer than 249 characters, a
// character other than letters, digits, '.', '_' and '-'; known without
// asking the broker), it collides with an existing topic (Kafka treats '.'
// and '_' alike, so "a.b" and "a_b" cannot both exist), or the broker's
// create-topic policy refuses it. Transient failures (unreachable brokers,
// timeouts, a controller moving) never make one.
//
// In halt mode Send returns it (it wraps ErrTopicRefused); in dead_letter
// mode every record routed to the topic goes to the dead-letter topic with
// this error in its walrelay.error header and is acked.
type TopicRefusedError struct {
	Topic string
	// Err is why: the name check's error, or the broker's answer.
	Err error
	// Halt is set in halt mode: the message then also offers dead_letter.
	Halt bool
}

func (e *TopicRefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kafka: cannot create topic %q: %v; retrying cannot fix this. ", e.Topic, e.Err)
	b.WriteString(refusalFix(e.Err))
	if e.Halt {
		b.WriteString(" Or set kafka.on_failure: dead_letter to send the records of this topic to the dead-letter topic and go on.")
	}
	return b.String()
}

func (e *TopicRefusedError) Unwrap() []error { return []error{ErrTopicRefused, e.Err} }

// ErrDeadLetterRefused is wrapped by the error of a sink that halted
// because Kafka refuses its dead-letter topic for good (see
// DeadLetterRefusedError): restarting cannot fix it, so walrelay stops.
var ErrDeadLetterRefused = errors.New("kafka refuses the dead-letter topic")

// DeadLetterRefusedError says that a record could not go to the
// dead-letter topic (kafka.dead_letter_topic) because Kafka refuses that
// topic for good: a name Kafka's rules forbid, one that collides with an
// existing topic ('.' and '_' alike), or the broker's create-topic policy.
// It is the Err of the sink's *HaltError; the record and everything after
// it are unacked, so the checkpoint does not pass them.
type DeadLetterRefusedError struct {
	Refused *TopicRefusedError // the dead-letter topic's refusal
	Cause   error              // why the record went to the dead-letter topic
}

func (e *DeadLetterRefusedError) Error() string {
	return fmt.Sprintf("the record was rejected (%v), and dead-letter topic %q (kafka.dead_letter_topic) cannot be "+
		"created either: %v", e.Cause, e.Refused.Topic, e.Refused.Err)
}

func (e *DeadLetterRefusedError) Unwrap() []error { return []error{ErrDeadLetterRefused, e.Refused} }

// Fix says what to change: kafka.dead_letter_topic, and why.
func (e *DeadLetterRefusedError) Fix() string {
	const set = "set kafka.dead_letter_topic to "
	var why string
	switch err := e.Refused.Err; {
	case errors.Is(err, errNameTooLong):
		why = "Its name is too long: " + set + "a name of at most 249 characters"
	case errors.Is(err, errNameInvalid):
		why = "Its name breaks Kafka's rules: " + set + "a name of letters, digits, '.', '_' and '-'"
	case errors.Is(err, kafka.PolicyViolation):
		why = "The broker's create.topic.policy refused it: create the topic yourself, or " + set + "a topic it allows"
	case strings.Contains(err.Error(), "collides"):
		why = "Kafka treats '.' and '_' in topic names alike, and an existing topic's name differs from it only " +
			"there: " + set + "a name no topic shares that way"
	default:
		why = set + "a topic Kafka accepts"
	}
	return "Restarting cannot fix this, so walrelay stops. " + why + ", then start walrelay again: the checkpoint " +
		"has not passed this record, so it is written then."
}

// errNameTooLong and errNameInvalid are the reasons the name check gives.
var (
	errNameTooLong = errors.New("topic name is longer than Kafka's limit of 249 characters")
	errNameInvalid = errors.New("topic name is not a valid Kafka topic name")
)

// checkTopicName applies Kafka's naming rules to topic, so that a name the
// broker would refuse is known without a round trip.
func checkTopicName(topic string) error {
	err := validTopicName(topic)
	switch {
	case err == nil:
		return nil
	case len(topic) > 249:
		return fmt.Errorf("%w (%d)", errNameTooLong, len(topic))
	default:
		return fmt.Errorf("%w: %w", errNameInvalid, err)
	}
}

// CheckTopicName applies Kafka's naming rules to topic (at most 249
// characters of letters, digits, '.', '_' and '-'), as the sink does before
// creating a topic; `walrelay check` uses it.
func CheckTopicName(topic string) error { return checkTopicName(topic) }

// refusedCreate reports whether err, a CreateTopics answer for one topic,
// refuses that topic for good (not the request, not kafka.topic_config).
func refusedCreate(err error) bool {
	return errors.Is(err, kafka.InvalidTopic) || errors.Is(err, kafka.PolicyViolation)
}

// refusalFix tells the operator how to give the records a topic that can exist.
func refusalFix(err error) string {
	const route = "a rule with `topic:` for the table (or message prefix) whose records go there"
	switch {
	case errors.Is(err, errNameTooLong):
		return "Give it a shorter topic with " + route + ", or shorten topic_prefix."
	case errors.Is(err, errNameInvalid):
		return "Give it a topic of letters, digits, '.', '_' and '-' with " + route + "."
	case errors.Is(err, kafka.PolicyViolation):
		return "The broker's create.topic.policy refused it: create the topic yourself, or give it another topic with " + route + "."
	case strings.Contains(err.Error(), "collides"):
		return "Kafka treats '.' and '_' in topic names alike, so two tables whose names differ only there (a.b and a_b) " +
			"cannot both have the default topic: give one of them another topic with " + route + "."
	default:
		return "Give it a valid topic with " + route + ", or shorten topic_prefix."
	}
}

// refusedTopic registers the topic of refused (dead_letter mode) with one
// writer, which sends each record routed to the topic to the dead-letter
// topic in Send order, so later records of the topic need no round trip.
// The refresher never sees the topic. Send goroutine only.
func (s *Sink) refusedTopic(refused *TopicRefusedError) *writer {
	t := &topicState{name: refused.Topic, parts: []int{0}, refused: refused}
	t.growth.init(1)
	w := newWriter(s, t.name, -1) // walrelay.original.partition -1: the topic has no partitions
	w.growth = &t.growth
	w.refused = refused
	t.writers = []*writer{w}
	s.topics[t.name] = t
	s.log.Warn().Err(refused).Str("topic", t.name).Str("dead_letter_topic", s.cfg.DeadLetterTopic).
		Msg("kafka: Kafka refuses this topic; its records go to the dead-letter topic until walrelay restarts")
	s.start(w)
	return w
}

// deadLetterAll writes recs, routed to a topic Kafka refuses, to the
// dead-letter topic one by one, in order, with the refusal as the reason.
func (w *writer) deadLetterAll(recs []*event.Record) error {
	for _, rec := range recs {
		if err := w.deadLetter(rec, w.refused); err != nil {
			return err
		}
	}
	return nil
}
