package testenv

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produce writes n records to topic with franz-go and fails t on error.
func produce(t *testing.T, brokers []string, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: topic, Value: []byte(fmt.Sprint(i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce to %s: %v", topic, err)
		}
	}
}

func TestKafkaConsumeReadsFromStart(t *testing.T) {
	k := Kafka(t)
	t.Logf("Kafka from %s: %v", k.Source(), k.Brokers())
	prefix := k.NewTopicPrefix(t)
	if prefix == k.NewTopicPrefix(t) {
		t.Fatal("NewTopicPrefix returned the same prefix twice")
	}
	a, b := prefix+".a", prefix+".b"
	k.CreateTopic(t, a, 3)
	k.CreateTopic(t, b, 1)
	produce(t, k.Brokers(), a, 4)
	produce(t, k.Brokers(), b, 2)
	got := k.Consume(t, context.Background(), []string{a, b}, 6, 30*time.Second)
	if len(got) != 6 {
		t.Fatalf("Consume returned %d records, want 6", len(got))
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, so a test can check what a helper fails with.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestKafkaConsumeFailsWithCount(t *testing.T) {
	k := Kafka(t)
	topic := k.NewTopicPrefix(t) + ".short"
	k.CreateTopic(t, topic, 1)
	produce(t, k.Brokers(), topic, 2)
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.Consume(rec, context.Background(), []string{topic}, 5, 2*time.Second)
	}()
	<-done
	if !strings.Contains(rec.msg, "read 2 of 5 records") {
		t.Fatalf("Consume failure = %q, want it to say it read 2 of 5 records", rec.msg)
	}
}

func TestFakeKafkaStopStart(t *testing.T) {
	fake := FakeKafka(t)
	b := &Broker{brokers: fake.Brokers(), source: "kfake", fake: fake}
	if !b.CanStopBroker() {
		t.Fatal("a kfake broker must be stoppable")
	}
	topic := b.NewTopicPrefix(t) + ".outage"
	produce(t, b.Brokers(), topic, 1)
	b.StopBroker(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	if err := cl.Ping(ctx); err == nil {
		t.Error("Ping succeeded while the broker was stopped")
	}
	cancel()
	cl.Close()
	b.StartBroker(t)
	produce(t, b.Brokers(), topic, 1)
	if got := b.Consume(t, context.Background(), []string{topic}, 2, 10*time.Second); len(got) != 2 {
		t.Fatalf("read %d records after restart, want 2", len(got))
	}
}
