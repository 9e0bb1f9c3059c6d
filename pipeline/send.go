package pipeline

import (
	"context"
	"errors"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/sink"
)

// send hands recs to the sink in order, each first admitted under the
// in-flight caps by acquire and tracked in txn, so the checkpoint cannot pass
// txn before Kafka acknowledged every record (invariants 1 and 5). acquire is
// the caller's way of waiting (the reader keeps sending status updates, the
// snapshot reports progress). It returns how many records were sent.
func (s *session) send(ctx context.Context, txn *checkpoint.Txn, recs []event.Record,
	acquire func(context.Context, int) error) (int, error) {
	return s.sendCounted(ctx, txn, recs, nil, acquire)
}

// sendCounted is send, where Kafka's acknowledgement of recs[i] also tells
// acks[i] (nil or short acks: no one): the event counts and the heartbeat
// lag are measured when Kafka took a record, not when the sink did.
func (s *session) sendCounted(ctx context.Context, txn *checkpoint.Txn, recs []event.Record, acks []checkpoint.AckCounter,
	acquire func(context.Context, int) error) (int, error) {
	for i := range recs {
		rec := &recs[i]
		size := rec.Size()
		if err := acquire(ctx, size); err != nil {
			return i, err
		}
		var counter checkpoint.AckCounter
		if i < len(acks) {
			counter = acks[i]
		}
		rec.Ack = txn.TrackCounted(size, counter)
		if err := s.sink.Send(ctx, rec); err != nil {
			if errors.Is(err, sink.ErrTopicConfig) || errors.Is(err, sink.ErrTopicRefused) {
				err = fatal(err) // kafka.topic_config, or the topic's name, must change first
			}
			return i, err
		}
	}
	return len(recs), nil
}
