package sink

import (
	"strings"
	"sync"
)

// knownTopics holds, by brokers and name, every topic a sink of this process
// found or created (Sink.partitions). Creating one of them again means it was
// deleted while walrelay ran: createTopic warns.
var knownTopics sync.Map

// topicKey names topic on cfg's brokers in knownTopics.
func topicKey(cfg *Config, topic string) string {
	return strings.Join(cfg.Brokers, ",") + "\x00" + topic
}

// noteTopic records that topic exists on cfg's brokers.
func noteTopic(cfg *Config, topic string) { knownTopics.Store(topicKey(cfg, topic), true) }

// topicKnown reports whether a sink of this process found or created topic
// on cfg's brokers before.
func topicKnown(cfg *Config, topic string) bool {
	_, ok := knownTopics.Load(topicKey(cfg, topic))
	return ok
}

// logCreated logs the creation of topic: at info level (debug when batched
// by Prepare, whose summary line counts them), or as a warning when
// the topic existed earlier in this process (deleted while walrelay ran; the
// pipeline halted on it and restarted from its checkpoint).
func (s *Sink) logCreated(topic string, batched bool) {
	if !topicKnown(&s.cfg, topic) {
		ev := s.log.Info()
		if batched { // Prepare's summary line counts them: thousands of tables made thousands of lines
			ev = s.log.Debug()
		}
		ev.Str("topic", topic).Int("partitions", s.cfg.TopicPartitions).
			Int("replication_factor", s.cfg.TopicReplicationFactor).Msg("kafka: created topic")
		return
	}
	s.log.Warn().Str("topic", topic).Int("partitions", s.cfg.TopicPartitions).
		Int("replication_factor", s.cfg.TopicReplicationFactor).
		Msgf("kafka: re-created topic %q, which was deleted while walrelay ran: the records it held from before walrelay's "+
			"checkpoint are gone, as walrelay re-sends only from its checkpoint on; consumers' offsets on it restart at the "+
			"beginning of the new topic (take a snapshot if they need every row). The new topic has kafka.topic_config, "+
			"not settings made by hand", topic)
}
