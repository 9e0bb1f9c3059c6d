package sink

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// CheckResult is one finding of Check: OK, or a problem and its fix.
type CheckResult struct {
	OK   bool
	What string
	Fix  string
}

// Check verifies what `walrelay check` needs from Kafka: the brokers answer,
// and this client may create topics (a validate-only CreateTopics request for
// probeTopic with the configured partitions and replication factor, so
// nothing is created). cfg is validated first.
func Check(ctx context.Context, cfg Config, probeTopic string) []CheckResult {
	if err := cfg.Validate(); err != nil {
		return []CheckResult{{What: err.Error(), Fix: "fix the kafka section of the config"}}
	}
	cl := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: cfg.RequestTimeout}
	meta, err := cl.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return []CheckResult{{What: fmt.Sprintf("kafka brokers %v do not answer: %v", cfg.Brokers, err),
			Fix: "check kafka.brokers and that the brokers are running and reachable from here"}}
	}
	out := []CheckResult{{OK: true, What: fmt.Sprintf("kafka: %d broker(s) answer, cluster %s", len(meta.Brokers), meta.ClusterID)}}
	if cfg.TopicReplicationFactor > len(meta.Brokers) {
		out = append(out, CheckResult{What: fmt.Sprintf("kafka.topic_replication_factor %d exceeds the %d broker(s)", cfg.TopicReplicationFactor, len(meta.Brokers)),
			Fix: fmt.Sprintf("set kafka.topic_replication_factor to at most %d", len(meta.Brokers))})
	}
	res, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{ValidateOnly: true, Topics: []kafka.TopicConfig{{
		Topic: probeTopic, NumPartitions: cfg.TopicPartitions, ReplicationFactor: cfg.TopicReplicationFactor}}})
	if err == nil {
		err = res.Errors[probeTopic]
	}
	switch {
	case err == nil, errors.Is(err, kafka.TopicAlreadyExists):
		out = append(out, CheckResult{OK: true, What: "kafka: this client may create topics"})
	case errors.Is(err, kafka.TopicAuthorizationFailed), errors.Is(err, kafka.ClusterAuthorizationFailed):
		out = append(out, CheckResult{What: fmt.Sprintf("kafka: not allowed to create topics: %v", err),
			Fix: "grant CREATE on the cluster or on topics with the prefix, or create the topics yourself"})
	default:
		out = append(out, CheckResult{What: fmt.Sprintf("kafka: topic creation would fail: %v", err),
			Fix: "check kafka.topic_partitions and kafka.topic_replication_factor against the cluster"})
	}
	return out
}
