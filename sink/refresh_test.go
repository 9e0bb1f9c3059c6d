package sink

import (
	"context"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The refresher asks with franz-go, whose Metadata requests are version 9 or
// later against kfake; kafka-go's Transport, which routes the produce
// requests, stops at version 8. Faults on the later versions hit only the
// refresher.
func fromRefresher(req kmsg.Request) bool { return req.GetVersion() >= 9 }

// sendTimed sends record i of key k to topic and fails the test if Send
// fails or takes longer than a queue push may.
func sendTimed(t *testing.T, s *Sink, topic string, k, i int, a *acks) {
	t.Helper()
	start := time.Now()
	if err := s.Send(context.Background(), testRecord(topic, k, i, a)); err != nil {
		t.Fatalf("Send(%d) to %s: %v", i, topic, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Send(%d) to %s took %s", i, topic, d)
	}
}

// TestPartitionShrinkKeepsCount deletes a 4-partition topic and creates it
// again with 2: the sink warns once, keeps routing over 4, and Send goes on
// (records whose keys are on partitions 0 and 1 of 4 are written there).
func TestPartitionShrinkKeepsCount(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	const topic = "shrink"
	createTopic(t, brokers, topic, 4, nil)
	cfg := fastConfig(brokers)
	cfg.MetadataMaxAge = 50 * time.Millisecond
	cfg.Idempotence = IdempotenceOff // the re-created partitions know no producer state
	s, logs := startLoggedSink(t, cfg)
	a := newAcks(math.MaxInt)
	for i := range 100 {
		sendTimed(t, s, topic, i%10, i, a)
	}
	waitAcked(t, a, 100, 10*time.Second)

	if err := c.DeleteTopic(topic); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTopic(topic, 2, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a warning about the shrunk topic", func() bool {
		return len(logLines(t, logs, "warn", shrinkMsg)) > 0
	})
	time.Sleep(10 * cfg.MetadataMaxAge) // more rounds, which must not warn again
	lines := logLines(t, logs, "warn", shrinkMsg)
	if len(lines) != 1 || lines[0]["topic"] != topic || lines[0]["partitions"] != 4.0 || lines[0]["partitions_read"] != 2.0 {
		t.Fatalf("shrink warnings %v, want one for %s, 4 partitions in use, 2 read", lines, topic)
	}
	if got, latest := partsOf(s, topic), s.topics[topic].growth.latest.Load(); got != 4 || latest != 4 {
		t.Fatalf("routing over %d partitions (latest %d) after the shrink, want 4 kept", got, latest)
	}

	var low []int // keys on partition 0 or 1 of 4, which the new topic has
	for k := 0; len(low) < 5; k++ {
		if javaPartition([]byte("key-"+strconv.Itoa(k)), 4) < 2 {
			low = append(low, k)
		}
	}
	for i := 100; i < 200; i++ {
		sendTimed(t, s, topic, low[i%len(low)], i, a)
	}
	waitAcked(t, a, 200, 10*time.Second)
	for _, r := range consume(t, brokers, topic, 100, 10*time.Second) {
		if want := javaPartition(r.Key, 4); int(r.Partition) != want {
			t.Errorf("record %d in partition %d, want %d of the 4 kept", recordNumber(t, r), r.Partition, want)
		}
	}
	select {
	case err := <-s.Err():
		t.Fatalf("sink halted: %v", err)
	default:
	}
}

// TestRefreshTopicFailureKeepsCount: the refresher cannot describe topic b
// while a and b both grow to 4. a switches, b keeps 2 and is logged at most
// once per round (not per record), Sends to both go on; once b can be
// described again its growth is seen.
func TestRefreshTopicFailureKeepsCount(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	createTopic(t, brokers, "a", 2, nil)
	createTopic(t, brokers, "b", 2, nil)
	cfg := fastConfig(brokers)
	cfg.MetadataMaxAge = 50 * time.Millisecond
	s, logs := startLoggedSink(t, cfg)
	a := newAcks(math.MaxInt)
	i := 0
	for ; i < 100; i++ {
		sendTimed(t, s, []string{"a", "b"}[i%2], i%10, i, a)
	}
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Metadata}, Topic: "b", Err: kerr.UnknownServerError, Count: -1, When: fromRefresher})
	growTopic(t, brokers, "a", 4)
	growTopic(t, brokers, "b", 4)
	start := time.Now()
	for partsOf(s, "a") != 4 || time.Since(start) < 20*cfg.MetadataMaxAge {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("topic a routes over %d partitions 10s after it grew", partsOf(s, "a"))
		}
		sendTimed(t, s, []string{"a", "b"}[i%2], i%10, i, a)
		if i++; i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	rounds := int(time.Since(start)/cfg.MetadataMaxAge) + 1
	lines := logLines(t, logs, "warn", failedMsg)
	if len(lines) == 0 || len(lines) > rounds || fault.Hits() == 0 {
		t.Fatalf("%d warnings about b in %d rounds (%d faulted requests, %d records sent); want 1 to %d",
			len(lines), rounds, fault.Hits(), i, rounds)
	}
	for _, l := range lines {
		errs, _ := l["errors"].(map[string]any)
		if _, ok := errs["b"]; !ok || len(errs) != 1 {
			t.Fatalf("warning %v: want errors for topic b only", l)
		}
	}
	if got := partsOf(s, "b"); got != 2 || s.topics["b"].growth.latest.Load() != 2 {
		t.Fatalf("topic b routes over %d partitions although it could not be described; want 2 kept", got)
	}
	waitAcked(t, a, i, 10*time.Second)

	fault.Remove()
	waitFor(t, 5*time.Second, "the refresher sees b's 4 partitions", func() bool {
		return s.topics["b"].growth.latest.Load() == 4
	})
	sendTimed(t, s, "b", 0, i, a)
	if got := partsOf(s, "b"); got != 4 {
		t.Fatalf("topic b routes over %d partitions after it could be described again, want 4", got)
	}
	waitAcked(t, a, i+1, 10*time.Second)
}

// TestRefreshStuckDoesNotBlockSend parks every Metadata request of the
// refresher: Send goes on at full speed, each stuck round ends after
// RequestTimeout with one warning, and the refresher works again once the
// broker answers.
func TestRefreshStuckDoesNotBlockSend(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	const topic = "stuck"
	createTopic(t, brokers, topic, 2, nil)
	cfg := fastConfig(brokers)
	cfg.MetadataMaxAge = 50 * time.Millisecond
	cfg.RequestTimeout = time.Second
	s, logs := startLoggedSink(t, cfg)
	a := newAcks(math.MaxInt)
	sendTimed(t, s, topic, 0, 0, a)
	waitAcked(t, a, 1, 10*time.Second)

	release := make(chan struct{})
	var once sync.Once
	unstick := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unstick)
	var parked atomic.Int64
	c.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		select {
		case <-release:
		default:
			if fromRefresher(req) {
				parked.Add(1)
				c.SleepControl(func() { <-release })
			}
		}
		return nil, nil, false
	})
	start := time.Now()
	for i := 1; i < 2000; i++ {
		sendTimed(t, s, topic, i%10, i, a)
	}
	waitAcked(t, a, 2000, 10*time.Second)
	waitFor(t, 5*time.Second, "a warning about the failed round", func() bool {
		return len(logLines(t, logs, "warn", requestMsg)) > 0
	})
	rounds := int(time.Since(start)/cfg.RequestTimeout) + 2
	if n := len(logLines(t, logs, "warn", requestMsg)); n > rounds || parked.Load() == 0 {
		t.Fatalf("%d warnings in %s with %d parked requests; want 1 to %d", n, time.Since(start), parked.Load(), rounds)
	}

	unstick()
	growTopic(t, brokers, topic, 4)
	waitFor(t, 10*time.Second, "the refresher sees 4 partitions", func() bool {
		return s.topics[topic].growth.latest.Load() == 4
	})
	sendTimed(t, s, topic, 0, 2000, a)
	if got := partsOf(s, topic); got != 4 {
		t.Fatalf("routing over %d partitions, want 4", got)
	}
	waitAcked(t, a, 2001, 10*time.Second)
}

// TestDeadLetterTopicGrowth: the dead-letter topic is re-read too; it has
// no Send order to keep (each dead-letter write is acknowledged before its
// writer goes on), so a larger count is used at once.
func TestDeadLetterTopicGrowth(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	maxBytes := "2000"
	createTopic(t, brokers, "big", 1, map[string]*string{"max.message.bytes": &maxBytes})
	createTopic(t, brokers, "dlq", 1, nil)
	cfg := fastConfig(brokers)
	cfg.OnFailure, cfg.DeadLetterTopic = OnFailureDeadLetter, "dlq"
	cfg.MetadataMaxAge = 50 * time.Millisecond
	s, logs := startLoggedSink(t, cfg)
	sendBigInTheMiddle(t, s, "big").wait(t, 10*time.Second)
	if n := s.counts.get("dlq"); n != 1 {
		t.Fatalf("dead-letter topic count %d, want 1", n)
	}
	growTopic(t, brokers, "dlq", 3)
	// The count is set just before the warning is written: wait for both.
	waitFor(t, 5*time.Second, "the dead-letter topic's new count in use, and its warning", func() bool {
		return s.counts.get("dlq") == 3 && len(logLines(t, logs, "warn", "dead-letter topic has more partitions")) > 0
	})
	lines := logLines(t, logs, "warn", "dead-letter topic has more partitions")
	if len(lines) != 1 || lines[0]["topic"] != "dlq" || lines[0]["partitions_read"] != 3.0 {
		t.Fatalf("dead-letter growth warnings %v, want one for dlq, 3 partitions", lines)
	}
}
