package sink

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/walrelay/walrelay/event"
)

// TestIdempotentBrokerDropsRepeatedBatch, against a real broker: a batch
// sent twice with the same producer id and sequence (a retry whose first
// attempt was written after all) is acknowledged twice with the same offset
// and is in the log once; a batch that skips a sequence is refused with
// OUT_OF_ORDER_SEQUENCE_NUMBER, which the sink neither retries nor splits.
func TestIdempotentBrokerDropsRepeatedBatch(t *testing.T) {
	brokers := realBrokers(t)
	topic := uniqueTopic(t, brokers, "idempotent")
	createTopic(t, brokers, topic, 1, nil)
	s := startSink(t, realConfig(brokers))
	if s.producer == noProducer {
		t.Fatal("the real broker gave no producer id")
	}
	recs := func(n int) []*event.Record { return seqBatch(topic, 0, n) }
	produce := func(batch []*event.Record, seq int32) (int64, error) { return produceSeq(s, topic, batch, seq) }
	first := recs(5)
	base1, err := produce(first, 0)
	if err != nil {
		t.Fatal(err)
	}
	base2, err := produce(first, 0) // the retry
	if err != nil || base2 != base1 {
		t.Fatalf("repeated batch: offset %d, %v; want %d and no error", base2, err, base1)
	}
	if _, err := produce(recs(3), 5); err != nil {
		t.Fatalf("next batch: %v", err)
	}
	_, err = produce(recs(2), 100) // skips 8..99
	if !errors.Is(err, kafka.OutOfOrderSequenceNumber) || retriable(err) || recordLevel(err) {
		t.Fatalf("skipped sequence: %v (retriable %v, record level %v); want a final OUT_OF_ORDER_SEQUENCE_NUMBER",
			err, retriable(err), recordLevel(err))
	}
	if end := endOffsets(t, brokers, topic)[0]; end != 8 {
		t.Errorf("log end offset %d, want 8 (5 + 3 records, the repeat dropped)", end)
	}
	got := consume(t, brokers, topic, 8, 10*time.Second)
	for i, r := range got {
		if want := []int{0, 1, 2, 3, 4, 0, 1, 2}[i]; recordNumber(t, r) != want {
			t.Errorf("record %d is number %d, want %d", i, recordNumber(t, r), want)
		}
	}
}

// TestIdempotenceSettings: off asks for no producer id; on with
// compression fails validation; auto with compression produces without
// one (walrelay's idempotent batches are uncompressed).
func TestIdempotenceSettings(t *testing.T) {
	c := newFake(t)
	cfg := fastConfig(c.ListenAddrs())
	cfg.Idempotence = IdempotenceOff
	if s := startSink(t, cfg); s.producer != noProducer {
		t.Errorf("idempotence off: producer %+v", s.producer)
	}
	cfg.Idempotence, cfg.Compression = IdempotenceOn, "lz4"
	if err := cfg.Validate(); err == nil {
		t.Error("idempotence on with lz4 passed validation")
	}
	cfg.Idempotence = IdempotenceAuto
	if s := startSink(t, cfg); s.producer != noProducer {
		t.Errorf("auto with lz4: producer %+v", s.producer)
	}
	cfg.Compression = "none"
	if s := startSink(t, cfg); s.producer == noProducer {
		t.Error("auto without compression: no producer id from kfake")
	}
}

// TestSequenceAfterExpiredProducerState: a broker older than 2.5 (kfake
// limited to 2.4's API versions) answers UNKNOWN_PRODUCER_ID to a sequence
// it has no state for (as after producer.id.expiration.ms without writes;
// here a fresh producer id at sequence 7): the writer starts again at 0 and
// writes its batch once. A sequence that contradicts what the broker knows
// is OUT_OF_ORDER_SEQUENCE_NUMBER, and the writer gives up.
func TestSequenceAfterExpiredProducerState(t *testing.T) {
	c := newFake(t, kfake.MaxVersions(kversion.V2_4_0()))
	brokers := c.ListenAddrs()
	const topic = "seqreset"
	createTopic(t, brokers, topic, 1, nil)
	s := startSink(t, fastConfig(brokers))
	w := newWriter(s, topic, 0)
	w.seq = 7
	if err := w.flush(seqBatch(topic, 0, 3), false); err != nil {
		t.Fatalf("batch at a sequence the broker does not know: %v", err)
	}
	if w.seq != 3 {
		t.Errorf("next sequence %d, want 3 (restarted at 0)", w.seq)
	}
	w.seq = 100
	err := w.flush(seqBatch(topic, 3, 3), false)
	var halt *HaltError
	if !errors.As(err, &halt) || !errors.Is(err, kafka.OutOfOrderSequenceNumber) {
		t.Fatalf("sequence 100 where the broker expects 3: %v, want a HaltError for OUT_OF_ORDER_SEQUENCE_NUMBER", err)
	}
	if end := endOffsets(t, brokers, topic)[0]; end != 3 {
		t.Errorf("log end offset %d, want 3", end)
	}
}

// TestRealBrokerAcceptsUnknownProducerAtAnySequence: Kafka 2.5 and later
// take any first sequence from a producer they have no state for
// (KIP-360), so a partition idle past producer.id.expiration.ms costs
// nothing there.
func TestRealBrokerAcceptsUnknownProducerAtAnySequence(t *testing.T) {
	brokers := realBrokers(t)
	topic := uniqueTopic(t, brokers, "seqfirst")
	createTopic(t, brokers, topic, 1, nil)
	w := newWriter(startSink(t, realConfig(brokers)), topic, 0)
	w.seq = 7
	if err := w.flush(seqBatch(topic, 0, 3), false); err != nil || w.seq != 10 {
		t.Fatalf("first batch at sequence 7: %v, next sequence %d; want accepted, 10", err, w.seq)
	}
}

// produceSeq writes batch to partition 0 of topic as one request with s's
// producer id and base sequence seq, retried as the sink retries, and
// returns the batch's first offset.
func produceSeq(s *Sink, topic string, batch []*event.Record, seq int32) (int64, error) {
	var base int64
	_, err := s.retry(context.Background(), s.log, func(ctx context.Context, cl *kafka.Client) error {
		var err error
		base, err = s.produceOnce(ctx, cl, topic, 0, batch, nil, s.producer, seq)
		return err
	})
	return base, err
}

// seqBatch returns n records numbered from first, each with its own key.
func seqBatch(topic string, first, n int) []*event.Record {
	a := newAcks(first + n)
	out := make([]*event.Record, n)
	for i := range out {
		out[i] = testRecord(topic, first+i, first+i, a)
	}
	return out
}
