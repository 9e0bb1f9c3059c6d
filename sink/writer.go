package sink

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
)

// writer owns one topic partition: one goroutine takes records from its queue
// in Send order, gathers them into a batch, produces the batch and waits for
// the broker's answer, acks the records in order, and only then starts the
// next batch. With exactly one produce request in flight per partition, a
// later batch can never land before an earlier one; a retried batch can only
// repeat itself.
type writer struct {
	s         *Sink
	topic     string
	partition int
	queue     *recordQueue  // Send -> run; closed by Close
	growth    *growth       // the topic's; nil only in tests
	batches   atomic.Uint64 // batches taken from the queue (sticky partitioner)
	log       zerolog.Logger

	// A writer lingering over a batch does not wait on queue: a goroutine
	// parked on a channel is woken by every send, and those wake-ups were a
	// tenth of walrelay's CPU at moderate load. Send signals ready instead
	// once the queue holds a batch's worth (queuedBytes or records).
	ready       chan struct{} // capacity 1
	queuedBytes atomic.Int64  // Size of the records in queue
	needRecords atomic.Int64  // queued records that fill the batch being collected
	needBytes   atomic.Int64  // queued bytes that fill it
	urgent      atomic.Uint64 // raised by SendNow: what is queued goes out without lingering
	touched     bool          // in the sink's touched list; owned by the Send goroutine

	// Owned by run's goroutine.
	batch      []*event.Record
	bytes      int
	carry      *event.Record // taken from the queue, belongs to the next batch
	linger     *time.Timer
	served     uint64 // the urgent value whose records were all taken into a batch
	acked      uint64 // records of this partition acked, dead-lettered ones included
	lastOffset int64  // offset of the last record acked in the partition, -1 if none
	seq        int32  // base sequence of the next batch (idempotent producer)

	// refused is set on the writer of a topic Kafka refuses (dead_letter
	// mode): it writes every record to the dead-letter topic, in Send order.
	refused *TopicRefusedError
}

func newWriter(s *Sink, topic string, partition int) *writer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	w := &writer{
		s:          s,
		topic:      topic,
		partition:  partition,
		queue:      newRecordQueue(2 * s.cfg.BatchMaxRecords),
		ready:      make(chan struct{}, 1),
		log:        s.log.With().Str("topic", topic).Int("partition", partition).Logger(),
		linger:     t,
		lastOffset: -1,
	}
	w.needFull()
	return w
}

// run is the writer's goroutine. It returns when the queue is closed and
// drained, when the sink's context ends (halt, or Close giving up), or after
// halting the sink because a batch could not be written; in the last two
// cases the records still queued are left unacked.
func (w *writer) run() {
	defer w.s.writers.Done()
	for {
		open := w.collect()
		if len(w.batch) > 0 {
			w.batches.Add(1)
			err := w.flush(w.batch, false)
			var halt *HaltError
			if errors.As(err, &halt) {
				w.s.halt(halt)
			}
			if err != nil {
				return
			}
			clear(w.batch)
			w.batch, w.bytes = w.batch[:0], 0
		}
		if !open || w.s.ctx.Err() != nil {
			return
		}
	}
}

// collect gathers the next batch: it waits for a first record, then takes
// more until the batch is full, Linger has passed since the first one, or
// the queue is empty after a SendNow; while it lingers it drains the queue
// only when Send signals a batch's worth or SendNow was called, or when
// Linger ends. It returns false when the queue is closed or the sink's
// context ended.
func (w *writer) collect() bool {
	if w.carry != nil {
		w.add(w.carry, w.carry.Size())
		w.carry = nil
	} else {
		rec := w.next()
		if rec == nil {
			return false
		}
		w.add(rec, w.received(rec))
	}
	if w.full() {
		return true
	}
	w.linger.Reset(w.s.cfg.Linger)
	defer w.linger.Stop()
	defer w.needFull()
	for {
		urgent := w.urgent.Load() // before the drain: what SendNow covered is queued
		open, full := w.drain()
		if !open || full {
			return open
		}
		if urgent != w.served {
			w.served = urgent
			return true
		}
		w.needRecords.Store(int64(w.s.cfg.BatchMaxRecords - len(w.batch)))
		w.needBytes.Store(int64(w.s.cfg.BatchMaxBytes - w.bytes))
		open, full = w.drain() // what Send queued before it could see the new need
		if !open || full {
			return open
		}
		select {
		case <-w.linger.C:
			open, _ := w.drain()
			return open
		case <-w.ready:
		case <-w.s.ctx.Done():
			return false
		}
	}
}

// next waits for the first record of a batch; nil when the queue is closed
// and empty or the sink's context ended. A writer about to wait releases
// its batch's storage beyond queueKeep, as the queue does (recordQueue.wait):
// a partition that receives nothing more keeps neither.
func (w *writer) next() *event.Record {
	for {
		rec, closed := w.queue.pop()
		if rec != nil || closed {
			return rec
		}
		if cap(w.batch) > queueKeep {
			w.batch = nil
		}
		if !w.queue.wait(w.s.ctx.Done()) {
			return nil
		}
	}
}

// drain takes queued records, without waiting, until the batch is full
// (full; a record that would overflow it is kept in carry) or the queue is
// empty. open is false once the queue is closed and empty and nothing is
// carried over: a carried record still needs a batch of its own.
func (w *writer) drain() (open, full bool) {
	closed := w.queue.drain(w)
	if w.carry != nil {
		return true, true
	}
	return !closed, w.full()
}

// accept takes rec, drained from the queue, into the batch, or into carry
// if it would overflow the batch's bytes; false once the batch is full.
func (w *writer) accept(rec *event.Record) bool {
	size := w.received(rec)
	if w.bytes+size > w.s.cfg.BatchMaxBytes {
		w.carry = rec
		return false
	}
	w.add(rec, size)
	return !w.full()
}

// received accounts for rec leaving the queue and returns its size.
func (w *writer) received(rec *event.Record) int {
	size := rec.Size()
	w.queuedBytes.Add(-int64(size))
	return size
}

// signalIfBatch wakes the writer if the queue holds what fills the batch it
// collects (a whole batch while it is not collecting). Called by Send after
// queueing a record.
func (w *writer) signalIfBatch() {
	if int64(w.queue.len()) >= w.needRecords.Load() || w.queuedBytes.Load() >= w.needBytes.Load() {
		w.signal()
	}
}

// enqueue puts rec in the queue, waiting for room while it holds two
// batches until ctx ends, the sink halts or Close starts. Called by Send.
func (w *writer) enqueue(ctx context.Context, rec *event.Record) error {
	for !w.queue.tryPush(rec) {
		select {
		case <-w.queue.room:
		case <-w.s.halted:
			return w.s.haltErr
		case <-w.s.closing.Done():
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("kafka: waiting for room in the queue of topic %q partition %d: %w", w.topic, w.partition, ctx.Err())
		}
	}
	return nil
}

// needFull sets the signal's thresholds to a whole batch.
func (w *writer) needFull() {
	w.needRecords.Store(int64(w.s.cfg.BatchMaxRecords))
	w.needBytes.Store(int64(w.s.cfg.BatchMaxBytes))
}

// signal wakes the writer if it lingers; a signal it does not need costs
// one extra look at the queue.
func (w *writer) signal() {
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

// add appends rec, of size bytes, to the batch.
func (w *writer) add(rec *event.Record, size int) {
	w.batch = append(w.batch, rec)
	w.bytes += size
}

func (w *writer) full() bool {
	return len(w.batch) >= w.s.cfg.BatchMaxRecords || w.bytes >= w.s.cfg.BatchMaxBytes
}

// ack acks recs in order once Kafka has them (base is the offset of the
// first, -1 when they went to the dead-letter topic). The counters are
// updated first, so whoever sees an ack sees it counted; the topic's
// resolved count last, so a Send waiting for a partition switch (regrow)
// goes on only after the Ack callbacks ran.
func (w *writer) ack(recs []*event.Record, base int64) {
	n := int64(len(recs))
	w.acked += uint64(n)
	if base >= 0 {
		w.lastOffset = base + n - 1
		w.s.stats.batches.Add(1)
	}
	w.s.stats.records.Add(n)
	w.s.stats.pending.Add(-n)
	for _, r := range recs {
		if r.Ack != nil {
			r.Ack()
		}
	}
	if w.growth != nil {
		w.growth.resolve(uint64(n))
	}
}

// haltError describes recs, the records the writer gives up on.
func (w *writer) haltError(recs []*event.Record, attempts int, err error) *HaltError {
	return &HaltError{
		Topic:      w.topic,
		Partition:  w.partition,
		First:      w.acked + 1,
		Last:       w.acked + uint64(len(recs)),
		LastOffset: w.lastOffset,
		FirstID:    eventID(recs[0]),
		LastID:     eventID(recs[len(recs)-1]),
		Attempts:   attempts,
		Err:        err,
	}
}

// eventID returns rec's ce_id header, "" if it has none.
func eventID(rec *event.Record) string {
	for _, h := range rec.Headers {
		if h.Key == "ce_id" {
			return string(h.Value)
		}
	}
	return ""
}
