package sink

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
)

func TestOrderedDelivery(t *testing.T) {
	c := newFake(t)
	testOrderedDelivery(t, fastConfig(c.ListenAddrs()), "ordered")
}

// testOrderedDelivery sends 10,000 records over 37 keys (every tenth record
// without a key, every 100th a tombstone) to a 4-partition topic the sink
// creates, and checks: every ack called once, acks in send order per key,
// each key on Java's partition, and the topic holding every record once, in
// send order per key, with its headers.
func testOrderedDelivery(t *testing.T, cfg Config, topic string) {
	const n, keys, partitions = 10000, 37, 4
	brokers := cfg.Brokers
	cfg.TopicPartitions = partitions
	cfg.BatchMaxRecords = 100 // many batches per partition
	s := startSink(t, cfg)

	a := newAcks(n)
	keyOf := func(i int) int {
		if i%10 == 9 {
			return -1
		}
		return i % keys
	}
	ctx := context.Background()
	for i := range n {
		rec := testRecord(topic, keyOf(i), i, a)
		if i%100 == 42 {
			rec.Value = nil
		}
		if err := s.Send(ctx, rec); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
	}
	a.wait(t, time.Minute)

	counts, order := a.snapshot()
	for i := range n {
		if counts[i] != 1 {
			t.Fatalf("record %d acked %d times, want once", i, counts[i])
		}
	}
	checkOrderPerKey(t, "ack", order, keyOf)
	if st := s.Stats(); st.Records != n || st.Pending != 0 || st.Batches < n/100 {
		t.Errorf("stats %+v, want %d records, none pending, >= %d batches", st, n, n/100)
	}

	got := consume(t, brokers, topic, n, 30*time.Second)
	if len(got) != n {
		t.Fatalf("consumed %d records, want %d", len(got), n)
	}
	var consumed []int
	keyless := map[int32]bool{}
	for _, r := range got {
		i := recordNumber(t, r)
		consumed = append(consumed, i)
		if k := keyOf(i); k < 0 {
			keyless[r.Partition] = true
			if r.Key != nil {
				t.Fatalf("record %d: key %q, want null", i, r.Key)
			}
		} else if want := javaPartition(r.Key, partitions); int(r.Partition) != want {
			t.Fatalf("record %d with key %s in partition %d, Java's partitioner picks %d", i, r.Key, r.Partition, want)
		}
		if tomb := i%100 == 42; tomb != (r.Value == nil) || !tomb && string(r.Value) != strconv.Itoa(i) {
			t.Fatalf("record %d: value %q", i, r.Value)
		}
		if len(r.Headers) != 2 || r.Headers[1].Key != "content-type" || string(r.Headers[1].Value) != "text/plain" {
			t.Fatalf("record %d: headers %v", i, r.Headers)
		}
	}
	checkOrderPerKey(t, "consumed", consumed, keyOf)
	if len(keyless) < 2 {
		t.Errorf("records without a key all went to partitions %v; the sticky partition should rotate", keyless)
	}
}

// recordNumber parses the record number from the ce_id header.
func recordNumber(t testing.TB, r *kgo.Record) int {
	t.Helper()
	for _, h := range r.Headers {
		if h.Key == "ce_id" {
			i, err := strconv.Atoi(strings.TrimPrefix(string(h.Value), "id-"))
			if err != nil {
				t.Fatalf("bad ce_id %q", h.Value)
			}
			return i
		}
	}
	t.Fatalf("record at %s/%d/%d without ce_id", r.Topic, r.Partition, r.Offset)
	return 0
}

// checkOrderPerKey checks that the record numbers of each key appear in
// increasing order (records of no key have no order to keep).
func checkOrderPerKey(t testing.TB, what string, nums []int, keyOf func(int) int) {
	t.Helper()
	last := map[int]int{}
	for _, i := range nums {
		k := keyOf(i)
		if k < 0 {
			continue
		}
		if prev, ok := last[k]; ok && i <= prev {
			t.Fatalf("%s order of key %d: record %d after %d", what, k, i, prev)
		}
		last[k] = i
	}
}

func TestLoneRecordIsAckedWithinLinger(t *testing.T) {
	c := newFake(t)
	s := startSink(t, fastConfig(c.ListenAddrs())) // default Linger 5ms
	ctx := context.Background()
	warm := newAcks(1)
	if err := s.Send(ctx, testRecord("lone", 1, 0, warm)); err != nil {
		t.Fatal(err)
	}
	warm.wait(t, 10*time.Second) // the topic exists now

	// The median of five, so that one hiccup of a loaded machine does not
	// fail the test; a sink that waited for a full batch would fail all five.
	var took []time.Duration
	for i := 1; i <= 5; i++ {
		a := newAcks(1)
		start := time.Now()
		if err := s.Send(ctx, testRecord("lone", 1, i, a)); err != nil {
			t.Fatal(err)
		}
		a.wait(t, 5*time.Second)
		took = append(took, time.Since(start))
		time.Sleep(20 * time.Millisecond)
	}
	slices.Sort(took)
	if took[2] > 50*time.Millisecond {
		t.Errorf("a lone record took %v to be acked (sorted), want a median < 50ms", took)
	}
}

func TestCloseFlushesWithoutLingerAndRejectsSends(t *testing.T) {
	c := newFake(t)
	cfg := fastConfig(c.ListenAddrs())
	cfg.Linger = 10 * time.Second // Close must not wait for it
	s, err := New(context.Background(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	a := newAcks(n)
	for i := range n {
		if err := s.Send(context.Background(), testRecord("close", i%7, i, a)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %s", d)
	}
	a.wait(t, 0)
	if err := s.Send(context.Background(), testRecord("close", 1, n, newAcks(1))); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewUnreachableBrokers(t *testing.T) {
	t.Parallel()
	addr := testenv.FreeAddr(t) // nothing listens there
	cfg := fastConfig([]string{addr})
	cfg.RequestTimeout = 2 * time.Second
	_, err := New(context.Background(), cfg, testLogger(t))
	if err == nil {
		t.Fatal("New succeeded without a broker")
	}
	want := fmt.Sprintf("kafka: cannot reach brokers [%s]: ", addr)
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; check kafka.brokers and that the broker is running") {
		t.Errorf("error %q, want %q...; check kafka.brokers...", err, want)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	_, err := New(context.Background(), Config{}, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "kafka.brokers") {
		t.Errorf("New with no brokers: %v", err)
	}
}

func TestSendTopicCreationError(t *testing.T) {
	c := newFake(t)
	cfg := fastConfig(c.ListenAddrs())
	cfg.TopicReplicationFactor = 3 // one broker
	s := startSink(t, cfg)
	err := s.Send(context.Background(), &event.Record{Topic: "rf3", Value: []byte("x")})
	if err == nil {
		t.Fatal("Send created a topic with replication factor 3 on one broker")
	}
	for _, want := range []string{`topic "rf3"`, "replication factor 3", "kafka.topic_replication_factor"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if err := s.Send(context.Background(), &event.Record{Value: []byte("x")}); err == nil {
		t.Error("Send accepted a record without a topic")
	}
}

func TestSendTopicCreationNotAuthorised(t *testing.T) {
	c := newFake(t)
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.CreateTopics}, Topic: "secret", Err: kerr.TopicAuthorizationFailed, Count: -1})
	s := startSink(t, fastConfig(c.ListenAddrs()))
	err := s.Send(context.Background(), &event.Record{Topic: "secret", Key: []byte("k"), Value: []byte("x")})
	if err == nil {
		t.Fatal("Send succeeded although creating the topic is not authorised")
	}
	for _, want := range []string{`kafka: topic "secret"`, "not authorised to create it", "Topic Authorization Failed", "grant CREATE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if st := s.Stats(); st.Retries != 0 {
		t.Errorf("an authorisation error was retried: %+v", st)
	}
}
