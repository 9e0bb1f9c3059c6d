package pipeline

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/snapshot"
)

// statusEvery is how often the status file is rewritten during a snapshot;
// progress lines are logged every reportEvery.
const statusEvery = 2 * time.Second

// snapshotPublisher turns snapshot rows into read events and hands them to
// the sink. It runs on the session goroutine (the only caller of route and
// sink.Send before streaming starts); the snapshot's reader goroutines only
// read and decode.
type snapshotPublisher struct {
	s        *session
	rd       *snapshot.Reader
	lsn      event.LSN
	reason   string
	started  time.Time
	txs      map[event.LSN]*event.Tx
	txn      *checkpoint.Txn
	progress *snapshot.Progress
	marks    *snapshotMarks // holds back a few reads until their source.snapshot marker is known

	nextStatus, nextLog time.Time
	waiter              sinkWait      // bounds waits in Acquire and Drain
	counter             *tableCounter // per-table event counts at acknowledgement (metrics)
	acks                []checkpoint.AckCounter
}

// newSnapshotPublisher publishes rd's rows; began is when the snapshot
// started (before planning), for its rate and source.ts_ms.
func newSnapshotPublisher(s *session, rd *snapshot.Reader, lsn event.LSN, reason string, began time.Time) *snapshotPublisher {
	p := &snapshotPublisher{
		s: s, rd: rd, lsn: lsn, reason: reason, started: began,
		txs:      map[event.LSN]*event.Tx{},
		progress: snapshot.NewProgress(rd.Plans(), nil),
		nextLog:  time.Now().Add(reportEvery),
		waiter:   sinkWait{s: s},
		counter:  newTableCounter(s.tableCounts(), nil), // snapshot reads are not in walrelay_events_total
	}
	p.marks = newSnapshotMarks(rd.Plans(), p.emit)
	return p
}

// run reads the snapshot and publishes every row, then waits until Kafka
// acknowledged all of them. The rows form one tracker transaction that ends
// at the session's start position.
//
// A snapshot that ends before that (a stop, a halt) writes its status as
// SnapshotInterrupted: it is taken again from its start the next time.
func (p *snapshotPublisher) run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			p.writeStatus(SnapshotInterrupted)
		}
	}()
	defer p.waiter.stop()
	p.s.rs.metrics.snapshotting(p.progress, true)
	defer p.s.rs.metrics.snapshotting(p.progress, false)
	p.txn = p.s.tracker.Begin(p.lsn)
	for _, pl := range p.rd.Plans() {
		if pl.Rows == 0 {
			p.progress.LogTable(p.s.log, pl)
		}
	}
	err = p.readAll(ctx)
	if err == nil {
		err = p.marks.finish(ctx)
	}
	p.txn.Commit(p.s.start)
	if err != nil {
		return err
	}
	return p.drain(ctx)
}

// readAll runs the snapshot's readers and publishes their batches as they come.
func (p *snapshotPublisher) readAll(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan *snapshot.Batch, 2*p.s.cfg.Snapshot.Parallelism)
	readErr := make(chan error, 1)
	go func() { readErr <- p.rd.Read(ctx, out) }()
	var err error
	for b := range out {
		if err != nil {
			continue // drain until Read closes out
		}
		if err = p.batch(ctx, b); err != nil {
			cancel()
		}
	}
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	return err
}

// batch routes one batch's rows and hands those the rules publish to the
// markers (snapshotMarks), which send them once their marker is known.
func (p *snapshotPublisher) batch(ctx context.Context, b *snapshot.Batch) error {
	for i, row := range b.Rows {
		ch, err := p.change(b.Table, b.Row+uint64(i), row)
		if err != nil {
			return err
		}
		recs, err := p.route(ch)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			continue // the rules drop it
		}
		if err := p.marks.passed(ctx, b.Table, b.Row+uint64(i), ch, recs); err != nil {
			return err
		}
	}
	if err := p.marks.read(ctx, b.Table, b.Row, len(b.Rows)); err != nil {
		return err
	}
	if p.progress.Add(b.Table, len(b.Rows)) {
		p.progress.LogTable(p.s.log, b.Table)
	}
	p.report()
	return nil
}

// change builds the read event of row idx (0-based, in chunk-key order) of
// table t. Its ID is derived from the snapshot's LSN and the row's ordinal
// (snapshot.EventPosition), so it does not depend on read timing.
func (p *snapshotPublisher) change(t *snapshot.TablePlan, idx uint64, row []any) (*event.Change, error) {
	commit, ord, err := snapshot.EventPosition(p.lsn, t.Base+idx)
	if err != nil {
		return nil, err
	}
	tx := p.txs[commit]
	if tx == nil {
		tx = &event.Tx{Xid: p.rd.TxID(), CommitLSN: commit, CommitTime: p.started}
		p.txs[commit] = tx
	}
	return &event.Change{
		Op: event.OpRead, Tx: tx, Ordinal: ord, CollectionOrder: uint32(min(idx+1, math.MaxUint32)),
		LSN: p.lsn, Relation: t.Relation, After: row, Snapshot: markTrue,
	}, nil
}

// route routes one read event (as it is, source.snapshot "true").
func (p *snapshotPublisher) route(ch *event.Change) ([]event.Record, error) {
	recs, err := p.s.route(ch)
	if err != nil {
		return nil, fmt.Errorf("encoding snapshot row %s of %s: %w", ch.ID(), ch.Relation.QualifiedName(), err)
	}
	return recs, nil
}

// emit sends a held read with source.snapshot mark: as routed when mark is
// "true"; else routed again with mark (the rules decide the same again),
// which snapshotMarks asks for a few reads per table only.
func (p *snapshotPublisher) emit(ctx context.Context, h heldRead, mark string) error {
	ch, recs := h.ch, h.recs
	if mark != ch.Snapshot {
		c := *ch
		c.Snapshot = mark
		var err error
		if recs, err = p.route(&c); err != nil {
			return err
		}
		ch = &c
	}
	p.acks = p.counter.acks(ch, recs, p.acks)
	_, err := p.s.sendCounted(ctx, p.txn, recs, p.acks, p.acquire)
	clear(p.acks)
	return err
}

// acquire waits for room under the in-flight caps (invariant 5), reporting
// progress and watching the sink while it waits.
func (p *snapshotPublisher) acquire(ctx context.Context, size int) error {
	return p.waiter.run(ctx, func(ctx context.Context) error { return p.s.tracker.Acquire(ctx, size) }, p.report)
}

// drain waits until Kafka acknowledged every snapshot record.
func (p *snapshotPublisher) drain(ctx context.Context) error {
	return p.waiter.run(ctx, p.s.tracker.Drain, p.report)
}

// report logs progress every reportEvery and rewrites the status file every
// statusEvery.
func (p *snapshotPublisher) report() {
	now := time.Now()
	if now.After(p.nextLog) {
		p.nextLog = now.Add(reportEvery)
		p.progress.LogRunning(p.s.log)
	}
	if now.After(p.nextStatus) {
		p.nextStatus = now.Add(statusEvery)
		p.writeStatus("running")
	}
}

// complete writes the final status, then logs the summary (in that order, so
// whoever sees "snapshot completed" finds the status file done).
func (p *snapshotPublisher) complete() {
	done, _, _, _ := p.progress.Totals()
	took := time.Since(p.started)
	p.writeStatus("done")
	p.s.log.Info().Uint64("rows", done).Int("tables", len(p.rd.Plans())).Stringer("snapshot_lsn", p.lsn).
		Float64("took_seconds", logfield.Seconds(took)).Float64("rows_per_second", math.Round(float64(done)/took.Seconds())).
		Msg("snapshot completed")
}

func (p *snapshotPublisher) writeStatus(state string) {
	done, total, rate, eta := p.progress.Totals()
	events, _, _ := p.s.tracker.Stats()
	st := Status{PID: os.Getpid(), Slot: p.s.cfg.Postgres.Slot, UpdatedAt: time.Now().UTC(),
		Events: done, InflightEvents: events}
	snap := &SnapshotStatus{State: state, Reason: p.reason, LSN: p.lsn.String(), StartedAt: p.started.UTC(),
		RowsDone: done, RowsTotal: total, RowsPerSecond: math.Round(rate), ETASeconds: eta.Seconds(),
		Tables: p.progress.Tables()}
	if state == SnapshotInterrupted {
		snap.interrupt()
	}
	p.s.snapStatus = snap // the reader's reports keep it in the status file
	st.Snapshot = snap
	if p.s.rs != nil {
		fillHeartbeat(&st, &p.s.rs.heartbeat, p.s.cfg.Heartbeat.Interval)
	}
	if err := WriteStatus(p.s.cfg.DataDir, st); err != nil {
		p.s.log.Debug().Err(err).Msg("status file not written")
	}
}
