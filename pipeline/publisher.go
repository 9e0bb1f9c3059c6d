package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/decoder"
	"github.com/walrelay/walrelay/event"
)

// item is one unit of the reader's hand-off to the publisher, in stream
// order: a decoded message (res.Kind set) or a keepalive.
type item struct {
	res       decoder.Result
	keepalive bool
	walEnd    event.LSN // a keepalive's ServerWALEnd
	// replyRequested: the keepalive asks for a reply, as a shutting-down
	// PostgreSQL does until walrelay confirms all it sent (see step).
	replyRequested bool
	sent           time.Time // a Begin's send time (pgoutput's); zero for other messages
	received       time.Time // when the reader received a Begin; zero for other messages
}

// handoffBatch and handoffBytes (of WAL data) bound a batch the reader
// hands over at once; it hands over earlier at every commit and keepalive.
// With handoffDepth they bound what is decoded and not yet under the
// in-flight caps (invariant 5): a few MiB, or one row larger than that.
const (
	handoffBatch = 256
	handoffBytes = 1 << 20
)

// handoffDepth is how many batches may wait for the publisher.
const handoffDepth = 4

// publisher is the goroutine that turns decoded messages into tracked
// Kafka records: it filters, encodes and sends them, and keeps the
// transaction bookkeeping of the checkpoint tracker, in stream order.
// The reader decodes the next messages meanwhile. Keepalives go through it
// too, so that an idle advance can never overtake a transaction that the
// reader has decoded and the publisher has not begun.
type publisher struct {
	s        *session
	excluded map[string]bool
	in       chan []item   // from the reader; closed by it
	free     chan []item   // processed batches back to the reader, for reuse
	done     chan struct{} // closed when run returns
	err      error         // why run returned early; read after done

	// Owned by run's goroutine.
	txn    *checkpoint.Txn
	skipTx bool
	txBase uint64 // events before txn's first (openTxnEvents, shutdown.go)

	meta    txMeta        // transaction metadata (txmeta.go)
	waiter  sinkWait      // bounds waits under the in-flight caps
	events  atomic.Uint64 // change events Kafka acknowledged (eventCount), heartbeats not counted
	sent    uint64        // change events handed to the sink
	counter *tableCounter // what each record's acknowledgement counts (metrics_tables.go)
	acks    []checkpoint.AckCounter
	// readCounter counts the incremental catch-up's reads: per table (op r),
	// not in events.
	readCounter *tableCounter

	heartbeat *heartbeatLag // the Run's (runState.heartbeat)
	hbRecord  *heartbeatAck // measures the heartbeat being published
	hbWait    *heartbeatAck // measures the heartbeat waiting for the next record; nil if none
}

func newPublisher(s *session) *publisher {
	p := &publisher{s: s, excluded: excludedTables(s.cfg), waiter: sinkWait{s: s},
		meta: newTxMeta(s.cfg.TransactionMetadata, s.cfg.TopicPrefix),
		in:   make(chan []item, handoffDepth), free: make(chan []item, handoffDepth+1),
		done: make(chan struct{}), heartbeat: new(heartbeatLag)}
	p.counter = newTableCounter(s.tableCounts(), &p.events)
	p.readCounter = newTableCounter(s.tableCounts(), nil)
	if s.rs != nil {
		p.heartbeat = &s.rs.heartbeat
	}
	return p
}

// run processes batches until the reader closes in (then it returns after
// the last one) or something fails (then err says what; the reader stops).
// ctx bounds waits for the sink and the in-flight caps; the reader cancels
// it when it gives up on a graceful drain.
func (p *publisher) run(ctx context.Context) {
	defer close(p.done)
	defer p.waiter.stop()
	for {
		select {
		case batch, ok := <-p.in:
			if !ok {
				return
			}
			if p.err = p.apply(ctx, batch); p.err != nil {
				return
			}
			p.sendNowIfIdle(batch)
			clear(batch)
			select {
			case p.free <- batch[:0]:
			default:
			}
		case <-p.s.opts.Reload:
			// Also while idle: the reload kicks the publication poller.
			if p.err = p.s.reloadRules(ctx); p.err != nil {
				return
			}
		}
	}
}

// apply processes a batch, applying a pending SIGHUP between two messages
// (so each change is routed exactly once, under the old or the new rules).
func (p *publisher) apply(ctx context.Context, batch []item) error {
	for i := range batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-p.s.opts.Reload:
			if err := p.s.reloadRules(ctx); err != nil {
				return err
			}
		default:
		}
		if err := p.step(ctx, &batch[i]); err != nil {
			return err
		}
	}
	return nil
}

// step processes one item.
func (p *publisher) step(ctx context.Context, it *item) error {
	if it.keepalive {
		// Idle advance: only when nothing is in flight and no transaction is open.
		if p.txn == nil {
			// catchupIdle before the tracker can pass walEnd. AdvanceIdle
			// leaves out the postgres store's own WAL (checkpoint/tracker_idle.go),
			// except when the server asks for a reply: a shutting-down
			// PostgreSQL waits until walrelay confirms everything it sent,
			// its own save's WAL included (WalSndDone), before it writes
			// the shutdown checkpoint; not following it there held
			// "pg_ctl stop -m fast" until pg_ctl gave up.
			if p.s.catchupIdle(it.walEnd) || it.replyRequested {
				p.s.tracker.AdvanceIdleAny(it.walEnd)
			} else {
				p.s.tracker.AdvanceIdle(it.walEnd)
			}
			p.resolveHeartbeat()
		}
		return nil
	}
	if it.res.Kind == decoder.KindBegin {
		p.s.lagHistograms().begun(it.res.Tx.CommitTime, it.sent, it.received)
	}
	return p.applyResult(ctx, it.res)
}

// applyResult feeds a decoded message to the tracker and the sink.
func (p *publisher) applyResult(ctx context.Context, res decoder.Result) error {
	switch res.Kind {
	case decoder.KindBegin:
		p.txn, p.txBase = p.s.tracker.Begin(res.Tx.CommitLSN), p.sent
		p.txn.SetCommitTime(res.Tx.CommitTime)
		// Postgres may resend a transaction that ends at or before the start
		// position; those events are already in Kafka.
		p.skipTx = res.Tx.CommitLSN < p.s.start
		p.meta.begin(res.Tx)
	case decoder.KindCommit:
		if p.txn == nil {
			return fmt.Errorf("commit at %s without a begin", res.EndLSN)
		}
		if err := p.atCommit(ctx, p.txn); err != nil {
			return err
		}
		p.s.catchupAtCommit(res.EndLSN) // before the tracker can pass the end
		p.txn.Commit(res.EndLSN)
		p.txn, p.skipTx = nil, false
		if p.s.inc != nil {
			p.s.inc.committed(res.EndLSN)
		}
	case decoder.KindChanges:
		if p.txn == nil {
			return errors.New("change outside a transaction")
		}
		for _, ch := range res.Changes {
			if err := p.publish(ctx, p.txn, ch); err != nil {
				return err
			}
		}
	case decoder.KindStandalone:
		txn := p.s.tracker.Begin(res.EndLSN)
		for _, ch := range res.Changes {
			if err := p.publish(ctx, txn, ch); err != nil {
				return err
			}
		}
		txn.Commit(res.EndLSN)
	}
	return nil
}

// sendNowIfIdle lets the sink send what it holds without lingering once
// the server has sent everything it had: batch, just processed, ended with
// a keepalive (the walsender sends one each time it has caught up and
// waits for WAL, while walrelay's confirmed position is behind what it
// sent), no transaction is open and the reader has handed over nothing
// more. No record is coming then that the linger could add to the
// batches, and waiting would only delay them. While the server streams a
// backlog it sends no keepalives, and kafka.linger batches as before.
// (Older releases send that keepalive only once until walrelay's next
// status update; there the linger still applies to most transactions.)
func (p *publisher) sendNowIfIdle(batch []item) {
	if len(batch) > 0 && batch[len(batch)-1].keepalive && p.txn == nil && len(p.in) == 0 {
		p.s.sink.SendNow()
	}
}

// publish encodes one change and hands its records to the sink, each tracked
// in txn so that the checkpoint cannot pass it before Kafka acknowledged it.
func (p *publisher) publish(ctx context.Context, txn *checkpoint.Txn, ch *event.Change) error {
	if p.skipTx || (ch.Relation != nil && p.excluded[ch.Relation.QualifiedName()]) {
		return nil
	}
	if isSnapshotSignal(ch) {
		return p.snapshotSignal(ctx, ch)
	}
	if w, ok, werr := parseWatermark(ch); ok {
		if werr != nil {
			p.s.log.Warn().Err(werr).Msg("a watermark message that does not parse is ignored")
			return nil
		}
		return p.watermark(ctx, txn, ch, w)
	}
	if p.s.inc != nil {
		p.s.inc.observe(ch)
	}
	recs, err := p.records(ch)
	if err != nil {
		return fmt.Errorf("encoding change %s: %w", ch.ID(), err)
	}
	if p.s.inc != nil && len(recs) > 0 {
		p.s.inc.publishedChange(ch)
	}
	if len(recs) > 0 {
		if err := p.beforeChange(ctx, txn, ch); err != nil {
			return err
		}
	}
	p.acks = p.heartbeatAcks(ch, p.counter.acks(ch, recs, p.acks))
	n, err := p.s.sendCounted(ctx, txn, recs, p.acks, p.acquire)
	clear(p.acks)
	if n > 0 {
		if !isHeartbeat(ch) {
			p.sent += uint64(changeEvents(ch, recs[:n]))
		}
		p.meta.afterChange(ch, recs[:n])
	}
	return err
}

// records numbers ch in its transaction (txmeta.go) and returns the
// records to publish for it: a heartbeat's on the heartbeat topic (none
// when it is not measured), any other change's as the rules route it.
// The caller counts what the sink takes (meta.afterChange), so that the
// next change's positions follow.
func (p *publisher) records(ch *event.Change) ([]event.Record, error) {
	p.meta.number(ch)
	if !isHeartbeat(ch) {
		return p.s.route(ch)
	}
	if !p.measureHeartbeat(ch) {
		return nil, nil
	}
	ch.Topic = p.s.cfg.Heartbeat.Topic
	return p.s.enc.Encode(ch)
}

// acquire waits for room under the in-flight caps (invariant 5). The reader
// keeps sending status updates meanwhile, so wal_sender_timeout never fires.
func (p *publisher) acquire(ctx context.Context, size int) error {
	if p.s.tracker.TryAcquire(size) {
		return nil
	}
	return p.waiter.run(ctx, func(ctx context.Context) error { return p.s.tracker.Acquire(ctx, size) }, nil)
}
