package sink

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// everyThird returns a fault filter that matches every third request.
func everyThird() func(kmsg.Request) bool {
	var n atomic.Int64
	return func(kmsg.Request) bool { return n.Add(1)%3 == 0 }
}

// checkAtLeastOnceOrder checks records of each key as consumed: dropping
// repeats of records seen before (replays of a retried batch), every record
// appears, in send order.
func checkAtLeastOnceOrder(t *testing.T, consumed []int, keyOf func(int) int, n int) (dups int) {
	t.Helper()
	seen := make(map[int]bool, n)
	var firsts []int
	for _, i := range consumed {
		if seen[i] {
			dups++
			continue
		}
		seen[i] = true
		firsts = append(firsts, i)
	}
	if len(firsts) != n {
		t.Fatalf("consumed %d distinct records, want %d", len(firsts), n)
	}
	checkOrderPerKey(t, "consumed (first occurrences)", firsts, keyOf)
	return dups
}

// TestRetriableErrorsAreRetriedInOrder: without idempotence, requests the
// broker applied and then failed come back as duplicates, and nothing is
// lost or reordered (first occurrences in order).
func TestRetriableErrorsAreRetriedInOrder(t *testing.T) {
	if dups, _ := retryThroughFaults(t, IdempotenceOff); dups == 0 {
		t.Errorf("no duplicates although %d requests were applied and then failed", 8)
	}
}

// TestIdempotentRetriesWriteOnce: the same faults with an idempotent
// producer (the default): the broker drops the retried batches it had
// applied, so every record is in the log exactly once, in order.
func TestIdempotentRetriesWriteOnce(t *testing.T) {
	dups, total := retryThroughFaults(t, IdempotenceAuto)
	if dups != 0 || total != 3000 {
		t.Errorf("%d duplicates, %d records in the log; want 0 and 3000", dups, total)
	}
}

// retryThroughFaults sends 3000 records through retriable produce faults
// (some applied by the broker before failing) with idempotence idem, checks
// acks and at-least-once order, and returns the duplicates in the log and
// its record count.
func retryThroughFaults(t *testing.T, idem Idempotence) (dups int, total int64) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	const topic, n, keys = "retry", 3000, 11
	createTopic(t, brokers, topic, 3, nil)
	retriable := []*kerr.Error{
		kerr.NotLeaderForPartition, kerr.LeaderNotAvailable, kerr.NotEnoughReplicas, kerr.CorruptMessage,
		kerr.RequestTimedOut, kerr.NotEnoughReplicasAfterAppend, // the broker applies these requests, then fails them
	}
	var handles []*kfake.FaultHandle
	for _, e := range retriable {
		handles = append(handles, c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: e, Count: 4, When: everyThird()}))
	}
	cfg := fastConfig(brokers)
	cfg.MaxAttempts = 10
	cfg.BatchMaxRecords = 50
	cfg.Idempotence = idem
	s := startSink(t, cfg)
	if on := s.producer != noProducer; on != (idem != IdempotenceOff) {
		t.Fatalf("idempotence %d: producer %+v", idem, s.producer)
	}

	a := newAcks(n)
	keyOf := func(i int) int { return i % keys }
	for i := range n {
		if err := s.Send(context.Background(), testRecord(topic, keyOf(i), i, a)); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
	}
	a.wait(t, 30*time.Second)
	counts, order := a.snapshot()
	for i := range n {
		if counts[i] != 1 {
			t.Fatalf("record %d acked %d times", i, counts[i])
		}
	}
	checkOrderPerKey(t, "ack", order, keyOf)
	hits := 0
	for i, h := range handles {
		if h.Hits() != 4 {
			t.Errorf("fault %s hit %d times, want 4", retriable[i].Message, h.Hits())
		}
		hits += h.Hits()
	}
	// kfake may charge two faults to one request, so hits bound retries
	// from above only.
	if st := s.Stats(); st.Retries < int64(len(retriable)) || st.Retries > int64(hits) {
		t.Errorf("stats %+v: want between %d and %d retries", st, len(retriable), hits)
	}

	for _, end := range endOffsets(t, brokers, topic) {
		total += end
	}
	var consumed []int
	for _, r := range consume(t, brokers, topic, int(total), 10*time.Second) {
		consumed = append(consumed, recordNumber(t, r))
	}
	return checkAtLeastOnceOrder(t, consumed, keyOf, n), total
}

// TestLeaderMoveIsFollowed moves every partition's leader while the sink
// writes: kafka-go's cached metadata goes stale, the broker answers
// NOT_LEADER_FOR_PARTITION, and the sink must find the new leader within a
// few fast retries (long before kafka-go's own periodic metadata refresh).
func TestLeaderMoveIsFollowed(t *testing.T) {
	c := newFake(t, kfake.NumBrokers(3))
	brokers := c.ListenAddrs()
	const topic, n, keys = "moving", 2000, 7
	createTopic(t, brokers, topic, 3, nil)
	cfg := fastConfig(brokers)
	cfg.MaxAttempts = 4
	cfg.BatchMaxRecords = 50
	s := startSink(t, cfg)

	a := newAcks(n)
	keyOf := func(i int) int { return i % keys }
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if err := s.Send(context.Background(), testRecord(topic, keyOf(i), i, a)); err != nil {
				t.Fatalf("Send(%d): %v", i, err)
			}
		}
	}
	send(0, n/2)
	for p := range int32(3) {
		if err := c.MoveTopicPartition(topic, p, (c.LeaderFor(topic, p)+1)%3); err != nil {
			t.Fatalf("move partition %d: %v", p, err)
		}
	}
	send(n/2, n)
	a.wait(t, 30*time.Second)
	select {
	case err := <-s.Err():
		t.Fatalf("sink halted: %v", err)
	default:
	}
	_, order := a.snapshot()
	checkOrderPerKey(t, "ack", order, keyOf)
	if st := s.Stats(); st.Retries == 0 {
		t.Errorf("stats %+v: no retries, so the leader move was not exercised", st)
	}
	var consumed []int
	for _, r := range consume(t, brokers, topic, n, 10*time.Second) {
		consumed = append(consumed, recordNumber(t, r))
	}
	checkAtLeastOnceOrder(t, consumed, keyOf, n)
}

func TestNonRetriableErrorHalts(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	const topic = "halt"
	createTopic(t, brokers, topic, 1, nil)
	cfg := fastConfig(brokers)
	cfg.BatchMaxRecords = 10
	s := startSink(t, cfg)

	a := newAcks(100)
	for i := range 100 {
		if err := s.Send(context.Background(), testRecord(topic, 1, i, a)); err != nil {
			t.Fatal(err)
		}
	}
	a.wait(t, 10*time.Second)

	// Only the next produce request fails. A sink that moved on to the
	// following batch would write it: the partition would grow past 100.
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.UnknownServerError})
	b := newAcks(100)
	for i := 100; i < 200; i++ {
		if err := s.Send(context.Background(), testRecord(topic, 1, i, b)); err != nil {
			break // the sink may halt while we send
		}
	}
	var herr *HaltError
	select {
	case err := <-s.Err():
		if !errors.As(err, &herr) {
			t.Fatalf("Err() = %v, want a *HaltError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sink did not halt on UNKNOWN_SERVER_ERROR")
	}
	if fault.Hits() != 1 {
		t.Errorf("fault hit %d times, want 1 (no retry of a non-retriable error)", fault.Hits())
	}
	want := HaltError{Topic: topic, Partition: 0, First: 101, Last: 110, LastOffset: 99, FirstID: "id-00000100", LastID: "id-00000109", Attempts: 1}
	if herr.Topic != want.Topic || herr.Partition != want.Partition || herr.First != want.First || herr.Last != want.Last ||
		herr.LastOffset != want.LastOffset || herr.FirstID != want.FirstID || herr.LastID != want.LastID || herr.Attempts != want.Attempts {
		t.Errorf("HaltError %+v, want %+v", *herr, want)
	}
	for _, s := range []string{`topic "halt" partition 0`, "records 101-110 sent", "(event IDs id-00000100 .. id-00000109)", "after offset 99", "nothing after them was written"} {
		if !strings.Contains(herr.Error(), s) {
			t.Errorf("halt message %q does not contain %q", herr, s)
		}
	}

	time.Sleep(300 * time.Millisecond) // room for a wrong write to land
	if end := endOffsets(t, brokers, topic)[0]; end != 100 {
		t.Errorf("partition end offset %d after the halt, want 100: something was written after the failed batch", end)
	}
	if counts, _ := b.snapshot(); len(counts) != 0 {
		t.Errorf("records after the failed batch were acked: %v", slices.Collect(mapKeys(counts)))
	}
	if err := s.Send(context.Background(), testRecord(topic, 2, 999, newAcks(1))); !errors.As(err, &herr) {
		t.Errorf("Send after halt = %v, want the HaltError", err)
	}
	if err := s.Close(context.Background()); !errors.As(err, &herr) {
		t.Errorf("Close after halt = %v, want the HaltError", err)
	}
}

func mapKeys(m map[int]int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestBrokerClosedRetriesThenHalts(t *testing.T) {
	for _, mode := range []string{OnFailureHalt, OnFailureDeadLetter} {
		t.Run(mode, func(t *testing.T) {
			c := newFake(t)
			cfg := fastConfig(c.ListenAddrs())
			cfg.MaxAttempts = 4
			cfg.RequestTimeout = 2 * time.Second
			cfg.OnFailure, cfg.DeadLetterTopic = mode, "dlq"
			s := startSink(t, cfg)
			a := newAcks(10)
			for i := range 10 {
				if err := s.Send(context.Background(), testRecord("gone", i, i, a)); err != nil {
					t.Fatal(err)
				}
			}
			a.wait(t, 10*time.Second)

			c.Close()
			b := newAcks(10)
			for i := 10; i < 20; i++ {
				_ = s.Send(context.Background(), testRecord("gone", i, i, b))
			}
			var herr *HaltError
			select {
			case err := <-s.Err():
				if !errors.As(err, &herr) {
					t.Fatalf("Err() = %v, want a *HaltError", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("sink did not halt with the broker gone")
			}
			if !unreachable(herr.Err) || herr.Attempts != cfg.MaxAttempts {
				t.Errorf("halt error %v after %d attempts; want an unreachable-broker error after %d", herr, herr.Attempts, cfg.MaxAttempts)
			}
			if !strings.Contains(herr.Error(), "Check that the brokers are running") {
				t.Errorf("halt message %q does not say what to do", herr)
			}
			if strings.Contains(herr.Error(), "not found") { // kafka-go's routing error, with no metadata (auditchaos)
				t.Errorf("halt message %q says a topic that exists was not found", herr)
			}
			st := s.Stats()
			if st.Retries < int64(cfg.MaxAttempts-1) || st.DeadLettered != 0 || st.Records != 10 {
				t.Errorf("stats %+v: want >= %d retries, nothing dead-lettered, 10 records", st, cfg.MaxAttempts-1)
			}
		})
	}
}
