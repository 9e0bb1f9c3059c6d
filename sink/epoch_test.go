package sink

import (
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestRealBrokerFencesPreviousEpoch: a sink that continues the previous
// sink's producer (Config.ResumeProducer, as the pipeline does after a
// restart) takes the next epoch and starts its sequences at 0; a request of
// the previous sink that reaches the broker afterwards (one abandoned on a
// timeout) is refused with INVALID_PRODUCER_EPOCH instead of landing after
// the new sink's records.
func TestRealBrokerFencesPreviousEpoch(t *testing.T) {
	brokers := realBrokers(t)
	topic := uniqueTopic(t, brokers, "epoch")
	createTopic(t, brokers, topic, 1, nil)
	produce := func(s *Sink, first, n int, seq int32) error {
		_, err := produceSeq(s, topic, seqBatch(topic, first, n), seq)
		return err
	}
	old := startSink(t, realConfig(brokers))
	prev, ok := old.Producer()
	if !ok {
		t.Fatal("the real broker gave no producer id")
	}
	if err := produce(old, 0, 3, 0); err != nil {
		t.Fatalf("old sink, records 0-2: %v", err)
	}

	cfg := realConfig(brokers)
	cfg.ResumeProducer = &prev
	next := startSink(t, cfg)
	if got, _ := next.Producer(); got.ID != prev.ID || got.Epoch != prev.Epoch+1 {
		t.Fatalf("resumed producer %+v, want id %d epoch %d", got, prev.ID, prev.Epoch+1)
	}
	if err := produce(next, 3, 3, 0); err != nil {
		t.Fatalf("new sink, records 3-5 at sequence 0: %v", err)
	}
	err := produce(old, 6, 2, 3) // the old sink's next batch, arriving late
	if !errors.Is(err, kafka.InvalidProducerEpoch) || retriable(err) {
		t.Fatalf("late batch of the previous epoch: %v (retriable %v); want a final INVALID_PRODUCER_EPOCH", err, retriable(err))
	}
	if end := endOffsets(t, brokers, topic)[0]; end != 6 {
		t.Errorf("log end offset %d, want 6 (the late batch refused)", end)
	}
	for i, r := range consume(t, brokers, topic, 6, 10*time.Second) {
		if n := recordNumber(t, r); n != i {
			t.Errorf("record %d is number %d", i, n)
		}
	}
}
