package config

import (
	"fmt"
	"strings"
)

// checkDeadLetterTopic applies Kafka's topic-name rules to
// kafka.dead_letter_topic, so that a name the broker would refuse stops
// `walrelay run` and `walrelay check` here, with the key's line or
// variable, rather than in the sink. Its default, <topic_prefix>.dlq, is
// valid once topic_prefix is (checkTopicPrefix runs first).
func (c *Config) checkDeadLetterTopic() *Error {
	t := c.Kafka.DeadLetterTopic
	const fix = "use at most 249 ASCII letters, digits, '.', '_' and '-'; leave it out for <topic_prefix>.dlq"
	if r, ok := badTopicRune(t); ok {
		return &Error{Key: "kafka.dead_letter_topic",
			Msg: fmt.Sprintf("%q is not a valid topic name: Kafka topic names cannot contain %q", t, r), Fix: fix}
	}
	switch {
	case t == "." || t == "..":
		return &Error{Key: "kafka.dead_letter_topic", Msg: fmt.Sprintf("%q is not a valid topic name", t), Fix: fix}
	case len(t) > 249:
		return &Error{Key: "kafka.dead_letter_topic",
			Msg: fmt.Sprintf("%d characters is too long a topic name: Kafka allows at most 249", len(t)), Fix: fix}
	}
	return nil
}

// badTopicRune returns the first character of name that a Kafka topic name
// cannot hold.
func badTopicRune(name string) (rune, bool) {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return r, true
		}
	}
	return 0, false
}

// quoteHint is the advice pgident's errors end with; postgres.tables'
// error gives it in its fix, once.
const quoteHint = " (double-quote a part that contains a dot"

// withoutQuoteHint cuts pgident's trailing advice from msg.
func withoutQuoteHint(msg string) string {
	if i := strings.LastIndex(msg, quoteHint); i > 0 {
		return msg[:i]
	}
	return msg
}
