package sink

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sendBigInTheMiddle sends records 0..10 of one key at once; record 5 has a
// 5000-byte value. It returns the acks.
func sendBigInTheMiddle(t *testing.T, s *Sink, topic string) *acks {
	t.Helper()
	a := newAcks(11)
	for i := range 11 {
		rec := testRecord(topic, 1, i, a)
		if i == 5 {
			rec.Value = bytes.Repeat([]byte("x"), 5000)
		}
		if err := s.Send(context.Background(), rec); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
	}
	return a
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// TestDeadLetterMessageTooLarge: a real MESSAGE_TOO_LARGE (the topic's
// max.message.bytes is 2000) in dead_letter mode. The batch is split until
// the big record stands alone; it goes to the dead-letter topic with its key,
// value, headers and the walrelay.* headers; every record is acked, in order.
func TestDeadLetterMessageTooLarge(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	maxBytes := "2000"
	createTopic(t, brokers, "big", 1, map[string]*string{"max.message.bytes": &maxBytes})
	cfg := fastConfig(brokers)
	cfg.OnFailure, cfg.DeadLetterTopic = OnFailureDeadLetter, "walrelay.dlq"
	s := startSink(t, cfg)

	a := sendBigInTheMiddle(t, s, "big")
	a.wait(t, 10*time.Second)
	counts, order := a.snapshot()
	for i := range 11 {
		if counts[i] != 1 || order[i] != i {
			t.Fatalf("acks %v (counts %v), want each of 0..10 once, in order", order, counts)
		}
	}
	var got []int
	for _, r := range consume(t, brokers, "big", 10, 10*time.Second) {
		got = append(got, recordNumber(t, r))
	}
	if want := []int{0, 1, 2, 3, 4, 6, 7, 8, 9, 10}; !equal(got, want) {
		t.Errorf("topic holds records %v, want %v", got, want)
	}
	dlq := consume(t, brokers, "walrelay.dlq", 1, 10*time.Second)
	if len(dlq) != 1 {
		t.Fatalf("dead-letter topic holds %d records, want 1", len(dlq))
	}
	r := dlq[0]
	if string(r.Key) != "key-1" || len(r.Value) != 5000 || header(r, "ce_id") != "id-00000005" || header(r, "content-type") != "text/plain" {
		t.Errorf("dead-lettered record: key %q, %d value bytes, headers %v", r.Key, len(r.Value), r.Headers)
	}
	if e := header(r, HeaderError); !strings.Contains(e, "[10] Message Size Too Large") {
		t.Errorf("%s header %q does not name MESSAGE_TOO_LARGE", HeaderError, e)
	}
	if header(r, HeaderOriginalTopic) != "big" || header(r, HeaderOriginalPartition) != "0" {
		t.Errorf("original topic/partition headers: %v", r.Headers)
	}
	if st := s.Stats(); st.DeadLettered != 1 || st.Records != 11 || st.Pending != 0 {
		t.Errorf("stats %+v, want 1 dead-lettered, 11 records, none pending", st)
	}
}

// TestDeadLetterInvalidRecord: an injected INVALID_RECORD for every request
// that carries a "poison" record.
func TestDeadLetterInvalidRecord(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	createTopic(t, brokers, "pois", 2, nil)
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "pois", Err: kerr.InvalidRecord, Count: -1,
		When: func(req kmsg.Request) bool {
			for _, tp := range req.(*kmsg.ProduceRequest).Topics {
				for _, p := range tp.Partitions {
					if bytes.Contains(p.Records, []byte("poison")) {
						return true
					}
				}
			}
			return false
		}})
	cfg := fastConfig(brokers)
	cfg.OnFailure, cfg.DeadLetterTopic = OnFailureDeadLetter, "dlq"
	s := startSink(t, cfg)
	const n = 200
	a := newAcks(n)
	keyOf := func(i int) int { return i % 5 }
	for i := range n {
		rec := testRecord("pois", keyOf(i), i, a)
		if i%50 == 7 {
			rec.Value = []byte("poison")
		}
		if err := s.Send(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	a.wait(t, 10*time.Second)
	_, order := a.snapshot()
	checkOrderPerKey(t, "ack", order, keyOf)
	dlq := consume(t, brokers, "dlq", 4, 10*time.Second)
	var ids []string
	for _, r := range dlq {
		ids = append(ids, header(r, "ce_id"))
		if !strings.Contains(header(r, HeaderError), "[87] Invalid Record") {
			t.Errorf("error header %q", header(r, HeaderError))
		}
	}
	if want := "id-00000007 id-00000057 id-00000107 id-00000157"; strings.Join(sorted(ids), " ") != want {
		t.Errorf("dead-lettered %v, want %s", ids, want)
	}
	if got := len(consume(t, brokers, "pois", n-4, 10*time.Second)); got != n-4 {
		t.Errorf("topic holds %d records, want %d", got, n-4)
	}
}

// TestHaltModeIsolatesRejectedRecord: the same big record in halt mode. The
// records before it are written, it halts the sink, nothing after it is
// written or acked.
func TestHaltModeIsolatesRejectedRecord(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	maxBytes := "2000"
	createTopic(t, brokers, "big", 1, map[string]*string{"max.message.bytes": &maxBytes})
	s := startSink(t, fastConfig(brokers))
	a := sendBigInTheMiddle(t, s, "big")
	var herr *HaltError
	select {
	case err := <-s.Err():
		if !errors.As(err, &herr) {
			t.Fatalf("Err() = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no halt")
	}
	if herr.First != 6 || herr.Last != 6 || herr.FirstID != "id-00000005" || herr.LastOffset != 4 {
		t.Errorf("HaltError %+v, want record 6 (id-00000005) after offset 4", *herr)
	}
	if !strings.Contains(herr.Error(), "max.message.bytes") || !strings.Contains(herr.Error(), "dead_letter") {
		t.Errorf("halt message %q does not say what to do", herr)
	}
	time.Sleep(200 * time.Millisecond)
	if end := endOffsets(t, brokers, "big")[0]; end != 5 {
		t.Errorf("partition end offset %d, want 5 (records 0..4)", end)
	}
	if _, order := a.snapshot(); !equal(order, []int{0, 1, 2, 3, 4}) {
		t.Errorf("acked %v, want 0..4", order)
	}
}

// TestOversizedBatchIsSplit: every record fits the topic's limit but a batch
// of them does not. Splitting gets all of them through in order, in halt mode.
func TestOversizedBatchIsSplit(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	maxBytes := "3000"
	createTopic(t, brokers, "split", 1, map[string]*string{"max.message.bytes": &maxBytes})
	s := startSink(t, fastConfig(brokers))
	const n = 40
	a := newAcks(n)
	for i := range n {
		rec := testRecord("split", 1, i, a)
		rec.Value = bytes.Repeat([]byte{byte('a' + i%26)}, 500)
		if err := s.Send(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	a.wait(t, 10*time.Second)
	_, order := a.snapshot()
	checkOrderPerKey(t, "ack", order, func(int) int { return 1 })
	var got []int
	for _, r := range consume(t, brokers, "split", n, 10*time.Second) {
		got = append(got, recordNumber(t, r))
	}
	checkOrderPerKey(t, "consumed", got, func(int) int { return 1 })
	if len(got) != n {
		t.Errorf("consumed %d records, want %d", len(got), n)
	}
}

func TestDeadLetterWriteFailureHalts(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	maxBytes := "2000"
	createTopic(t, brokers, "big", 1, map[string]*string{"max.message.bytes": &maxBytes})
	createTopic(t, brokers, "dlq", 1, nil)
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "dlq", Err: kerr.TopicAuthorizationFailed, Count: -1})
	cfg := fastConfig(brokers)
	cfg.OnFailure, cfg.DeadLetterTopic = OnFailureDeadLetter, "dlq"
	s := startSink(t, cfg)
	a := sendBigInTheMiddle(t, s, "big")
	select {
	case err := <-s.Err():
		for _, want := range []string{"record 6 sent", "(event ID id-00000005)", "Message Size Too Large",
			`dead-letter topic "dlq" failed too`, "Topic Authorization Failed", `Make dead-letter topic "dlq" writable`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("halt error %q does not contain %q", err, want)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no halt")
	}
	if _, order := a.snapshot(); !equal(order, []int{0, 1, 2, 3, 4}) {
		t.Errorf("acked %v, want 0..4", order)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
