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
// the dead-letter topic refuses rec as too large too, a smaller record takes
// its place: rec's key and headers with a DeadLetterSummary for a value
// (deadLetterSummary), and rec is acked. If the dead-letter write fails
// otherwise, it returns a *HaltError; its Err is a *DeadLetterRefusedError
// when Kafka refuses the dead-letter topic for good.
func (w *writer) deadLetter(rec *event.Record, cause error) error {
	s := w.s
	dlq := s.cfg.DeadLetterTopic
	extra := []kafka.Header{
		{Key: HeaderError, Value: []byte(cause.Error())},
		{Key: HeaderOriginalTopic, Value: []byte(w.topic)},
		{Key: HeaderOriginalPartition, Value: []byte(strconv.Itoa(w.partition))},
	}
	attempts, err := w.writeDeadLetter(rec, extra)
	summarised := false
	if err != nil && tooLarge(err) && s.ctx.Err() == nil {
		// Too large for the dead-letter topic as well: write what the record
		// was instead of the record, so that the pipeline goes on.
		sum := w.deadLetterSummary(rec, cause, err)
		var n int
		if n, err = w.writeDeadLetter(sum, extra); err == nil {
			summarised = true
		}
		attempts += n
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
	if w.refused != nil && !summarised {
		ev = w.log.Debug() // refusedTopic warned once for the whole topic
	}
	ev = ev.Err(cause).Str("dead_letter_topic", dlq).Str("event_id", eventID(rec))
	if summarised {
		ev.Int("value_bytes", len(rec.Value)).Msg("kafka: broker rejected a record, and the dead-letter topic " +
			"refused it as too large too; wrote a dead-letter record without its value (walrelay.value: omitted)")
	} else {
		ev.Msg("kafka: broker rejected a record; wrote it to the dead-letter topic")
	}
	s.stats.deadLettered.Add(1)
	w.ack([]*event.Record{rec}, -1)
	return nil
}

// writeDeadLetter writes rec with the extra headers to the dead-letter topic,
// retrying as the sink does; it returns the attempts made and the last error.
func (w *writer) writeDeadLetter(rec *event.Record, extra []kafka.Header) (int, error) {
	s := w.s
	dlq := s.cfg.DeadLetterTopic
	n, err := s.partitions(s.ctx, dlq)
	if err != nil {
		return 1, err
	}
	p := dlqPartition(rec.Key, n)
	log := w.log.With().Str("dead_letter_topic", dlq).Int("dead_letter_partition", p).Logger()
	return s.retry(s.ctx, log, func(ctx context.Context, cl *kafka.Client) error {
		_, err := s.produceOnce(ctx, cl, dlq, p, []*event.Record{rec}, extra, noProducer, -1)
		return err
	})
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
