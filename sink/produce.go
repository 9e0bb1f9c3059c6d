package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"

	"github.com/walrelay/walrelay/event"
)

// flush writes recs to the writer's partition and acks them in order. It
// returns nil when every record was acked, a *HaltError when the writer must
// stop, or the sink context's error when the sink is stopping.
//
// A record-level rejection (too large, invalid, policy, authorisation) of
// several records splits them in halves, written one after the other, until
// the rejected records stand alone: so a batch that is too large as a whole
// still gets through, and a bad record is isolated without reordering. A
// record rejected on its own halts the sink, or in dead_letter mode goes to
// the dead-letter topic. split is set for the halves: they do not retry
// record-level errors, which already failed for the whole batch.
func (w *writer) flush(recs []*event.Record, split bool) error {
	if w.refused != nil {
		return w.deadLetterAll(recs)
	}
	attempts, base, err := w.produce(recs, split)
	if err == nil {
		w.seq = nextSequence(w.seq, len(recs))
		w.ack(recs, base)
		return nil
	}
	if w.s.ctx.Err() != nil {
		return w.s.ctx.Err()
	}
	if !recordLevel(err) {
		return w.haltError(recs, attempts, err)
	}
	if len(recs) == 1 {
		if w.s.cfg.OnFailure == OnFailureDeadLetter {
			return w.deadLetter(recs[0], err)
		}
		return w.haltError(recs, attempts, err)
	}
	if !split {
		w.log.Warn().Err(err).Int("records", len(recs)).
			Msg("kafka: broker rejected a batch; splitting it to isolate the rejected records")
	}
	mid := len(recs) / 2
	if err := w.flush(recs[:mid], true); err != nil {
		return err
	}
	return w.flush(recs[mid:], true)
}

// produce writes recs as one request, retrying as Sink.retry does. It
// returns the attempts made, the offset of the first record and the error.
//
// A broker older than 2.5 answers UNKNOWN_PRODUCER_ID when it has dropped
// this producer's state on the partition (after producer.id.expiration.ms,
// a day by default, without writes there) and the sequence is not 0; newer
// brokers accept any first sequence then (KIP-360). With nothing else in
// flight on the partition, the sequence then starts again at 0, once.
func (w *writer) produce(recs []*event.Record, split bool) (int, int64, error) {
	attempts, base, err := w.produceAt(recs, split)
	if errors.Is(err, kafka.UnknownProducerId) && w.seq != 0 {
		w.log.Warn().Int32("sequence", w.seq).Msg("kafka: the broker no longer knows this producer on the partition " +
			"(its state expires after producer.id.expiration.ms without writes); starting the sequence again at 0")
		w.seq = 0
		var more int
		more, base, err = w.produceAt(recs, split)
		attempts += more
	}
	return attempts, base, err
}

// produceAt is one retried produce of recs at the writer's sequence.
func (w *writer) produceAt(recs []*event.Record, split bool) (int, int64, error) {
	var base int64
	attempts, err := w.s.retry(w.s.ctx, w.log, func(ctx context.Context, cl *kafka.Client) error {
		var err error
		base, err = w.s.produceOnce(ctx, cl, w.topic, w.partition, recs, nil, w.s.producer, w.seq)
		if err != nil && split && recordLevel(err) {
			err = &permanentError{err}
		}
		return err
	})
	return attempts, base, err
}

// produceOnce sends recs (each with its headers followed by extra) as one
// produce request with acks=all and returns the offset the broker gave the
// first record (-1 when the broker only said it had the batch already, see
// DUPLICATE_SEQUENCE_NUMBER). Without compression the batch is encoded by
// appendRecordSet, from producer p with base sequence seq, and sent raw;
// with it, kafka-go encodes and compresses, without a producer id.
// Each attempt encodes anew; a record-set buffer is reused (recordSets)
// only after the broker answered the request that carried it.
func (s *Sink) produceOnce(ctx context.Context, cl *kafka.Client, topic string, partition int,
	recs []*event.Record, extra []kafka.Header, p producer, seq int32) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	var res *kafka.ProduceResponse
	var err error
	if s.compression == 0 {
		buf := recordSets.Get().(*[]byte)
		*buf = appendRecordSet(*buf, recs, extra, time.Now().UnixMilli(), p, seq)
		res, err = cl.RawProduce(ctx, &kafka.RawProduceRequest{
			Topic:        topic,
			Partition:    partition,
			RequiredAcks: kafka.RequireAll,
			RawRecords:   protocol.RawRecordSet{Reader: bytes.NewReader(*buf)},
		})
		if err == nil {
			putRecordSet(buf, s.cfg.BatchMaxBytes) // answered: kafka-go is done with it
		}
	} else {
		res, err = cl.Produce(ctx, &kafka.ProduceRequest{
			Topic:        topic,
			Partition:    partition,
			RequiredAcks: kafka.RequireAll,
			Records:      kafka.NewRecordReader(toKafka(recs, extra)...),
			Compression:  s.compression,
		})
	}
	if err != nil {
		return 0, s.explainRouting(ctx, cl, topic, err)
	}
	if errors.Is(res.Error, kafka.DuplicateSequenceNumber) {
		return -1, nil // written before, older than the broker's cache of recent batches
	}
	if res.Error != nil {
		return 0, withRecordErrors(res.Error, res.RecordErrors)
	}
	return res.BaseOffset, nil
}

// explainRouting replaces kafka-go's "topic not found" / "no leader" routing
// errors by the reason its metadata is empty when there is one (typically
// that the brokers cannot be reached), so that the error says what is wrong.
// kafka-go's own text is left out then: with no metadata it says "topic not
// found" of a topic that exists, which reads as a reason to re-create it.
func (s *Sink) explainRouting(ctx context.Context, cl *kafka.Client, topic string, err error) error {
	var pErr protocol.Error
	if !errors.As(err, &pErr) {
		return err
	}
	if _, mErr := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}}); mErr != nil {
		return fmt.Errorf("%w (no metadata to route the request for topic %q to its leader)", mErr, topic)
	}
	return err
}

// withRecordErrors adds the broker's per-record messages to err.
func withRecordErrors(err error, recErrs map[int]error) error {
	if len(recErrs) == 0 {
		return err
	}
	idx := make([]int, 0, len(recErrs))
	for i := range recErrs {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	parts := make([]string, 0, len(idx))
	for _, i := range idx {
		parts = append(parts, fmt.Sprintf("record %d of the batch: %v", i, recErrs[i]))
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(parts, "; "))
}

// toKafka converts recs into kafka-go records, with extra headers appended
// to each. Every attempt converts anew into fresh slices: the readers are
// consumed by a request, and a request abandoned on timeout may still be
// encoded by kafka-go's connection goroutine, so nothing it references may be
// reused.
func toKafka(recs []*event.Record, extra []kafka.Header) []kafka.Record {
	n := 0
	for _, r := range recs {
		n += len(r.Headers) + len(extra)
	}
	hdrs := make([]kafka.Header, 0, n)
	out := make([]kafka.Record, len(recs))
	for i, r := range recs {
		start := len(hdrs)
		for _, h := range r.Headers {
			hdrs = append(hdrs, kafka.Header{Key: h.Key, Value: h.Value})
		}
		hdrs = append(hdrs, extra...)
		out[i] = kafka.Record{
			Key:     kafka.NewBytes(r.Key),
			Value:   kafka.NewBytes(r.Value),
			Headers: hdrs[start:len(hdrs):len(hdrs)],
		}
	}
	return out
}
