package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/walrelay/walrelay/devenv"
)

// Environment variables that point tests at a running Kafka broker.
const (
	// EnvKafkaBrokers is a comma-separated list of bootstrap brokers.
	EnvKafkaBrokers = "WALRELAY_TEST_KAFKA_BROKERS"
	// EnvKafkaCtl is a script that takes `stop` or `start` for that broker.
	EnvKafkaCtl = "WALRELAY_TEST_KAFKA_CTL"
)

// Broker is a Kafka broker for tests, returned by Kafka and FakeKafka.
type Broker struct {
	brokers []string
	source  string
	fake    *devenv.Kafka // nil for a broker from the environment
	ctl     string        // control script of a broker from the environment
}

// envKafkaCheck verifies WALRELAY_TEST_KAFKA_BROKERS once per binary.
var envKafkaCheck struct {
	once sync.Once
	err  error
}

// Kafka returns a broker for t: the one named by WALRELAY_TEST_KAFKA_BROKERS
// (t fails if it does not answer), else a new in-process kfake broker that
// is closed at t's cleanup.
func Kafka(t testing.TB) *Broker {
	t.Helper()
	if env := os.Getenv(EnvKafkaBrokers); env != "" {
		brokers := strings.Split(env, ",")
		envKafkaCheck.once.Do(func() { envKafkaCheck.err = pingKafka(brokers) })
		if envKafkaCheck.err != nil {
			t.Fatalf("testenv: %s=%s is set but the broker does not answer: %v", EnvKafkaBrokers, env, envKafkaCheck.err)
		}
		return &Broker{brokers: brokers, source: EnvKafkaBrokers, ctl: os.Getenv(EnvKafkaCtl)}
	}
	fake := FakeKafka(t)
	return &Broker{brokers: fake.Brokers(), source: "kfake", fake: fake}
}

// FakeKafka starts an in-process kfake broker for t (one node, automatic
// topic creation, default 1 partition), closed at t's cleanup. Use its
// Cluster() to inject faults and Stop/Start for an outage.
func FakeKafka(t testing.TB) *devenv.Kafka {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k, err := devenv.StartKafka(ctx)
	if err != nil {
		t.Fatalf("testenv: start in-process Kafka broker: %v", err)
	}
	t.Cleanup(k.Close)
	return k
}

// pingKafka asks the brokers for cluster metadata within 15 s.
func pingKafka(brokers []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err = kadm.NewClient(cl).BrokerMetadata(ctx)
	return err
}

// Brokers returns the bootstrap addresses.
func (b *Broker) Brokers() []string { return append([]string(nil), b.brokers...) }

// Source says where the broker came from: "WALRELAY_TEST_KAFKA_BROKERS" or "kfake".
func (b *Broker) Source() string { return b.source }

// Fake returns the kfake broker behind b, or nil for a real broker.
func (b *Broker) Fake() *devenv.Kafka { return b.fake }

// NewTopicPrefix returns a topic prefix unique to this call ("t" + 12 random
// hex characters), so tests sharing a broker do not see each other's topics.
func (b *Broker) NewTopicPrefix(t testing.TB) string {
	return "t" + randomHex(6)
}

// CreateTopic creates topic with the given number of partitions
// (replication factor 1) and fails t on error.
func (b *Broker) CreateTopic(t testing.TB, topic string, partitions int32) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...))
	if err != nil {
		t.Fatalf("testenv: kafka client: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("testenv: create topic %s (%d partitions): %v", topic, partitions, err)
	}
}

// CanStopBroker reports whether StopBroker and StartBroker work: always for
// kfake, and for a real broker when WALRELAY_TEST_KAFKA_CTL is set.
func (b *Broker) CanStopBroker() bool { return b.fake != nil || b.ctl != "" }

// StopBroker takes the broker down (clients see connection refused) until
// StartBroker. It skips t when the broker cannot be stopped (a real broker
// without WALRELAY_TEST_KAFKA_CTL) and fails t when stopping fails.
func (b *Broker) StopBroker(t testing.TB) {
	t.Helper()
	if b.fake != nil {
		b.fake.Stop()
		return
	}
	b.runCtl(t, "stop")
}

// StartBroker brings a stopped broker back on the same address and waits
// until it answers metadata requests.
func (b *Broker) StartBroker(t testing.TB) {
	t.Helper()
	if b.fake != nil {
		if err := b.fake.Start(); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		return
	}
	b.runCtl(t, "start")
	if err := pingKafka(b.brokers); err != nil {
		t.Fatalf("testenv: broker %v does not answer after start: %v", b.brokers, err)
	}
}

// runCtl runs the control script of a real broker with one verb.
func (b *Broker) runCtl(t testing.TB, verb string) {
	t.Helper()
	if b.ctl == "" {
		t.Skipf("testenv: cannot %s the Kafka broker %v: %s is unset", verb, b.brokers, EnvKafkaCtl)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, b.ctl, verb).CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: %s %s: %v\n%s", b.ctl, verb, err, out)
	}
}

// Consume reads the given topics from their start until want records were
// read or timeout passed (or ctx ended), and returns every record read. It
// fails t with the count read when fewer than want arrived in time.
func (b *Broker) Consume(t testing.TB, ctx context.Context, topics []string, want int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		t.Fatalf("testenv: kafka client: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var got []*kgo.Record
	var lastErr error
	for len(got) < want {
		fetches := cl.PollFetches(ctx)
		fetches.EachError(func(topic string, p int32, err error) {
			lastErr = fmt.Errorf("%s[%d]: %w", topic, p, err)
		})
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, r) })
		if len(got) < want && ctx.Err() != nil {
			t.Fatalf("testenv: read %d of %d records from %v within %s (last fetch error: %v)",
				len(got), want, topics, timeout, lastErr)
		}
	}
	return got
}
