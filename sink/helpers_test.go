package sink

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/walrelay/walrelay/event"
)

// newFake starts an in-process Kafka-protocol broker cluster.
func newFake(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	forgetWorked(c.ListenAddrs())
	return c
}

// forgetWorked forgets that settings reached addrs earlier in this process
// (settingsWorked): a kfake broker of an earlier test may have had the same
// port with other settings, and its success would make a connection error
// of this one read "these settings worked earlier" (CI saw it).
func forgetWorked(addrs []string) {
	worked.Range(func(k, _ any) bool {
		for _, a := range addrs {
			if strings.Contains(k.(string), strconv.Quote(a)) {
				worked.Delete(k)
			}
		}
		return true
	})
}

// fastConfig is a config with short backoffs for tests.
func fastConfig(brokers []string) Config {
	return Config{
		Brokers:        brokers,
		BackoffMin:     5 * time.Millisecond,
		BackoffMax:     50 * time.Millisecond,
		MaxAttempts:    5,
		RequestTimeout: 5 * time.Second,
	}
}

// testLogger logs warnings and errors through t.
func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

// startSink creates a sink closed at the end of the test.
func startSink(t testing.TB, cfg Config) *Sink {
	t.Helper()
	return startSinkWith(t, cfg, testLogger(t))
}

// startSinkWith is startSink logging to log.
func startSinkWith(t testing.TB, cfg Config, log zerolog.Logger) *Sink {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := New(ctx, cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

// acks records which records were acked, how often, and in which order.
type acks struct {
	mu    sync.Mutex
	count map[int]int // record number -> acks
	order []int       // record numbers in ack order
	all   chan struct{}
	want  int
}

func newAcks(want int) *acks {
	return &acks{count: make(map[int]int), all: make(chan struct{}), want: want}
}

func (a *acks) fn(i int) func() {
	return func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.count[i]++
		a.order = append(a.order, i)
		if len(a.order) == a.want {
			close(a.all)
		}
	}
}

// wait waits until want acks arrived.
func (a *acks) wait(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case <-a.all:
		return
	default:
	}
	select {
	case <-a.all:
	case <-time.After(d):
		a.mu.Lock()
		defer a.mu.Unlock()
		t.Fatalf("only %d of %d records acked after %s", len(a.order), a.want, d)
	}
}

func (a *acks) snapshot() (map[int]int, []int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := make(map[int]int, len(a.count))
	for k, v := range a.count {
		c[k] = v
	}
	return c, append([]int(nil), a.order...)
}

// testRecord is record number i of key k (nil key when k < 0), with the
// number as value and as ce_id header.
func testRecord(topic string, k, i int, a *acks) *event.Record {
	var key []byte
	if k >= 0 {
		key = []byte("key-" + strconv.Itoa(k))
	}
	return &event.Record{
		Topic:   topic,
		Key:     key,
		Value:   []byte(strconv.Itoa(i)),
		Headers: []event.Header{{Key: "ce_id", Value: []byte(fmt.Sprintf("id-%08d", i))}, {Key: "content-type", Value: []byte("text/plain")}},
		Ack:     a.fn(i),
	}
}

// consume reads records of topic from the start until it has want of them
// or d passed.
func consume(t testing.TB, brokers []string, topic string, want int, d time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("kgo: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// endOffsets returns the end offset of every partition of topic.
func endOffsets(t testing.TB, brokers []string, topic string) map[int32]int64 {
	t.Helper()
	adm, ctx := admin(t, brokers, 10*time.Second)
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	out := make(map[int32]int64)
	offs.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// createTopic creates a topic with the given configs through franz-go.
func createTopic(t testing.TB, brokers []string, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	adm, ctx := admin(t, brokers, 10*time.Second)
	if _, err := adm.CreateTopic(ctx, partitions, 1, configs, topic); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// javaPartition is Kafka's Java default partitioner, written out from its
// definition: toPositive(murmur2(key)) % n.
func javaPartition(key []byte, n int) int {
	return int(javaMurmur2(key)&0x7fffffff) % n
}

// javaMurmur2 is org.apache.kafka.common.utils.Utils.murmur2, transcribed.
func javaMurmur2(data []byte) int32 {
	const seed, m, r = uint32(0x9747b28c), uint32(0x5bd1e995), 24
	length := len(data)
	h := seed ^ uint32(length)
	for i := 0; i+4 <= length; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[length&^3:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// stallProduce makes c hold every produce request until release is called
// (once; later calls do nothing). Defer release: a sink closed while the
// broker stalls waits out its Close timeout.
func stallProduce(c *kfake.Cluster) (release func()) {
	ch := make(chan struct{})
	var once sync.Once
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { <-ch })
		return nil, nil, false
	})
	return func() { once.Do(func() { close(ch) }) }
}

// admin returns an admin client of brokers and a context of d, both ended
// when the test ends.
func admin(t testing.TB, brokers []string, d time.Duration) (*kadm.Client, context.Context) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatalf("kgo: %v", err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return kadm.NewClient(cl), ctx
}
