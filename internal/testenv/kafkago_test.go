package testenv

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// kafkaGoRoundTrip writes one message with kafka-go's Writer (acks=all) and
// reads it back with a partition reader and with a consumer group reader.
func kafkaGoRoundTrip(t *testing.T, k *Broker) {
	topic := k.NewTopicPrefix(t) + ".kafkago"
	k.CreateTopic(t, topic, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w := &kafkago.Writer{Addr: kafkago.TCP(k.Brokers()...), Topic: topic,
		RequiredAcks: kafkago.RequireAll, BatchTimeout: 10 * time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafkago.Message{Key: []byte("k"), Value: []byte("hello")}); err != nil {
		t.Fatalf("kafka-go write to %s: %v", topic, err)
	}
	for _, cfg := range []kafkago.ReaderConfig{
		// A short MaxWait keeps Close from waiting out a 10 s long poll.
		{Brokers: k.Brokers(), Topic: topic, Partition: 0, MaxWait: 200 * time.Millisecond},
		{Brokers: k.Brokers(), Topic: topic, GroupID: topic + ".group", StartOffset: kafkago.FirstOffset,
			MaxWait: 200 * time.Millisecond},
	} {
		r := kafkago.NewReader(cfg)
		m, err := r.ReadMessage(ctx)
		r.Close()
		if err != nil || string(m.Value) != "hello" {
			t.Fatalf("kafka-go read (group %q) from %s = %q, %v; want hello", cfg.GroupID, topic, m.Value, err)
		}
	}
}

func TestKafkaGoRealBroker(t *testing.T) {
	if os.Getenv(EnvKafkaBrokers) == "" {
		t.Skipf("skipping: %s is unset, so there is no real Kafka broker to talk to", EnvKafkaBrokers)
	}
	k := Kafka(t)
	if !strings.EqualFold(k.Source(), EnvKafkaBrokers) {
		t.Fatalf("Kafka source = %s, want %s", k.Source(), EnvKafkaBrokers)
	}
	kafkaGoRoundTrip(t, k)
}

func TestKafkaGoFakeBroker(t *testing.T) {
	fake := FakeKafka(t)
	kafkaGoRoundTrip(t, &Broker{brokers: fake.Brokers(), source: "kfake", fake: fake})
}
