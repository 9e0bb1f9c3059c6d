package sink

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// realBrokers returns the brokers of a real Kafka cluster from
// WALRELAY_TEST_KAFKA_BROKERS, skipping the test when it is unset.
func realBrokers(t *testing.T) []string {
	t.Helper()
	v := os.Getenv("WALRELAY_TEST_KAFKA_BROKERS")
	if v == "" {
		t.Skip("WALRELAY_TEST_KAFKA_BROKERS is not set: no real Kafka broker to test against")
	}
	return strings.Split(v, ",")
}

// realConfig has backoffs a real broker needs: right after a topic was
// created its partitions answer NOT_LEADER_OR_FOLLOWER for a few hundred
// milliseconds, longer than fastConfig's retries last.
func realConfig(brokers []string) Config {
	cfg := fastConfig(brokers)
	cfg.BackoffMin, cfg.BackoffMax, cfg.MaxAttempts = 50*time.Millisecond, time.Second, 10
	return cfg
}

// uniqueTopic returns a topic name no earlier run used, deleted after the test.
func uniqueTopic(t *testing.T, brokers []string, what string) string {
	return tempTopic(t, "sinktest."+what, kgo.SeedBrokers(brokers...))
}

// tempTopic returns a fresh topic name walrelay.<what>.<ns>, deleted after
// the test with a client made from opts (which name the brokers).
func tempTopic(t *testing.T, what string, opts ...kgo.Opt) string {
	topic := fmt.Sprintf("walrelay.%s.%d", what, time.Now().UnixNano())
	t.Cleanup(func() {
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = kadm.NewClient(cl).DeleteTopics(ctx, topic)
	})
	return topic
}

func TestRealBrokerCreatesTopicWithConfiguredPartitions(t *testing.T) {
	brokers := realBrokers(t)
	topic := uniqueTopic(t, brokers, "create")
	cfg := realConfig(brokers)
	cfg.TopicPartitions = 5
	s := startSink(t, cfg)
	a := newAcks(1)
	if err := s.Send(context.Background(), testRecord(topic, 1, 0, a)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	a.wait(t, 30*time.Second)

	adm, ctx := admin(t, brokers, 10*time.Second)
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := details[topic]
	if !ok || d.Err != nil {
		t.Fatalf("topic %s not found: %+v", topic, d)
	}
	if len(d.Partitions) != 5 {
		t.Errorf("topic %s has %d partitions, want the configured 5", topic, len(d.Partitions))
	}
	if got := consume(t, brokers, topic, 1, 10*time.Second); len(got) != 1 || recordNumber(t, got[0]) != 0 {
		t.Errorf("consumed %v, want record 0", got)
	}
}

func TestRealBrokerOrderedDelivery(t *testing.T) {
	brokers := realBrokers(t)
	testOrderedDelivery(t, realConfig(brokers), uniqueTopic(t, brokers, "ordered"))
}
