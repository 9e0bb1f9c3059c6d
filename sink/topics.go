package sink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/segmentio/kafka-go"
)

// partitionCounts holds the partition count of every topic the sink has
// written to: the topics Send routes to and the dead-letter topic. A count is
// read when the sink first writes to the topic, and re-read every
// Config.MetadataMaxAge by the refresher (refresh.go), which never lowers
// one. A larger count of a topic Send routes to takes effect only when Send
// switches the topic (regrow): after every record sent to it before was
// acknowledged, so records of one key never overtake each other across the
// switch. A larger count of the dead-letter topic takes effect at once: each
// dead-letter write is acknowledged before its writer goes on.
type partitionCounts struct {
	mu     sync.Mutex
	n      map[string]int         // by topic, the count in use
	routed map[string]*topicState // the topics Send routes to; only growth.latest is the refresher's
}

// route registers t, a topic Send routes to, with the refresher.
func (c *partitionCounts) route(t *topicState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.routed[t.name] = t
	c.n[t.name] = len(t.parts)
}

// set records n as the count in use of topic.
func (c *partitionCounts) set(topic string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[topic] = n
}

// partitions returns the partition count of topic, creating the topic with
// Config.TopicPartitions and Config.TopicReplicationFactor if it does not
// exist. Retriable failures are retried like produce requests. A topic that
// cannot exist (a name Kafka's rules forbid, checked before any request, or
// a creation the broker refuses for good) fails at once with a
// *TopicRefusedError. Creating a topic that existed earlier in this process
// logs a warning (logCreated). Safe for concurrent use (the pipeline's Send and the
// writers' dead-letter path).
func (s *Sink) partitions(ctx context.Context, topic string) (int, error) {
	s.counts.mu.Lock()
	n, ok := s.counts.n[topic]
	s.counts.mu.Unlock()
	if ok {
		return n, nil
	}
	if err := checkTopicName(topic); err != nil {
		return 0, &TopicRefusedError{Topic: topic, Err: err, Halt: s.cfg.OnFailure == OnFailureHalt}
	}
	log := s.log.With().Str("topic", topic).Logger()
	created := false
	_, err := s.retry(ctx, log, func(ctx context.Context, cl *kafka.Client) error {
		var err error
		n, err = s.describe(ctx, cl, topic)
		if errors.Is(err, kafka.UnknownTopicOrPartition) && !created {
			if err = s.createTopic(ctx, cl, topic); err != nil {
				return err
			}
			created = true
			n, err = s.describe(ctx, cl, topic)
		}
		if errors.Is(err, kafka.UnknownTopicOrPartition) {
			// Created, or created by someone else, but not yet in the
			// client's cached metadata: a refresh and a retry find it.
			return fmt.Errorf("%w: %w", errStaleMetadata, err)
		}
		return err
	})
	var refused *TopicRefusedError
	if errors.As(err, &refused) {
		refused.Halt = s.cfg.OnFailure == OnFailureHalt
		return 0, refused
	}
	if err != nil {
		return 0, topicError(topic, err)
	}
	s.counts.mu.Lock()
	s.counts.n[topic] = n
	s.counts.mu.Unlock()
	noteTopic(&s.cfg, topic)
	return n, nil
}

// describe returns the partition count of topic from cl's metadata.
func (s *Sink) describe(ctx context.Context, cl *kafka.Client, topic string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, err
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if errors.Is(t.Error, kafka.TopicAuthorizationFailed) {
			return 0, fmt.Errorf("not authorised to describe it (%w); grant DESCRIBE and WRITE on it to walrelay's principal", t.Error)
		}
		if t.Error != nil {
			return 0, t.Error
		}
		if len(t.Partitions) == 0 {
			return 0, fmt.Errorf("%w: topic has no partitions yet", errStaleMetadata)
		}
		return len(t.Partitions), nil
	}
	return 0, kafka.UnknownTopicOrPartition
}

// ErrTopicConfig is wrapped by Send's error when the broker refused to
// create a topic with Config.TopicConfig: a restart cannot fix that.
var ErrTopicConfig = errors.New("the broker refused the topic configuration")

// createTopic creates topic; TOPIC_ALREADY_EXISTS is success. A refusal
// for good (refusedCreate) is a *TopicRefusedError.
func (s *Sink) createTopic(ctx context.Context, cl *kafka.Client, topic string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	res, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic:             topic,
		NumPartitions:     s.cfg.TopicPartitions,
		ReplicationFactor: s.cfg.TopicReplicationFactor,
		ConfigEntries:     s.topicConfigEntries(),
	}}})
	if err != nil {
		return err
	}
	return s.createResult(topic, res.Errors[topic], false)
}

// createResult is createTopic's outcome for topic from the broker's answer
// err: nil once it exists (logged when it was created now), a
// *TopicRefusedError for a refusal for good (refusedCreate), else an error
// that says what to do. Shared with Prepare's batched creation.
func (s *Sink) createResult(topic string, err error, batched bool) error {
	switch {
	case err == nil:
		s.logCreated(topic, batched)
		return nil
	case errors.Is(err, kafka.TopicAlreadyExists):
		return nil
	case refusedCreate(err):
		return &TopicRefusedError{Topic: topic, Err: err}
	case errors.Is(err, kafka.TopicAuthorizationFailed), errors.Is(err, kafka.ClusterAuthorizationFailed):
		return fmt.Errorf("not authorised to create it (%w); create it yourself with %d partitions, or grant CREATE to walrelay's principal",
			err, s.cfg.TopicPartitions)
	case errors.Is(err, kafka.InvalidConfiguration):
		return fmt.Errorf("%w %v (%w); fix kafka.topic_config", ErrTopicConfig, s.cfg.TopicConfig, err)
	case errors.Is(err, kafka.InvalidReplicationFactor):
		return fmt.Errorf("cannot create it with replication factor %d (%w); lower kafka.topic_replication_factor to at most the number of brokers",
			s.cfg.TopicReplicationFactor, err)
	default:
		return fmt.Errorf("cannot create it with %d partitions, replication factor %d: %w",
			s.cfg.TopicPartitions, s.cfg.TopicReplicationFactor, err)
	}
}

// topicConfigEntries returns Config.TopicConfig as CreateTopics entries,
// sorted by name.
func (s *Sink) topicConfigEntries() []kafka.ConfigEntry {
	names := slices.Sorted(maps.Keys(s.cfg.TopicConfig))
	out := make([]kafka.ConfigEntry, len(names))
	for i, n := range names {
		out[i] = kafka.ConfigEntry{ConfigName: n, ConfigValue: s.cfg.TopicConfig[n]}
	}
	return out
}

// topicError names the topic in err.
func topicError(topic string, err error) error {
	var sec *SecurityError
	if errors.As(err, &sec) {
		return fmt.Errorf("kafka: topic %q: %w", topic, err)
	}
	if unreachable(err) {
		return fmt.Errorf("kafka: topic %q: cannot reach the brokers: %w", topic, err)
	}
	return fmt.Errorf("kafka: topic %q: %w", topic, err)
}

// get returns the count in use of topic, 0 if none was read.
func (c *partitionCounts) get(topic string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[topic]
}

// targets returns the topics the refresher re-reads, sorted, and the state
// of those Send routes to: every topic Send routes to, and the dead-letter
// topic dlq once the sink has written to it.
func (c *partitionCounts) targets(dlq string) (map[string]*topicState, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	routed := maps.Clone(c.routed)
	names := slices.Collect(maps.Keys(routed))
	if _, ok := c.n[dlq]; ok && dlq != "" && routed[dlq] == nil {
		names = append(names, dlq)
	}
	slices.Sort(names)
	return routed, names
}
