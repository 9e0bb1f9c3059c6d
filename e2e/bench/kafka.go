package main

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicPartitions matches walrelay's default kafka.topic_partitions, so every
// consumer writes to topics of the same shape.
const topicPartitions = 3

// kafkaAdmin creates the bench's topics and counts their records.
type kafkaAdmin struct {
	brokers []string
	cl      *kgo.Client
	adm     *kadm.Client
}

func newKafkaAdmin(brokers []string) (*kafkaAdmin, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("kafka client for %v: %w", brokers, err)
	}
	return &kafkaAdmin{brokers: brokers, cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (k *kafkaAdmin) close() { k.cl.Close() }

// createTopics creates topics with message.timestamp.type=LogAppendTime, so
// each record's timestamp is the moment the broker appended it.
func (k *kafkaAdmin) createTopics(ctx context.Context, topics ...string) error {
	appendTime := "LogAppendTime"
	resp, err := k.adm.CreateTopics(ctx, topicPartitions, 1,
		map[string]*string{"message.timestamp.type": &appendTime}, topics...)
	if err != nil {
		return fmt.Errorf("create topics %v: %w", topics, err)
	}
	for _, t := range resp.Sorted() {
		if t.Err != nil {
			return fmt.Errorf("create topic %s: %w", t.Topic, t.Err)
		}
	}
	return nil
}

// countRecordsSettled is countRecords, asked again for up to 5 s while it
// fails or counts fewer than want: on a busy broker (CI runs other tests on
// it) a ListOffsets can fail or meet stale metadata for a fresh topic. It
// returns the last count and error.
func (k *kafkaAdmin) countRecordsSettled(ctx context.Context, want int64, topics ...string) (int64, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := k.countRecords(ctx, topics...)
		if err == nil && n >= want || time.Now().After(deadline) || ctx.Err() != nil {
			return n, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// countRecords returns the sum of the topics' end offsets (the topics are
// fresh, so this is the number of records in them).
func (k *kafkaAdmin) countRecords(ctx context.Context, topics ...string) (int64, error) {
	offs, err := k.adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return 0, fmt.Errorf("end offsets of %v: %w", topics, err)
	}
	var n int64
	var firstErr error
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err != nil && firstErr == nil {
			firstErr = fmt.Errorf("end offset of %s[%d]: %w", o.Topic, o.Partition, o.Err)
		}
		n += o.Offset
	})
	return n, firstErr
}
