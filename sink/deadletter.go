package sink

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/segmentio/kafka-go"

	"github.com/walrelay/walrelay/event"
)

// Headers the sink adds to a record it writes to the dead-letter topic.
const (
	HeaderError             = "walrelay.error"
	HeaderOriginalTopic     = "walrelay.original.topic"
	HeaderOriginalPartition = "walrelay.original.partition"
)

// deadLetter writes rec, which the broker rejected with cause, to the
// dead-letter topic with its key, value and headers plus the walrelay.*
// headers, and acks it. The dead-letter topic is created if missing; keyed
// records are partitioned by key, others at random. Called from the writer's
// goroutine, so the partition's next record waits until rec is resolved. If
// the dead-letter write fails too, it returns a *HaltError; its Err is a
// *DeadLetterRefusedError when Kafka refuses the dead-letter topic for good.
func (w *writer) deadLetter(rec *event.Record, cause error) error {
	s := w.s
	dlq := s.cfg.DeadLetterTopic
	extra := []kafka.Header{
		{Key: HeaderError, Value: []byte(cause.Error())},
		{Key: HeaderOriginalTopic, Value: []byte(w.topic)},
		{Key: HeaderOriginalPartition, Value: []byte(strconv.Itoa(w.partition))},
	}
	n, err := s.partitions(s.ctx, dlq)
	attempts := 1
	if err == nil {
		p := dlqPartition(rec.Key, n)
		log := w.log.With().Str("dead_letter_topic", dlq).Int("dead_letter_partition", p).Logger()
		attempts, err = s.retry(s.ctx, log, func(ctx context.Context, cl *kafka.Client) error {
			_, err := s.produceOnce(ctx, cl, dlq, p, []*event.Record{rec}, extra, noProducer, -1)
			return err
		})
	}
	var refused *TopicRefusedError
	if errors.As(err, &refused) && refused.Topic == dlq { // for good: a fatal halt (refused.go)
		return w.haltError([]*event.Record{rec}, attempts, &DeadLetterRefusedError{Refused: refused, Cause: cause})
	}
	if err != nil {
		if s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		herr := w.haltError([]*event.Record{rec}, attempts,
			fmt.Errorf("%w; writing the record to dead-letter topic %q failed too: %w", cause, dlq, err))
		herr.DeadLetterTopic = dlq
		return herr
	}
	ev := w.log.Warn()
	if w.refused != nil {
		ev = w.log.Debug() // refusedTopic warned once for the whole topic
	}
	ev.Err(cause).Str("dead_letter_topic", dlq).Str("event_id", eventID(rec)).
		Msg("kafka: broker rejected a record; wrote it to the dead-letter topic")
	s.stats.deadLettered.Add(1)
	w.ack([]*event.Record{rec}, -1)
	return nil
}

// dlqPartition picks the dead-letter partition of a record with key among n.
func dlqPartition(key []byte, n int) int {
	if key == nil {
		return rand.IntN(n)
	}
	parts := make([]int, n)
	for i := range parts {
		parts[i] = i
	}
	return keyPartition(key, parts)
}
