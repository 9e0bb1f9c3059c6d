package sink

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/walrelay/walrelay/internal/testenv"
)

func TestPartitionGrowth(t *testing.T) {
	c := newFake(t)
	cfg := fastConfig(c.ListenAddrs())
	testPartitionGrowth(t, cfg, "grow")
}

func TestRealBrokerPartitionGrowth(t *testing.T) {
	brokers := realBrokers(t)
	testPartitionGrowth(t, realConfig(brokers), uniqueTopic(t, brokers, "grow"))
}

// testPartitionGrowth sends keyed records to a 2-partition topic, grows it
// to 4 from another goroutine while it keeps sending until the sink has
// switched, then sends more. It checks: the sink switched only once every record sent before was acked,
// with one warning; every record is in the log once, before the switch on
// Java's partition among 2 and after it among 4 (so the new partitions got
// records), records without a key before it among 2 too; per key, acks and log order follow send order, and the broker
// appended every record sent before the switch no later than any record of
// the same key sent after it.
func testPartitionGrowth(t *testing.T, cfg Config, topic string) {
	const keys, before, after = 40, 200, 1000
	brokers := cfg.Brokers
	appendTime := "LogAppendTime"
	createTopic(t, brokers, topic, 2, map[string]*string{"message.timestamp.type": &appendTime})
	cfg.MetadataMaxAge = 100 * time.Millisecond
	cfg.BatchMaxRecords = 20
	s, logs := startLoggedSink(t, cfg)

	a := newAcks(math.MaxInt)
	keyOf := func(i int) int {
		if i%10 == 9 {
			return -1 // no key: the sticky partitioner
		}
		return i % keys
	}
	ctx := context.Background()
	send := func(i int) {
		t.Helper()
		if err := s.Send(ctx, testRecord(topic, keyOf(i), i, a)); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
	}
	grown, first := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(grown)
		<-first // the sink has read the count of 2: a busy broker may take a while to show a new topic
		time.Sleep(50 * time.Millisecond)
		if err := setPartitions(brokers, topic, 4); err != nil {
			t.Error(err) // and the switch times out
		}
	}()
	i, switchAt := 0, -1
	deadline := time.Now().Add(30 * time.Second)
	for ; switchAt < 0; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("still routing over %d partitions 30s after the topic grew to 4", partsOf(s, topic))
		}
		send(i)
		if i == 0 {
			close(first)
		}
		if partsOf(s, topic) == 4 {
			switchAt = i
			counts, _ := a.snapshot()
			for j := range switchAt {
				if counts[j] != 1 {
					t.Fatalf("record %d was routed over 4 partitions while record %d was not acked", switchAt, j)
				}
			}
		}
		if i%10 == 0 {
			time.Sleep(time.Millisecond) // records stay in flight while the refresher looks
		}
	}
	<-grown
	if switchAt < before {
		t.Fatalf("switched at record %d, before %d records were sent", switchAt, before)
	}
	n := i + after
	for ; i < n; i++ {
		send(i)
	}
	waitAcked(t, a, n, time.Minute)
	counts, order := a.snapshot()
	for j := range n {
		if counts[j] != 1 {
			t.Fatalf("record %d acked %d times, want once", j, counts[j])
		}
	}
	checkOrderPerKey(t, "ack", order, keyOf)
	checkSwitchLogged(t, logs, topic)

	got := consume(t, brokers, topic, n, 30*time.Second)
	if len(got) != n {
		t.Fatalf("consumed %d records, want %d", len(got), n)
	}
	checkGrowthLog(t, got, switchAt, keyOf)
	if ends := endOffsets(t, brokers, topic); ends[2] == 0 || ends[3] == 0 {
		t.Errorf("end offsets %v: the new partitions 2 and 3 got no records", ends)
	}
}

// checkSwitchLogged checks for exactly one switch warning, 2 -> 4.
func checkSwitchLogged(t *testing.T, logs *testenv.SyncBuffer, topic string) {
	t.Helper()
	lines := logLines(t, logs, "warn", switchMsg)
	if len(lines) != 1 {
		t.Fatalf("%d switch warnings, want 1: %v", len(lines), lines)
	}
	l := lines[0]
	if l["topic"] != topic || l["old_partitions"] != 2.0 || l["new_partitions"] != 4.0 ||
		!strings.Contains(l["message"].(string), "grew from 2 to 4 partitions") ||
		!strings.Contains(l["message"].(string), "keys are now spread over 4 partitions") {
		t.Errorf("switch warning %v: want topic %s, 2 -> 4, and what it means for keys", l, topic)
	}
}

// checkGrowthLog checks the consumed records of a topic that switched from
// 2 to 4 partitions at record switchAt: partitions, order per key within
// each partition, and that per key the broker appended nothing sent after
// the switch before something sent before it (LogAppendTime; a consumer may
// poll the partitions in any order, so their interleaving says nothing).
func checkGrowthLog(t *testing.T, got []*kgo.Record, switchAt int, keyOf func(int) int) {
	t.Helper()
	consumed := map[int32][]int{}
	lastBefore, firstAfter := map[int]time.Time{}, map[int]time.Time{}
	moved := 0
	for _, r := range got {
		i := recordNumber(t, r)
		consumed[r.Partition] = append(consumed[r.Partition], i)
		parts := 2
		if i >= switchAt {
			parts = 4
		}
		k := keyOf(i)
		if k < 0 {
			if r.Partition >= int32(parts) {
				t.Fatalf("record %d without a key (switch at %d) in partition %d of %d", i, switchAt, r.Partition, parts)
			}
			continue
		}
		if want := javaPartition(r.Key, parts); int(r.Partition) != want {
			t.Fatalf("record %d (key %s, switch at %d) in partition %d, want %d of %d", i, r.Key, switchAt, r.Partition, want, parts)
		}
		if i < switchAt && r.Timestamp.After(lastBefore[k]) {
			lastBefore[k] = r.Timestamp
		}
		if f, ok := firstAfter[k]; i >= switchAt && (!ok || r.Timestamp.Before(f)) {
			firstAfter[k] = r.Timestamp
			if !ok && javaPartition(r.Key, 2) != javaPartition(r.Key, 4) {
				moved++
			}
		}
	}
	for p, nums := range consumed {
		checkOrderPerKey(t, "partition "+strconv.Itoa(int(p)), nums, keyOf)
	}
	if moved == 0 {
		t.Fatal("no key changed partition with the switch: the test shows nothing")
	}
	for k, f := range firstAfter {
		if l, ok := lastBefore[k]; ok && f.Before(l) {
			t.Errorf("key %d: a record sent after the switch was appended at %s, before one sent before it (%s)", k, f, l)
		}
	}
}

func TestPartitionSwitchWaitsForAcks(t *testing.T) {
	h := startHeld(t, nil)
	k := movedKey()
	var ackedAtReturn map[int]int
	done := make(chan error, 1)
	go func() {
		err := h.s.Send(context.Background(), testRecord(heldTopic, k, 30, h.a))
		ackedAtReturn, _ = h.a.snapshot()
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Send returned (%v) while 20 records sent before it were not acknowledged", err)
	case <-time.After(300 * time.Millisecond):
	}
	if n := h.earlyNew.Load(); n != 0 {
		t.Fatalf("%d produce request(s) for the new partitions while earlier records were not acknowledged", n)
	}
	h.unhold()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Send after the acks: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send still waiting 10s after the earlier records could be acknowledged")
	}
	for i := range 30 {
		if ackedAtReturn[i] != 1 {
			t.Errorf("record %d was not acked when Send routed record 30 over the new partitions", i)
		}
	}
	if n := partsOf(h.s, heldTopic); n != 4 {
		t.Fatalf("routing over %d partitions after the switch, want 4", n)
	}
	waitAcked(t, h.a, 31, 10*time.Second)
	got := consume(t, h.brokers, heldTopic, 31, 10*time.Second)
	if len(got) != 31 {
		t.Fatalf("consumed %d records, want 31", len(got))
	}
	for _, r := range got {
		i, parts := recordNumber(t, r), 2
		if i == 30 {
			parts = 4
		}
		if want := javaPartition(r.Key, parts); int(r.Partition) != want {
			t.Errorf("record %d in partition %d, want %d (of %d)", i, r.Partition, want, parts)
		}
	}
}

func TestPartitionSwitchWaitEndsOnCancel(t *testing.T) {
	h := startHeld(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.s.Send(ctx, testRecord(heldTopic, movedKey(), 30, h.a)) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `topic "held" grew from 2 to 4 partitions`) {
			t.Fatalf("Send = %v, want context.Canceled naming the topic and its growth", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send still waiting 5s after its context was cancelled")
	}
	if n := partsOf(h.s, heldTopic); n != 2 {
		t.Fatalf("routing over %d partitions after a cancelled switch, want still 2", n)
	}
	h.unhold()
	if err := h.s.Send(context.Background(), testRecord(heldTopic, movedKey(), 30, h.a)); err != nil {
		t.Fatalf("Send after the cancelled one: %v", err)
	}
	if n := partsOf(h.s, heldTopic); n != 4 {
		t.Fatalf("routing over %d partitions, want 4", n)
	}
	waitAcked(t, h.a, 31, 10*time.Second)
}

func TestPartitionSwitchWaitEndsOnClose(t *testing.T) {
	h := startHeld(t, nil)
	done := make(chan error, 1)
	go func() { done <- h.s.Send(context.Background(), testRecord(heldTopic, movedKey(), 30, h.a)) }()
	time.Sleep(100 * time.Millisecond)
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		closed <- h.s.Close(ctx)
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Send = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send still waiting 5s after Close started")
	}
	h.unhold()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Close did not return")
	}
	if _, order := h.a.snapshot(); len(order) != 30 {
		t.Errorf("%d records acked after Close, want the 30 sent before it", len(order))
	}
}

func TestPartitionSwitchWaitEndsOnHalt(t *testing.T) {
	h := startHeld(t, func(c *Config) { c.MaxAttempts = 1 })
	done := make(chan error, 1)
	go func() { done <- h.s.Send(context.Background(), testRecord(heldTopic, movedKey(), 30, h.a)) }()
	time.Sleep(100 * time.Millisecond)
	h.failHeld()
	select {
	case err := <-done:
		var herr *HaltError
		if !errors.As(err, &herr) || herr.Topic != heldTopic {
			t.Fatalf("Send = %v, want the HaltError of topic %s", err, heldTopic)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send still waiting 10s after the sink halted")
	}
	if n := partsOf(h.s, heldTopic); n != 2 {
		t.Errorf("routing over %d partitions after the halt, want still 2", n)
	}
}
